"""Web pages: catalogue (included by educap.training.web.urls)."""

from django.urls import URLPattern, URLResolver, path

from educap.training.web import catalogue

urlpatterns: list[URLPattern | URLResolver] = [
    path("courses/", catalogue.course_list_view, name="course_list"),
    path("courses/new/", catalogue.course_create_view, name="course_create"),
    path("courses/<str:code>/", catalogue.course_detail_view, name="course_detail"),
    path("courses/<str:code>/edit/", catalogue.course_edit_view, name="course_edit"),
    path(
        "courses/<str:code>/deactivate/",
        catalogue.course_deactivate_view,
        name="course_deactivate",
    ),
    path(
        "courses/<str:code>/materials/",
        catalogue.course_material_add_view,
        name="course_material_add",
    ),
    path(
        "courses/<str:code>/materials/<int:pk>/remove/",
        catalogue.course_material_remove_view,
        name="course_material_remove",
    ),
    path(
        "courses/<str:code>/materials/<int:pk>/",
        catalogue.course_material_download_view,
        name="course_material_download",
    ),
    path("catalogue/programmes/", catalogue.programme_list_view, name="catalogue_programmes"),
    path(
        "catalogue/programmes/new/",
        catalogue.programme_create_view,
        name="catalogue_programme_create",
    ),
    path(
        "catalogue/programmes/<str:code>/edit/",
        catalogue.programme_edit_view,
        name="catalogue_programme_edit",
    ),
    path("catalogue/import/", catalogue.catalogue_import_view, name="catalogue_import"),
    path("catalogue/export/<str:fmt>/", catalogue.catalogue_export_view, name="catalogue_export"),
]
