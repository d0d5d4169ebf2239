from django.urls import path

from educap.people.web import imports, views

app_name = "people"
urlpatterns = [
    path("", views.person_list_view, name="list"),
    path("<int:pk>/", views.person_detail, name="detail"),
    path("import/", imports.staff_import, name="import"),
    path("export/", imports.staff_export, name="export"),
    path("add/", views.person_add, name="add"),
    path("<int:pk>/edit/", views.person_edit, name="edit"),
]
