"""The read-only CASE 1.1 REST binding: published frameworks only, CASE-shaped errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from educap.frameworks.importing import framework_import_apply, framework_import_plan
from educap.frameworks.io import case
from educap.frameworks.io.case import association_identifier
from educap.frameworks.models import Framework, FrameworkItem, FrameworkStatus, ItemRelation

pytestmark = pytest.mark.django_db

NATIONAL = Path(__file__).parent / "data" / "case_national_emis_standards.json"
BASE = "/ims/case/v1p1"


def import_national(code: str, version: str = "2025.1") -> Framework:
    record = case.parse(NATIONAL.read_bytes()).record
    assert record is not None
    plan = framework_import_plan(actor=None, record=record, code=code, version=version)
    assert plan.problems == []
    return framework_import_apply(actor=None, plan=plan)


@pytest.fixture
def published() -> Framework:
    framework = import_national("EMIS-STD")
    Framework.objects.filter(pk=framework.pk).update(
        status=FrameworkStatus.PUBLISHED, published_at=timezone.now()
    )
    framework.refresh_from_db()
    return framework


@pytest.fixture
def draft(published: Framework) -> Framework:
    return import_national("EMIS-STD", version="2026.0-draft")


def get(client: Client, path: str) -> tuple[int, Any]:
    response = client.get(f"{BASE}/{path}")
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


def assert_unknown_object(status: int, body: Any) -> None:
    assert status == 404
    assert body["imsx_codeMajor"] == "failure"
    assert body["imsx_severity"] == "error"
    assert body["imsx_codeMinor"]["imsx_codeMinorField"] == [
        {"imsx_codeMinorFieldName": "sourcedId", "imsx_codeMinorFieldValue": "unknownobject"}
    ]


def test_documents_list_only_published_frameworks(
    client: Client, published: Framework, draft: Framework, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(2):
        response = client.get(f"{BASE}/CFDocuments")
    assert response.status_code == 200
    assert response["X-Total-Count"] == "1"
    documents = response.json()["CFDocuments"]
    assert [d["identifier"] for d in documents] == [published.identifier]
    assert documents[0]["uri"] == (f"http://testserver{BASE}/CFDocuments/{published.identifier}")
    assert documents[0]["adoptionStatus"] == "Adopted"
    assert documents[0]["extensions"]["educap"]["code"] == "EMIS-STD"


def test_document_and_package(client: Client, published: Framework) -> None:
    status, document = get(client, f"CFDocuments/{published.identifier}")
    assert status == 200
    assert document["title"] == "National EMIS Staff Competency Standards"
    assert document["CFPackageURI"]["uri"].endswith(f"/CFPackages/{published.identifier}")

    status, package = get(client, f"CFPackages/{published.identifier}")
    assert status == 200
    assert package["CFDocument"]["identifier"] == published.identifier
    assert len(package["CFItems"]) == 13
    assert len(package["CFRubrics"][0]["CFRubricCriteria"]) == 3
    # What we serve imports back as the same framework.
    record = case.parse(Client().get(f"{BASE}/CFPackages/{published.identifier}").content).record
    assert record is not None
    assert framework_import_plan(actor=None, record=record).outcome == "unchanged"


def test_item(client: Client, published: Framework) -> None:
    item = FrameworkItem.objects.get(framework=published, code="DQ.1")
    status, body = get(client, f"CFItems/{item.identifier}")
    assert status == 200
    assert body["fullStatement"] == "Validates school submissions against consistency rules."
    assert body["humanCodingScheme"] == "DQ.1"
    assert body["CFDocumentURI"]["identifier"] == published.identifier


def test_associations_stored_and_derived(client: Client, published: Framework) -> None:
    relation = ItemRelation.objects.get(framework=published, kind="isPeerOf")
    status, body = get(client, f"CFAssociations/{relation.identifier}")
    assert status == 200
    assert body["associationType"] == "isPeerOf"
    assert body["originNodeURI"]["identifier"] == relation.source.identifier

    item = FrameworkItem.objects.get(framework=published, code="DC.2.1")
    identifier = association_identifier(published.identifier, item.identifier)
    status, body = get(client, f"CFAssociations/{identifier}")
    assert status == 200
    assert body["associationType"] == "isChildOf"
    assert body["destinationNodeURI"]["identifier"] == item.parent.identifier


def test_drafts_and_unknown_identifiers_are_not_found(client: Client, draft: Framework) -> None:
    draft_only = FrameworkItem.objects.filter(framework=draft).first()
    assert draft_only is not None
    for path in (
        f"CFDocuments/{draft.identifier}",
        f"CFPackages/{draft.identifier}",
        "CFItems/no-such-item",
        "CFAssociations/no-such-association",
        f"CFAssociations/{association_identifier(draft.identifier, draft_only.identifier)}",
    ):
        assert_unknown_object(*get(client, path))


def test_items_of_a_draft_only_are_not_served(client: Client) -> None:
    framework = import_national("EMIS-DRAFT")
    item = FrameworkItem.objects.filter(framework=framework).first()
    assert item is not None
    assert_unknown_object(*get(client, f"CFItems/{item.identifier}"))


def test_read_only_and_paging_checked(client: Client, published: Framework) -> None:
    assert client.post(f"{BASE}/CFDocuments").status_code == 405
    status, body = get(client, "CFDocuments?limit=abc")
    assert status == 400
    assert body["imsx_codeMajor"] == "failure"
    status, body = get(client, "CFDocuments?limit=1&offset=1")
    assert (status, body) == (200, {"CFDocuments": []})
