"""API: cpd (included by educap.training.api.urls).

`people/<id>/cpd-progress/` sits beside the people API's own `people/<id>/` routes (and the
assessments API's `people/<id>/current-levels/`) without clashing with them."""

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from educap.training.api import cpd

router = SimpleRouter()
router.register("cpd-records", cpd.CpdRecordViewSet, basename="cpd-record")
router.register("cpd-requirements", cpd.CpdRequirementViewSet, basename="cpd-requirement")

urlpatterns: list[URLPattern | URLResolver] = [
    *router.urls,
    path(
        "people/<int:pk>/cpd-progress/",
        cpd.CpdProgressView.as_view(),
        name="person-cpd-progress",
    ),
]
