"""Errors of the statement resource: each carries its HTTP status and a stable code."""

from __future__ import annotations

from enum import StrEnum


class XapiErrorCode(StrEnum):
    NOT_AUTHENTICATED = "xapi_not_authenticated"
    TOO_MANY_FAILURES = "xapi_too_many_failures"
    VERSION = "xapi_version"
    BAD_REQUEST = "xapi_bad_request"
    BAD_PARAMETER = "xapi_bad_parameter"
    UNSUPPORTED_CONTENT = "xapi_unsupported_content"
    TOO_LARGE = "xapi_too_large"
    INVALID_STATEMENT = "xapi_invalid_statement"
    DUPLICATE_IN_BATCH = "xapi_duplicate_in_batch"
    ID_MISMATCH = "xapi_id_mismatch"
    CONFLICT = "xapi_statement_conflict"
    VOID_FORBIDDEN = "xapi_void_forbidden"
    VOID_VOIDING = "xapi_void_voiding_statement"
    NOT_FOUND = "xapi_not_found"
    METHOD = "xapi_method_not_allowed"


class XapiError(Exception):
    """A refused request; the view turns it into a JSON error with this status."""

    def __init__(
        self, status: int, code: XapiErrorCode, detail: str, field: str | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field

    def as_json(self) -> dict[str, str | None]:
        return {"code": self.code.value, "detail": self.detail, "field": self.field}


def bad_request(detail: str, field: str | None = None) -> XapiError:
    return XapiError(400, XapiErrorCode.BAD_REQUEST, detail, field)


def bad_parameter(detail: str, field: str | None = None) -> XapiError:
    return XapiError(400, XapiErrorCode.BAD_PARAMETER, detail, field)
