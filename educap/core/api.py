"""API plumbing shared by every app: pagination and JSON errors with stable codes."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from educap.core.errors import CoreErrorCode


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


_DRF_CODES = {
    exceptions.NotAuthenticated: CoreErrorCode.NOT_AUTHENTICATED,
    exceptions.AuthenticationFailed: CoreErrorCode.NOT_AUTHENTICATED,
    exceptions.PermissionDenied: CoreErrorCode.PERMISSION_DENIED,
    exceptions.NotFound: CoreErrorCode.NOT_FOUND,
    exceptions.Throttled: CoreErrorCode.THROTTLED,
}


def _first_code(detail: Any) -> tuple[str, str, str | None]:
    """(code, message, field) of the first problem in a DRF error detail tree."""
    field: str | None = None
    while isinstance(detail, dict | list):
        if isinstance(detail, dict):
            if not detail:
                return CoreErrorCode.INVALID, "", field
            key, detail = next(iter(detail.items()))
            field = key if key != "non_field_errors" else field
        else:
            if not detail:
                return CoreErrorCode.INVALID, "", field
            detail = detail[0]
    code = getattr(detail, "code", None) or CoreErrorCode.INVALID
    return str(code), str(detail), field


def _audit_refusal(context: dict[str, Any]) -> None:
    from educap.audit.models import AuditAction
    from educap.audit.services import audit_record

    request = context.get("request")
    user = getattr(request, "user", None)
    audit_record(
        actor=user if user is not None and user.is_authenticated else None,
        action=AuditAction.ACCESS_DENIED,
        object_repr=getattr(request, "path", "")[:200],
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error is `{"code", "detail", "field", "errors"?}`."""
    if isinstance(exc, DjangoValidationError):
        # Keep the service's error codes (as_serializer_error preserves them).
        exc = exceptions.ValidationError(detail=as_serializer_error(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        # Services raise PermissionDenied(<ErrorCode>): pass that code on.
        reason = str(exc.args[0]) if exc.args else ""
        code = reason if reason and reason.replace("_", "").isalnum() else None
        exc = exceptions.PermissionDenied(code=code)
    if isinstance(exc, exceptions.PermissionDenied):
        _audit_refusal(context)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        code, message, field = _first_code(exc.detail)
        response.data = {"code": code, "detail": message, "field": field, "errors": exc.detail}
    else:
        known = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), None)
        detail = getattr(exc, "detail", "")
        response.data = {
            "code": str(
                known
                if isinstance(exc, exceptions.AuthenticationFailed)
                else getattr(detail, "code", None) or known or CoreErrorCode.INVALID
            ),
            "detail": str(detail),
            "field": None,
        }
    if response.status_code == status.HTTP_500_INTERNAL_SERVER_ERROR:
        response.data["code"] = CoreErrorCode.SERVER_ERROR
    return response
