"""Web pages: certificates (included by educap.training.web.urls)."""

from django.urls import URLPattern, URLResolver, path

from educap.training.web import certificates as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("certificates/", views.certificate_list, name="certificate_list"),
    path("certificates/mine/", views.my_certificates, name="my_certificates"),
    path("certificates/<uuid:pk>/", views.certificate_detail, name="certificate_detail"),
    path("certificates/<uuid:pk>/pdf/", views.certificate_pdf, name="certificate_pdf"),
    path(
        "certificates/<uuid:pk>/credential/",
        views.certificate_credential,
        name="certificate_credential",
    ),
    path("certificates/<uuid:pk>/revoke/", views.certificate_revoke, name="certificate_revoke"),
    path(
        "certificates/<uuid:pk>/reinstate/",
        views.certificate_reinstate,
        name="certificate_reinstate",
    ),
]
