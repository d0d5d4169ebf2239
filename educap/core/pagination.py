from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest

PAGE_SIZE = 25


class CappedCountPaginator(Paginator):
    """Counting a million rows on every page is wasteful: stop counting at a cap."""

    count_cap = 100_000

    @property
    def count(self) -> int:  # type: ignore[override]
        if not hasattr(self, "_capped_count"):
            objects = self.object_list
            if isinstance(objects, QuerySet):
                self._capped_count = objects.order_by()[: self.count_cap + 1].count()
            else:
                self._capped_count = len(objects)
        return self._capped_count

    @property
    def is_capped(self) -> bool:
        return self.count > self.count_cap


def paginate(
    request: HttpRequest, objects: Any, per_page: int = PAGE_SIZE, param: str = "page"
) -> Page:
    paginator = CappedCountPaginator(objects, per_page)
    page = paginator.get_page(request.GET.get(param))
    page.param = param  # type: ignore[attr-defined]
    page.querystring = query_without_page(request, param)  # type: ignore[attr-defined]
    return page


def query_without_page(request: HttpRequest, param: str = "page") -> str:
    params = request.GET.copy()
    params.pop(param, None)
    return params.urlencode()
