from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from educap.accounts.scope import scope_for
from educap.core.pagination import paginate
from educap.core.web import add_errors_to_form
from educap.people import services
from educap.people.selectors import assignment_list, person_get, person_list
from educap.people.web.forms import NewPersonForm, PersonFilterForm, PersonForm


@login_required
def person_list_view(request: HttpRequest) -> HttpResponse:
    form = PersonFilterForm.from_query(request.GET)
    people = person_list(user=request.user, **form.selector_filters())
    page = paginate(request, people)
    template = "people/partials/person_table.html" if request.htmx else "people/person_list.html"
    return render(request, template, {"form": form, "page_obj": page})


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = person_get(user=request.user, pk=pk)
    return render(
        request,
        "people/person_detail.html",
        {
            "person": person,
            "assignments": assignment_list(user=request.user, person=person),
            "ancestors": list(person.unit.ancestors()) if person.unit_id else [],
            "can_manage": scope_for(request.user).can_manage_person(person),
        },
    )


@login_required
def person_add(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    if not (scope.is_admin or scope.subtree_paths):
        raise PermissionDenied
    form = NewPersonForm(request.POST or None, initial={"start_date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            person = services.person_create(
                actor=request.user,
                unit=data.pop("unit"),
                role=data.pop("role"),
                supervisor=data.pop("supervisor"),
                start_date=data.pop("start_date"),
                **data,
            )
        except PermissionDenied:
            form.add_error("unit", _("This unit is outside what you manage."))
        except ValidationError as exc:
            add_errors_to_form(form, exc)
        else:
            messages.success(request, _("%(name)s is registered.") % {"name": person.full_name})
            return redirect("people:detail", pk=person.pk)
    return render(request, "people/person_form.html", {"form": form, "person": None})


@login_required
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = person_get(user=request.user, pk=pk)
    if not scope_for(request.user).can_manage_person(person):
        raise PermissionDenied
    initial = {name: getattr(person, name) for name in PersonForm.base_fields}
    form = PersonForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.person_update(actor=request.user, person=person, **form.cleaned_data)
        except ValidationError as exc:
            add_errors_to_form(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("people:detail", pk=person.pk)
    return render(request, "people/person_form.html", {"form": form, "person": person})
