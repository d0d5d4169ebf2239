"""The xAPI statement resource (Learning Record Store) at /xapi/."""

from django.urls import URLPattern, URLResolver, re_path

from educap.training.lrs import views

app_name = "xapi"

urlpatterns: list[URLPattern | URLResolver] = [
    # Clients differ on the trailing slash; both reach the resource without a redirect.
    re_path(r"^statements/?$", views.statements, name="statements"),
    re_path(r"^about/?$", views.about, name="about"),
]
