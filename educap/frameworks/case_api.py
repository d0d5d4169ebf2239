"""The 1EdTech CASE 1.1 REST binding, read-only: published frameworks for any CASE consumer.

Public on purpose, like other CASE providers: only published versions are served, and a
framework holds no personal data. Drafts and retired versions answer 404 the CASE way
(an `imsx_StatusInfo` body with the `unknownobject` minor code).

Item identifiers stay the same across versions of a framework; a CFItem is served from
the most recently published version that holds it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from educap.core.querysets import plain_queryset
from educap.frameworks.exporting import framework_to_record, texts_of
from educap.frameworks.io.case import association_identifier, package_dict
from educap.frameworks.io.records import LANGUAGES, FrameworkRecord
from educap.frameworks.models import Framework, FrameworkItem, FrameworkStatus, ItemRelation

_DOCUMENT_FIELDS = (
    "code",
    "version",
    "identifier",
    "language",
    "licence",
    "source",
    "publisher",
    "status",
    "updated_at",
    "title",
    "description",
    *(f"{name}_{lang}" for name in ("title", "description") for lang in LANGUAGES),
)
_MAX_LIMIT = 1000


def _json(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


def _not_found(what: str, identifier: str) -> JsonResponse:
    return _json(
        {
            "imsx_codeMajor": "failure",
            "imsx_severity": "error",
            "imsx_description": f"No published {what} has the identifier {identifier}.",
            "imsx_codeMinor": {
                "imsx_codeMinorField": [
                    {
                        "imsx_codeMinorFieldName": "sourcedId",
                        "imsx_codeMinorFieldValue": "unknownobject",
                    }
                ]
            },
        },
        status=404,
    )


def _invalid(description: str) -> JsonResponse:
    return _json(
        {
            "imsx_codeMajor": "failure",
            "imsx_severity": "error",
            "imsx_description": description,
            "imsx_codeMinor": {
                "imsx_codeMinorField": [
                    {
                        "imsx_codeMinorFieldName": "sourcedId",
                        "imsx_codeMinorFieldValue": "invalid_selection_field",
                    }
                ]
            },
        },
        status=400,
    )


def _base_uri(request: HttpRequest) -> str:
    documents = reverse("case:documents")
    return request.build_absolute_uri(documents.removesuffix("/CFDocuments"))


def _published() -> QuerySet[Framework]:
    # A plain queryset: modeltranslation's would read `title` in the active language.
    return plain_queryset(Framework).filter(status=FrameworkStatus.PUBLISHED)


def _package(request: HttpRequest, framework: Framework) -> dict[str, Any]:
    return package_dict(
        framework_to_record(framework),
        base_uri=_base_uri(request),
        changed_at=framework.updated_at,
    )


def _documents(request: HttpRequest, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """CFDocuments from framework rows alone: no items needed, one query for the list."""
    base = _base_uri(request)
    documents = []
    for row in rows:
        lang = row["language"] or "en"
        record = FrameworkRecord(
            code=row["code"],
            title=texts_of(row, "title", lang),
            identifier=row["identifier"],
            version=row["version"],
            language=lang,
            description=texts_of(row, "description", lang),
            licence=row["licence"],
            source=row["source"],
            publisher=row["publisher"],
            status=row["status"],
        )
        package = package_dict(record, base_uri=base, changed_at=row["updated_at"])
        documents.append(package["CFDocument"])
    return documents


@require_GET
def cf_documents(request: HttpRequest) -> JsonResponse:
    """getAllCFDocuments, with CASE's `limit` and `offset` paging."""
    try:
        limit = int(request.GET.get("limit", "100"))
        offset = int(request.GET.get("offset", "0"))
    except ValueError:
        return _invalid("limit and offset must be whole numbers.")
    if not 0 < limit <= _MAX_LIMIT or offset < 0:
        return _invalid(f"limit must be from 1 to {_MAX_LIMIT} and offset not negative.")
    frameworks = _published().order_by("code", "version", "pk")
    total = frameworks.count()
    rows = frameworks.values(*_DOCUMENT_FIELDS)[offset : offset + limit]
    response = _json({"CFDocuments": _documents(request, rows)})
    response["X-Total-Count"] = str(total)
    return response


@require_GET
def cf_document(request: HttpRequest, identifier: str) -> JsonResponse:
    rows = list(_published().filter(identifier=identifier).values(*_DOCUMENT_FIELDS))
    if not rows:
        return _not_found("CFDocument", identifier)
    return _json(_documents(request, rows)[0])


@require_GET
def cf_package(request: HttpRequest, identifier: str) -> JsonResponse:
    framework = _published().filter(identifier=identifier).first()
    if framework is None:
        return _not_found("CFPackage", identifier)
    return _json(_package(request, framework))


def _latest_holding(framework_ids: Iterable[int]) -> Framework | None:
    return (
        _published()
        .filter(pk__in=list(framework_ids))
        .order_by("-published_at", "-created_at", "-pk")
        .first()
    )


@require_GET
def cf_item(request: HttpRequest, identifier: str) -> JsonResponse:
    holders = FrameworkItem.objects.filter(
        identifier=identifier, framework__status=FrameworkStatus.PUBLISHED
    ).values_list("framework_id", flat=True)
    framework = _latest_holding(holders)
    if framework is None:
        return _not_found("CFItem", identifier)
    package = _package(request, framework)
    item = next(i for i in package["CFItems"] if i["identifier"] == identifier)
    return _json(item)


@require_GET
def cf_association(request: HttpRequest, identifier: str) -> JsonResponse:
    """A stored relation, or an isChildOf association (derived from the tree)."""
    holders = list(
        ItemRelation.objects.filter(
            identifier=identifier, framework__status=FrameworkStatus.PUBLISHED
        ).values_list("framework_id", flat=True)
    )
    if not holders:
        published_items = FrameworkItem.objects.filter(
            framework__status=FrameworkStatus.PUBLISHED
        ).values_list("framework_id", "framework__identifier", "identifier")
        holders = [
            framework_id
            for framework_id, document, item in published_items.iterator(chunk_size=5000)
            if association_identifier(document, item) == identifier
        ]
    framework = _latest_holding(holders)
    if framework is None:
        return _not_found("CFAssociation", identifier)
    package = _package(request, framework)
    association = next(
        (a for a in package["CFAssociations"] if a["identifier"] == identifier), None
    )
    if association is None:
        return _not_found("CFAssociation", identifier)
    return _json(association)
