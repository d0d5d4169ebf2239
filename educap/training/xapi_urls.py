"""The xAPI statement resource (Learning Record Store) at /xapi/."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
