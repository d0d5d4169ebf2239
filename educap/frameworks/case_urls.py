"""CASE 1.1 REST binding, mounted at /ims/case/v1p1/ (the path CASE consumers expect)."""

from django.urls import path

from educap.frameworks import case_api

app_name = "case"

urlpatterns = [
    path("CFDocuments", case_api.cf_documents, name="documents"),
    path("CFDocuments/<str:identifier>", case_api.cf_document, name="document"),
    path("CFPackages/<str:identifier>", case_api.cf_package, name="package"),
    path("CFItems/<str:identifier>", case_api.cf_item, name="item"),
    path("CFAssociations/<str:identifier>", case_api.cf_association, name="association"),
]
