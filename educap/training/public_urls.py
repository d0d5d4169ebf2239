"""Public, unauthenticated addresses: certificate verification, the JWKS and each
credential's revocation status. Mounted at the site root; nothing here needs a sign-in."""

from django.urls import URLPattern, URLResolver, path

from educap.training.web import certificates as views

app_name = "training_public"

urlpatterns: list[URLPattern | URLResolver] = [
    path("verify/<str:pk>/", views.certificate_verify, name="verify"),
    path("verify/<str:pk>/status.json", views.credential_status, name="credential_status"),
    path(".well-known/jwks.json", views.jwks, name="jwks"),
    path(".well-known/jwks/<str:kid>.json", views.jwk, name="jwk"),
]
