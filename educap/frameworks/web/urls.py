from django.urls import path

from educap.frameworks.web import imports, views

try:  # the matrix editor lands separately
    from educap.frameworks.web import matrix
except ImportError:  # pragma: no cover
    matrix = None  # type: ignore[assignment]

app_name = "frameworks"
urlpatterns = [
    path("", views.framework_list, name="list"),
    path("import/", imports.framework_import, name="import"),
    path("import/template.xlsx", imports.blank_template, name="template"),
    path("<int:pk>/", views.framework_detail, name="detail"),
    path("<int:pk>/items/add/", views.item_add, name="item_add"),
    path("<int:pk>/items/<int:item_id>/edit/", views.item_edit, name="item_edit"),
    path("<int:pk>/items/<int:item_id>/move/", views.item_move, name="item_move"),
    path("<int:pk>/items/<int:item_id>/delete/", views.item_delete, name="item_delete"),
    path("<int:pk>/publish/", views.publish, name="publish"),
    path("<int:pk>/new-version/", views.new_version, name="new_version"),
    path("<int:pk>/compare/", views.compare, name="compare"),
    path("<int:pk>/export/<str:fmt>/", imports.framework_export, name="export"),
]
if matrix is not None:
    urlpatterns += [
        path("<int:pk>/matrix/", matrix.matrix, name="matrix"),
        path(
            "<int:pk>/matrix/<int:profile_id>/<int:item_id>/",
            matrix.matrix_cell,
            name="matrix_cell",
        ),
    ]
