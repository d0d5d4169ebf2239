"""Web pages: xapi (included by educap.training.web.urls)."""

from django.urls import URLPattern, URLResolver, path

from educap.training.web import xapi

urlpatterns: list[URLPattern | URLResolver] = [
    path("xapi/clients/", xapi.client_list, name="xapi_client_list"),
    path("xapi/clients/new/", xapi.client_create, name="xapi_client_create"),
    path(
        "xapi/clients/<int:pk>/deactivate/", xapi.client_deactivate, name="xapi_client_deactivate"
    ),
    path("xapi/activities/", xapi.activity_list, name="xapi_activity_list"),
    path("xapi/activities/<int:pk>/remove/", xapi.activity_remove, name="xapi_activity_remove"),
    path("xapi/statements/", xapi.statement_list, name="xapi_statement_list"),
    path("xapi/statements/<uuid:pk>/", xapi.statement_detail, name="xapi_statement_detail"),
]
