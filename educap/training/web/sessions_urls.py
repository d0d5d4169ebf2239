"""Web pages: sessions (included by educap.training.web.urls)."""

from django.urls import URLPattern, URLResolver, path

from educap.training.web import sessions as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("sessions/", views.session_list, name="session_list"),
    path("sessions/new/", views.session_create, name="session_create"),
    path("sessions/calendar/", views.session_calendar, name="session_calendar"),
    path("my-training/", views.my_training, name="my_training"),
    path("sessions/<str:code>/", views.session_detail, name="session_detail"),
    path("sessions/<str:code>/edit/", views.session_edit, name="session_edit"),
    path("sessions/<str:code>/schedule/", views.session_schedule, name="session_schedule"),
    path("sessions/<str:code>/status/", views.session_status, name="session_status"),
    path("sessions/<str:code>/enrol/", views.session_enrol, name="session_enrol"),
    path("sessions/<str:code>/nominate/", views.session_nominate, name="session_nominate"),
    path("sessions/<str:code>/bulk-enrol/", views.session_bulk_enrol, name="session_bulk_enrol"),
    path("sessions/<str:code>/attendance/", views.session_attendance, name="session_attendance"),
    path(
        "sessions/<str:code>/attendance/mark/",
        views.session_attendance_mark,
        name="session_attendance_mark",
    ),
    path("sessions/<str:code>/sign-in.pdf", views.session_signin_pdf, name="session_signin_pdf"),
    path("sessions/<str:code>/complete/", views.session_complete, name="session_complete"),
    path(
        "enrolments/<int:pk>/decide/",
        views.session_enrolment_decide,
        name="session_enrolment_decide",
    ),
    path(
        "enrolments/<int:pk>/withdraw/",
        views.session_enrolment_withdraw,
        name="session_enrolment_withdraw",
    ),
]
