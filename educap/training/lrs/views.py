"""HTTP face of the LRS: /xapi/statements (GET, HEAD, PUT, POST) and /xapi/about.

Machine clients authenticate with HTTP basic credentials, not sessions, so the views are
CSRF-exempt and never redirect to the sign-in page. Every answer carries the
X-Experience-API-Version header; errors are JSON {"code", "detail", "field"}.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

from educap.audit.context import client_ip
from educap.training.lrs import query
from educap.training.lrs.auth import REALM, client_authenticate
from educap.training.lrs.errors import (
    XapiError,
    XapiErrorCode,
    bad_parameter,
    bad_request,
)
from educap.training.lrs.store import statement_put, statements_store
from educap.training.models import XapiClient

VERSION = "1.0.3"
SUPPORTED_VERSIONS = ["1.0.0", "1.0.1", "1.0.2", "1.0.3"]
_ACCEPTED_VERSION = re.compile(r"^1\.0(\.\d+)?$")
# Form fields of the alternate request syntax that stand for HTTP headers.
FORM_HEADERS = (
    "Authorization",
    "X-Experience-API-Version",
    "Content-Type",
    "Content-Length",
    "If-Match",
    "If-None-Match",
)


def max_body_bytes() -> int:
    return int(getattr(settings, "EDUCAP_XAPI_MAX_BODY_MB", 5)) * 1024 * 1024


def home_page(request: HttpRequest) -> str:
    """This installation's address, as used in authorities and actor accounts."""
    configured = getattr(settings, "EDUCAP_XAPI_HOMEPAGE", "")
    return str(configured or request.build_absolute_uri("/"))


