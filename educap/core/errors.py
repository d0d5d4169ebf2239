"""Error codes shared by every app; each app adds its own enum next to its services."""

from enum import StrEnum

from django.core.exceptions import ValidationError


class CoreErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    NOT_AUTHENTICATED = "not_authenticated"
    INVALID = "invalid"
    THROTTLED = "throttled"
    FILE_TOO_LARGE = "file_too_large"
    SERVER_ERROR = "server_error"


def field_error(field: str, message: str, code: str) -> ValidationError:
    """A ValidationError on one field that keeps its code (a plain dict would drop it)."""
    return ValidationError({field: ValidationError(message, code=code)})
