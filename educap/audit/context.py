"""Where the current request came from, so services can audit without taking the request."""

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class RequestOrigin:
    ip_address: str | None
    path: str


_origin: ContextVar[RequestOrigin | None] = ContextVar("educap_request_origin", default=None)


def current_origin() -> RequestOrigin | None:
    return _origin.get()


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


class RequestOriginMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _origin.set(RequestOrigin(client_ip(request), request.path[:300]))
        try:
            return self.get_response(request)
        finally:
            _origin.reset(token)