@dataclass
class XapiRequest:
    method: str
    params: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    content_type: str = ""  # full header value, parameters included

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def _single_values(data: Mapping[str, list[str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, items in data.items():
        if len(items) != 1:
            raise bad_parameter(f'Parameter "{name}" is given more than once.', name)
        values[name] = items[0]
    return values


def _xapi_request(request: HttpRequest) -> XapiRequest:
    headers = {k.lower(): v for k, v in request.headers.items()}
    if request.method == "POST" and "method" in request.GET:
        return _alternate_request(request, headers)
    params = _single_values(dict(request.GET.lists()))
    body = b""
    if request.method in ("PUT", "POST"):
        limit = max_body_bytes()
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
            raise _too_large(limit)
        body = request.read(limit + 1)
        if len(body) > limit:
            raise _too_large(limit)
    return XapiRequest(
        method=str(request.method),
        params=params,
        headers=headers,
        body=body,
        content_type=request.META.get("CONTENT_TYPE", ""),
    )


def _too_large(limit: int) -> XapiError:
    return XapiError(
        413,
        XapiErrorCode.TOO_LARGE,
        f"The request is larger than this LRS accepts ({limit // (1024 * 1024)} MB).",
    )


def _alternate_request(request: HttpRequest, headers: dict[str, str]) -> XapiRequest:
    """xAPI's alternate request syntax: POST ?method=X with headers and content as form
    fields (for clients that cannot send other methods or headers)."""
    if set(request.GET) != {"method"}:
        raise bad_parameter("With ?method=, every other parameter goes in the form body.")
    method = request.GET["method"].upper()
    if method not in ("GET", "PUT", "POST"):
        raise bad_parameter("method must be GET, PUT or POST.", "method")
    if request.content_type != "application/x-www-form-urlencoded":
        raise XapiError(
            400,
            XapiErrorCode.UNSUPPORTED_CONTENT,
            "The alternate request syntax is sent as application/x-www-form-urlencoded.",
        )
    try:
        form = dict(request.POST.lists())
    except RequestDataTooBig as exc:
        raise _too_large(max_body_bytes()) from exc
    values = _single_values(form)
    content_type = values.get("Content-Type") or "application/json"
    for name in FORM_HEADERS:
        if name in values:
            headers[name.lower()] = values.pop(name)
    content = values.pop("content", "")
    return XapiRequest(
        method=method,
        params=values,
        headers=headers,
        body=content.encode("utf-8"),
        content_type=content_type,
    )


def _check_version(value: str | None) -> None:
    if value is None:
        raise XapiError(
            400, XapiErrorCode.VERSION, "The X-Experience-API-Version header is required."
        )
    if not _ACCEPTED_VERSION.match(value.strip()):
        raise XapiError(
            400,
            XapiErrorCode.VERSION,
            f'This LRS speaks xAPI 1.0.x ({VERSION}); version "{value}" is not supported.',
        )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _json_body(xreq: XapiRequest) -> Any:
    media = xreq.content_type.split(";")[0].strip().lower()
    body = xreq.body
    if media == "multipart/mixed":
        body = _multipart_statements(xreq)
    elif media != "application/json":
        raise XapiError(
            400,
            XapiErrorCode.UNSUPPORTED_CONTENT,
            "Send statements as application/json.",
            "Content-Type",
        )
    if not body.strip():
        raise bad_request("The request has no content; send a statement or an array of them.")
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise bad_request(f"The content is not valid UTF-8 JSON: {exc}") from exc


def _multipart_statements(xreq: XapiRequest) -> bytes:
    """The statements part of a multipart/mixed request; attachment data is refused."""
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + xreq.content_type.encode("latin-1") + b"\r\n\r\n" + xreq.body
    )
    parts = list(message.iter_parts()) if message.is_multipart() else []  # type: ignore[attr-defined]
    if not parts:
        raise bad_request("The multipart/mixed content has no parts.")
    if len(parts) > 1:
        raise XapiError(
            400,
            XapiErrorCode.UNSUPPORTED_CONTENT,
            "Attachment data is not supported by this LRS: send statements as "
            "application/json and give each attachment a fileUrl.",
        )
    first = parts[0]
    if first.get_content_type() != "application/json":
        raise bad_request("The first part of multipart/mixed content must be application/json.")
    payload = first.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _put(request: HttpRequest, xreq: XapiRequest, client: XapiClient) -> HttpResponse:
    query.check_parameter_names(xreq.params, frozenset({"statementId"}))
    if "statementId" not in xreq.params:
        raise bad_parameter("PUT needs the statementId parameter.", "statementId")
    statement_put(
        client=client,
        statement=_json_body(xreq),
        statement_id=xreq.params["statementId"],
        home_page=home_page(request),
    )
    return HttpResponse(status=204)


def _post(request: HttpRequest, xreq: XapiRequest, client: XapiClient) -> HttpResponse:
    query.check_parameter_names(xreq.params, frozenset())
    data = _json_body(xreq)
    if not isinstance(data, dict | list):
        raise bad_request("POST takes a statement or an array of statements.")
    ids = statements_store(
        client=client,
        statements=data if isinstance(data, list) else [data],
        home_page=home_page(request),
        batch=isinstance(data, list),
    )
    return JsonResponse(ids, safe=False)


def _statements_response(
    xreq: XapiRequest, content: dict[str, Any], *, attachments: bool
) -> HttpResponse:
    if not attachments:
        return JsonResponse(content)
    # attachments=true asks for multipart/mixed; this LRS holds no attachment data, so the
    # statements part is the only one.
    boundary = "xapi-statements-boundary"
    body = (
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n"
        f"{json.dumps(content)}\r\n--{boundary}--\r\n"
    )
    return HttpResponse(
        body.encode("utf-8"), content_type=f'multipart/mixed; boundary="{boundary}"'
    )


def _get(request: HttpRequest, xreq: XapiRequest, client: XapiClient) -> HttpResponse:
    params = xreq.params
    query.check_parameter_names(params, query.GET_PARAMS)
    fmt = query.parse_format(params)
    attachments = query.parse_bool(params, "attachments")
    languages = query.accepted_languages(xreq.header("Accept-Language") or "")
    single = [name for name in ("statementId", "voidedStatementId") if name in params]
    if single:
        if len(single) > 1:
            raise bad_parameter("Give statementId or voidedStatementId, not both.")
        extra = set(params) - query.SINGLE_PARAMS
        if extra:
            raise bad_parameter(
                f"{single[0]} cannot be combined with other filters.", sorted(extra)[0]
            )
        row = query.statement_get(
            client=client,
            statement_id=params[single[0]],
            voided=single[0] == "voidedStatementId",
        )
        response = _statements_response(
            xreq, query.statement_out(row, fmt=fmt, languages=languages), attachments=attachments
        )
        response["Last-Modified"] = http_date(row.stored.timestamp())
        return response
    statement_query = query.parse_query(params)
    rows, after = query.statement_list(client=client, query=statement_query)
    more = ""
    if after is not None:
        carried = {k: v for k, v in params.items() if k != "cursor"}
        carried["cursor"] = query.encode_cursor(after)
        more = f"{reverse('xapi:statements')}?{urlencode(carried)}"
    content = {
        "statements": [query.statement_out(r, fmt=fmt, languages=languages) for r in rows],
        "more": more,
    }
    return _statements_response(xreq, content, attachments=attachments)


def _error(exc: XapiError) -> HttpResponse:
    response = JsonResponse(exc.as_json(), status=exc.status)
    if exc.status == 401:
        response["WWW-Authenticate"] = REALM
    return response


def _finish(response: HttpResponse, *, head: bool) -> HttpResponse:
    response["X-Experience-API-Version"] = VERSION
    add_never_cache_headers(response)  # statements are personal data
    if head:
        response.content = b""
    return response


@csrf_exempt
def statements(request: HttpRequest) -> HttpResponse:
    method = request.method or "GET"
    try:
        xreq = _xapi_request(request)
        method = xreq.method
        client = client_authenticate(
            authorization=xreq.header("Authorization") or "", address=client_ip(request) or ""
        )
        _check_version(xreq.header("X-Experience-API-Version"))
        if method in ("GET", "HEAD"):
            response = _get(request, xreq, client)
        elif method == "PUT":
            response = _put(request, xreq, client)
        elif method == "POST":
            response = _post(request, xreq, client)
        else:
            raise XapiError(
                405, XapiErrorCode.METHOD, "The statement resource takes GET, PUT and POST."
            )
    except XapiError as exc:
        response = _error(exc)
        if exc.status == 405:
            response["Allow"] = "GET, HEAD, PUT, POST"
    response["X-Experience-API-Consistent-Through"] = timezone.now().isoformat()
    return _finish(response, head=method == "HEAD")


@csrf_exempt
def about(request: HttpRequest) -> HttpResponse:
    """What this LRS supports; open to anyone and to any version header."""
    if request.method not in ("GET", "HEAD"):
        response = _error(
            XapiError(405, XapiErrorCode.METHOD, "The about resource takes GET only.")
        )
        response["Allow"] = "GET, HEAD"
    else:
        response = JsonResponse({"version": SUPPORTED_VERSIONS})
    return _finish(response, head=request.method == "HEAD")
