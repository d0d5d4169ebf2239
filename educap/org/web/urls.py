from django.urls import path

from educap.org.web import imports, views

app_name = "org"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("import/", imports.import_upload, name="import"),
    path("picker/", views.picker, name="picker"),
    path("units/<str:code>/", views.unit_detail, name="unit"),
    path("units/<str:code>/children/", views.children, name="children"),
    path("units/<str:code>/headcount/", views.headcount, name="headcount"),
]
