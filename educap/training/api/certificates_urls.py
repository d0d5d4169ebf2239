"""API: certificates (included by educap.training.api.urls)."""

from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from educap.training.api.certificates import CertificateViewSet

router = SimpleRouter()
router.register("certificates", CertificateViewSet, basename="certificate")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
