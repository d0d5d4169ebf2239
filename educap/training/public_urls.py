"""Public, unauthenticated addresses: certificate verification and the JWKS."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
