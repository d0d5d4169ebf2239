from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from educap.core.views import healthz

api_v1 = [
    path("", include("educap.org.api.urls")),
    path("", include("educap.people.api.urls")),
    path("", include("educap.accounts.api.urls")),
    path("", include("educap.frameworks.api.urls")),
    path("", include("educap.assessments.api.urls")),
    path("", include("educap.gaps.api.urls")),
    path("", include("educap.training.api.urls")),
]

urlpatterns = [
    path("", include("educap.core.urls")),
    path("accounts/", include("educap.accounts.web.urls")),
    path("org/", include("educap.org.web.urls")),
    path("people/", include("educap.people.web.urls")),
    path("audit/", include("educap.audit.web.urls")),
    path("frameworks/", include("educap.frameworks.web.urls")),
    path("assessments/", include("educap.assessments.web.urls")),
    path("gaps/", include("educap.gaps.web.urls")),
    path("training/", include("educap.training.web.urls")),
    path("xapi/", include("educap.training.xapi_urls")),
    path("", include("educap.training.public_urls")),
    path("ims/case/v1p1/", include("educap.frameworks.case_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler403 = "educap.core.views.permission_denied"
