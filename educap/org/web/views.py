from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from educap.accounts.scope import scope_for
from educap.core.pagination import paginate
from educap.org import selectors as org_selectors
from educap.people.selectors import headcount_by_role_and_sex, person_list


@login_required
def tree(request: HttpRequest) -> HttpResponse:
    """The hierarchy, loaded one level at a time (htmx) so 100,000 units stay fast."""
    query = request.GET.get("q", "").strip()
    context = {
        "shortcuts": org_selectors.unit_shortcuts(user=request.user),
        "roots": org_selectors.unit_roots(),
        "query": query,
        "results": org_selectors.unit_search(query=query) if query else None,
    }
    if request.htmx and request.htmx.target == "unit-search-results":
        return render(request, "org/partials/search_results.html", context)
    return render(request, "org/tree.html", context)


CHILDREN_BATCH = 200


@login_required
def children(request: HttpRequest, code: str) -> HttpResponse:
    """One level of the tree, in batches so a district with thousands of schools stays light."""
    unit = org_selectors.unit_get(code=code)
    try:
        offset = max(0, int(request.GET.get("offset", "0")))
    except ValueError:
        offset = 0
    batch = list(org_selectors.unit_children(unit=unit)[offset : offset + CHILDREN_BATCH + 1])
    more = len(batch) > CHILDREN_BATCH
    return render(
        request,
        "org/partials/tree_children.html",
        {
            "units": batch[:CHILDREN_BATCH],
            "parent": unit,
            "next_offset": offset + CHILDREN_BATCH if more else None,
        },
    )


@login_required
def picker(request: HttpRequest) -> HttpResponse:
    """Suggestions for the org-unit picker (a datalist filled as the user types)."""
    units = org_selectors.unit_search(query=request.GET.get("unit", ""), limit=20)
    return render(request, "org/partials/picker_options.html", {"units": units})


@login_required
def unit_detail(request: HttpRequest, code: str) -> HttpResponse:
    unit = org_selectors.unit_get(code=code)
    staff = person_list(user=request.user, unit=unit, active=True)
    child_units = org_selectors.unit_children(unit=unit)
    return render(
        request,
        "org/unit_detail.html",
        {
            "unit": unit,
            "ancestors": list(unit.ancestors()),
            "children_page": paginate(request, child_units, per_page=50, param="units_page"),
            "staff_page": paginate(request, staff) if staff is not None else None,
            "counts": org_selectors.unit_child_counts(unit=unit),
            "sees_aggregates": scope_for(request.user).can_see_aggregates_of(unit),
        },
    )


@login_required
def headcount(request: HttpRequest, code: str) -> HttpResponse:
    """Aggregate table, loaded after the page so big subtrees do not slow the first paint."""
    unit = org_selectors.unit_get(code=code)
    rows = headcount_by_role_and_sex(user=request.user, unit=unit)
    context = {"rows": rows, "unit": unit, "threshold": settings.EDUCAP_SMALL_CELL_THRESHOLD}
    return render(request, "org/partials/headcount.html", context)
