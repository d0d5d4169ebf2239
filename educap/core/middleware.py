from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class NoStoreForPersonalDataMiddleware:
    """Pages and API answers for signed-in users may carry personal data: never cache them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        authenticated = bool(user and user.is_authenticated)
        if authenticated or request.path.startswith("/api/"):
            add_never_cache_headers(response)  # includes no-store and private
        return response
