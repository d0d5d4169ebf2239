"""Web pages: cpd (included by educap.training.web.urls)."""

from django.urls import URLPattern, URLResolver, path

from educap.training.web import cpd

urlpatterns: list[URLPattern | URLResolver] = [
    path("cpd/", cpd.cpd_mine, name="cpd_mine"),
    path("cpd/submit/", cpd.cpd_submit, name="cpd_submit"),
    path("cpd/people/<int:pk>/", cpd.cpd_person, name="cpd_person"),
    path("cpd/records/<int:pk>/withdraw/", cpd.cpd_withdraw, name="cpd_withdraw"),
    path("cpd/records/<int:pk>/evidence/", cpd.cpd_evidence, name="cpd_evidence"),
    path("cpd/records/<int:pk>/decide/", cpd.cpd_decide, name="cpd_decide"),
    path("cpd/approvals/", cpd.cpd_approvals, name="cpd_approvals"),
    path("cpd/compliance/", cpd.cpd_compliance, name="cpd_compliance"),
    path("cpd/compliance/<str:code>/", cpd.cpd_compliance_unit, name="cpd_compliance_unit"),
    path(
        "cpd/compliance/<str:code>/export.csv",
        cpd.cpd_compliance_csv,
        name="cpd_compliance_csv",
    ),
    path("cpd/requirements/", cpd.cpd_requirements, name="cpd_requirements"),
    path(
        "cpd/requirements/<int:pk>/delete/",
        cpd.cpd_requirement_delete,
        name="cpd_requirement_delete",
    ),
]
