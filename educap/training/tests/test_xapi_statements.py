"""Conformance of the statement resource (xAPI 1.0.3, Part Three): /xapi/statements."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.test import Client

from educap.audit.models import AuditEvent
from educap.training.models import XapiClient, XapiStatement
from educap.training.services.xapi import xapi_client_create, xapi_client_deactivate

pytestmark = pytest.mark.django_db

VERSION = "1.0.3"
URL = "/xapi/statements"
EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def statement(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "actor": {"objectType": "Agent", "name": "Learner", "mbox": "mailto:learner@example.org"},
        "verb": {"id": EXPERIENCED, "display": {"en-US": "experienced"}},
        "object": {"id": "http://example.org/activities/intro"},
    }
    return {**base, **fields}


class Lrs:
    """An HTTP client holding one XapiClient's credentials."""

    def __init__(self, key: str, secret: str) -> None:
        self.http = Client()
        self.key, self.secret = key, secret

    def headers(self, *, version: str | None = VERSION, auth: str | None = None) -> dict[str, str]:
        token = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        headers = {"HTTP_AUTHORIZATION": auth if auth is not None else f"Basic {token}"}
        if version is not None:
            headers["HTTP_X_EXPERIENCE_API_VERSION"] = version
        return headers

    def post(self, data: Any, **kw: Any) -> Any:
        body = data if isinstance(data, str | bytes) else json.dumps(data)
        content_type = kw.pop("content_type", "application/json")
        return self.http.post(URL, body, content_type=content_type, **self.headers(**kw))

    def put(self, data: Any, statement_id: str | None, **kw: Any) -> Any:
        query = f"?{urlencode({'statementId': statement_id})}" if statement_id else ""
        return self.http.put(
            URL + query, json.dumps(data), content_type="application/json", **self.headers(**kw)
        )

    def get(self, params: dict[str, str] | None = None, *, path: str = URL, **kw: Any) -> Any:
        return self.http.get(path, params or {}, **self.headers(**kw))


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    cache.clear()  # remembered credentials and failure counts
    yield
    cache.clear()


@pytest.fixture
def lrs(db: None) -> Lrs:
    client, secret = xapi_client_create(actor=None, name="Ministry Moodle")
    return Lrs(client.key, secret)


# Version header and authentication -------------------------------------------------------


def test_version_header_is_required_and_always_returned(lrs: Lrs) -> None:
    response = lrs.post(statement(), version=None)
    assert response.status_code == 400
    assert response["X-Experience-API-Version"] == VERSION
    assert response.json()["code"] == "xapi_version"
    assert not XapiStatement.objects.exists()
    assert lrs.post(statement(), version="1.1.0").status_code == 400
    assert lrs.post(statement(), version="0.95").status_code == 400
    ok = lrs.post(statement(), version="1.0")
    assert ok.status_code == 200
    assert ok["X-Experience-API-Version"] == VERSION
    assert "X-Experience-API-Consistent-Through" in ok
    assert "no-store" in ok["Cache-Control"]


def test_about_needs_no_credentials_nor_version(lrs: Lrs) -> None:
    response = Client().get("/xapi/about")
    assert response.status_code == 200
    assert "1.0.3" in response.json()["version"]
    assert set(response.json()) == {"version"}
    assert response["X-Experience-API-Version"] == VERSION


def test_credentials_are_required(lrs: Lrs) -> None:
    for auth in ("", "Basic Og==", "Bearer abc", "Basic not-base64!"):
        response = lrs.post(statement(), auth=auth)
        assert response.status_code == 401, auth
        assert response["WWW-Authenticate"].startswith("Basic")
        assert response["X-Experience-API-Version"] == VERSION
    wrong = Lrs(lrs.key, "wrong secret")
    assert wrong.post(statement()).status_code == 401
    unknown = Lrs("xapi-nobody", lrs.secret)
    assert unknown.post(statement()).status_code == 401
    assert not XapiStatement.objects.exists()


def test_inactive_client_is_refused_even_with_remembered_credentials(lrs: Lrs) -> None:
    assert lrs.post(statement()).status_code == 200  # the check is now cached
    client = XapiClient.objects.get(key=lrs.key)
    assert client.last_used_at is not None
    xapi_client_deactivate(actor=None, client=client)
    response = lrs.post(statement())
    assert response.status_code == 401
    assert "deactivated" in response.json()["detail"]


def test_repeated_failures_are_throttled(lrs: Lrs) -> None:
    wrong = Lrs(lrs.key, "wrong secret")
    statuses = [wrong.get().status_code for _ in range(31)]
    assert statuses[:30] == [401] * 30
    assert statuses[30] == 429


def test_machine_clients_are_not_sent_to_sign_in(lrs: Lrs, settings: Any) -> None:
    # The site's 2FA middleware and CSRF check concern browser sessions only.
    settings.EDUCAP_REQUIRE_2FA = True
    http = Client(enforce_csrf_checks=True)
    lrs.http = http
    assert lrs.post(statement()).status_code == 200
    assert lrs.get().status_code == 200


# PUT ------------------------------------------------------------------------------------


def test_put_with_statement_id_stores_and_answers_204(lrs: Lrs) -> None:
    sid = str(uuid.uuid4())
    response = lrs.put(statement(), sid)
    assert response.status_code == 204
    assert response.content == b""
    stored = XapiStatement.objects.get(pk=sid)
    assert stored.statement["id"] == sid
    assert stored.statement["authority"]["account"]["name"] == lrs.key
    assert stored.statement["version"] == "1.0.0"


def test_put_needs_statement_id(lrs: Lrs) -> None:
    response = lrs.put(statement(), None)
    assert response.status_code == 400
    assert response.json()["field"] == "statementId"
    assert lrs.put(statement(), "not-a-uuid").status_code == 400


def test_put_with_mismatching_id_is_refused(lrs: Lrs) -> None:
    response = lrs.put(statement(id=str(uuid.uuid4())), str(uuid.uuid4()))
    assert response.status_code == 400
    assert response.json()["code"] == "xapi_id_mismatch"
    sid = str(uuid.uuid4())
    assert lrs.put(statement(id=sid.upper()), sid).status_code == 204


def test_put_takes_one_statement_not_an_array(lrs: Lrs) -> None:
    assert lrs.put([statement()], str(uuid.uuid4())).status_code == 400


# POST -----------------------------------------------------------------------------------


def test_post_single_statement_returns_its_id(lrs: Lrs) -> None:
    sid = str(uuid.uuid4())
    response = lrs.post(statement(id=sid))
    assert response.status_code == 200
    assert response.json() == [sid]


def test_post_batch_returns_ids_in_order_and_generates_missing_ones(lrs: Lrs) -> None:
    given = str(uuid.uuid4())
    response = lrs.post([statement(), statement(id=given), statement()])
    assert response.status_code == 200
    ids = response.json()
    assert len(ids) == 3
    assert ids[1] == given
    assert all(uuid.UUID(i) for i in ids)
    assert XapiStatement.objects.count() == 3
    event = AuditEvent.objects.get(object_type="training.xapistatement")
    assert event.after["statements"] == 3


def test_batch_with_one_invalid_statement_stores_nothing(lrs: Lrs) -> None:
    bad = statement()
    del bad["verb"]
    response = lrs.post([statement(), bad, statement()])
    assert response.status_code == 400
    assert response.json()["field"] == "statement[1].verb"
    assert "statement[1].verb: is required" in response.json()["detail"]
    assert not XapiStatement.objects.exists()


def test_batch_with_the_same_id_twice_is_refused(lrs: Lrs) -> None:
    sid = str(uuid.uuid4())
    response = lrs.post([statement(id=sid), statement(id=sid)])
    assert response.status_code == 400
    assert response.json()["code"] == "xapi_duplicate_in_batch"
    assert not XapiStatement.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda s: s.pop("actor"), "statement.actor"),
        (lambda s: s.pop("verb"), "statement.verb"),
        (lambda s: s.pop("object"), "statement.object"),
        (lambda s: s.update(id="not-a-uuid"), "statement.id"),
        (lambda s: s.update(id="6690e6c9-3ef0-4ed3-8b37-7f3964730be"), "statement.id"),
        (lambda s: s["actor"].update(mbox="learner@example.org"), "statement.actor.mbox"),
        (lambda s: s.update(verb={"id": "completed"}), "statement.verb.id"),
        (lambda s: s.update(timestamp="yesterday"), "statement.timestamp"),
        (lambda s: s.update(timestamp="2026-03-02T10:00:00-00:00"), "statement.timestamp"),
        (lambda s: s.update(version="2.0.0"), "statement.version"),
        (lambda s: s.update(Actor=s["actor"]), "statement.Actor"),
        (lambda s: s.update(result={"success": "true"}), "statement.result.success"),
        (lambda s: s.update(result={"score": {"scaled": 2}}), "statement.result.score.scaled"),
        (lambda s: s["verb"].update(display={"not a tag!": "x"}), "statement.verb.display"),
        (lambda s: s["actor"].update(account={"homePage": "x", "name": "1"}), "statement.actor"),
        (lambda s: s.update(context={"platform": None}), "statement.context.platform"),
    ],
)
def test_invalid_statements_are_refused(lrs: Lrs, change: Any, field: str) -> None:
    bad = statement()
    change(bad)
    response = lrs.post(bad)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "xapi_invalid_statement"
    assert body["field"].startswith(field), body
    assert not XapiStatement.objects.exists()


def test_malformed_content_is_refused(lrs: Lrs) -> None:
    assert lrs.post("{not json").status_code == 400
    assert lrs.post("NaN").status_code == 400
    assert lrs.post('"a string"').status_code == 400
    assert lrs.post(statement(), content_type="text/plain").status_code == 400


def test_multipart_with_attachment_data_is_refused_clearly(lrs: Lrs) -> None:
    boundary = "abc123"
    body = (
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{json.dumps(statement())}\r\n"
        f"--{boundary}\r\nContent-Type: text/plain\r\nX-Experience-API-Hash: 00\r\n"
        f"Content-Transfer-Encoding: binary\r\n\r\nhello\r\n--{boundary}--\r\n"
    )
    response = lrs.post(body, content_type=f"multipart/mixed; boundary={boundary}")
    assert response.status_code == 400
    assert "Attachment data is not supported" in response.json()["detail"]
    only_statements = (
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{json.dumps(statement())}\r\n"
        f"--{boundary}--\r\n"
    )
    ok = lrs.post(only_statements, content_type=f"multipart/mixed; boundary={boundary}")
    assert ok.status_code == 200


def test_attachments_need_a_file_url(lrs: Lrs) -> None:
    attachment = {
        "usageType": "http://adlnet.gov/expapi/attachments/certificate",
        "display": {"en": "Certificate"},
        "contentType": "application/pdf",
        "length": 12,
        "sha2": "ab" * 32,
    }
    response = lrs.post(statement(attachments=[attachment]))
    assert response.status_code == 400
    assert "fileUrl" in response.json()["detail"]
    attachment["fileUrl"] = "https://lms.example.org/cert.pdf"
    assert lrs.post(statement(attachments=[attachment])).status_code == 200


def test_body_size_is_limited(lrs: Lrs, settings: Any) -> None:
    settings.EDUCAP_XAPI_MAX_BODY_MB = 1
    huge = statement(result={"response": "x" * (1024 * 1024)})
    response = lrs.post(huge)
    assert response.status_code == 413
    assert not XapiStatement.objects.exists()


def test_unknown_or_miscased_parameters_are_refused(lrs: Lrs) -> None:
    assert lrs.get({"Verb": EXPERIENCED}).status_code == 400
    assert lrs.get({"colour": "red"}).status_code == 400
    response = lrs.http.post(
        f"{URL}?statementId={uuid.uuid4()}",
        json.dumps(statement()),
        content_type="application/json",
        **lrs.headers(),
    )
    assert response.status_code == 400


# Duplicates -----------------------------------------------------------------------------


def test_same_id_same_content_is_accepted_without_change(lrs: Lrs) -> None:
    sid = str(uuid.uuid4())
    original = statement(id=sid, timestamp="2026-03-02T10:00:00Z")
    assert lrs.post(original).status_code == 200
    stored_before = XapiStatement.objects.get(pk=sid).stored
    # Same content: timestamp in another zone, LRS-set properties differ, members reordered.
    again = statement(
        id=sid,
        timestamp="2026-03-02T12:00:00.000+02:00",
        stored="2030-01-01T00:00:00Z",
        authority={"mbox": "mailto:someone@else.org"},
        version="1.0.0",
    )
    assert lrs.post(again).status_code == 200
    assert lrs.put(again, sid).status_code == 204
    assert XapiStatement.objects.count() == 1
    assert XapiStatement.objects.get(pk=sid).stored == stored_before


def test_same_id_different_content_is_a_conflict(lrs: Lrs) -> None:
    sid = str(uuid.uuid4())
    assert lrs.post(statement(id=sid)).status_code == 200
    changed = statement(id=sid, verb={"id": "http://adlnet.gov/expapi/verbs/attempted"})
    response = lrs.post(changed)
    assert response.status_code == 409
    assert response.json()["code"] == "xapi_statement_conflict"
    assert lrs.put(changed, sid).status_code == 409
    # A conflict anywhere in a batch stores nothing of it.
    assert lrs.post([statement(), changed]).status_code == 409
    assert XapiStatement.objects.count() == 1
    assert XapiStatement.objects.get(pk=sid).verb_id == EXPERIENCED


# GET ------------------------------------------------------------------------------------


def test_get_by_statement_id(lrs: Lrs) -> None:
    sid = str(uuid.uuid4())
    lrs.post(statement(id=sid, context={"contextActivities": {"parent": {"id": "http://x.org/p"}}}))
    response = lrs.get({"statementId": sid})
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == sid
    assert body["stored"].endswith("Z")
    assert body["timestamp"] == body["stored"]
    assert body["context"]["contextActivities"]["parent"] == [{"id": "http://x.org/p"}]
    assert "Last-Modified" in response
    assert lrs.get({"statementId": str(uuid.uuid4())}).status_code == 404
    assert lrs.get({"statementId": sid, "verb": EXPERIENCED}).status_code == 400
    both = {"statementId": sid, "voidedStatementId": sid}
    assert lrs.get(both).status_code == 400
    head = lrs.http.head(URL, {"statementId": sid}, **lrs.headers())
    assert head.status_code == 200
    assert head.content == b""


def test_clients_read_only_their_own_statements(lrs: Lrs) -> None:
    sid = str(uuid.uuid4())
    lrs.post(statement(id=sid))
    other_client, secret = xapi_client_create(actor=None, name="Kolibri")
    other = Lrs(other_client.key, secret)
    assert other.get({"statementId": sid}).status_code == 404
    assert other.get().json()["statements"] == []


def test_voiding_marks_the_target_voided(lrs: Lrs) -> None:
    target = str(uuid.uuid4())
    lrs.post(statement(id=target))
    voiding = statement(
        verb={"id": VOIDED, "display": {"en-US": "voided"}},
        object={"objectType": "StatementRef", "id": target},
    )
    voiding_id = lrs.post(voiding).json()[0]
    assert XapiStatement.objects.get(pk=target).voided
    assert lrs.get({"statementId": target}).status_code == 404
    response = lrs.get({"voidedStatementId": target})
    assert response.status_code == 200
    assert response.json()["id"] == target
    assert lrs.get({"voidedStatementId": voiding_id}).status_code == 404
    listed = [s["id"] for s in lrs.get().json()["statements"]]
    assert target not in listed
    assert voiding_id in listed
    # A voiding statement cannot itself be voided.
    again = statement(verb={"id": VOIDED}, object={"objectType": "StatementRef", "id": voiding_id})
    assert lrs.post(again).status_code == 400


def test_voiding_needs_a_statement_ref_and_the_owners_credentials(lrs: Lrs) -> None:
    assert lrs.post(statement(verb={"id": VOIDED})).status_code == 400
    target = str(uuid.uuid4())
    lrs.post(statement(id=target))
    other_client, secret = xapi_client_create(actor=None, name="Kolibri")
    other = Lrs(other_client.key, secret)
    voiding = statement(verb={"id": VOIDED}, object={"objectType": "StatementRef", "id": target})
    assert other.post(voiding).status_code == 403
    assert not XapiStatement.objects.get(pk=target).voided


def test_voiding_statement_arriving_before_its_target(lrs: Lrs) -> None:
    target = str(uuid.uuid4())
    voiding = statement(verb={"id": VOIDED}, object={"objectType": "StatementRef", "id": target})
    assert lrs.post(voiding).status_code == 200
    lrs.post(statement(id=target))
    assert XapiStatement.objects.get(pk=target).voided


def _three_over_time(lrs: Lrs) -> list[str]:
    ids = []
    for n in range(3):
        ids += lrs.post(statement(object={"id": f"http://example.org/activities/{n}"})).json()
        time.sleep(0.002)
    return ids


def test_list_is_newest_first_and_pages_with_more(lrs: Lrs) -> None:
    ids = _three_over_time(lrs)
    first = lrs.get({"limit": "2"}).json()
    assert [s["id"] for s in first["statements"]] == [ids[2], ids[1]]
    assert first["more"].startswith("/xapi/statements?")
    second = lrs.get(path=first["more"]).json()
    assert [s["id"] for s in second["statements"]] == [ids[0]]
    assert second["more"] == ""
    ascending = lrs.get({"ascending": "true"}).json()
    assert [s["id"] for s in ascending["statements"]] == ids
    assert lrs.get({"limit": "-1"}).status_code == 400
    assert lrs.get({"ascending": "yes"}).status_code == 400


def test_filters_verb_activity_agent_registration(lrs: Lrs) -> None:
    registration = str(uuid.uuid4())
    attempted = "http://adlnet.gov/expapi/verbs/attempted"
    ids = lrs.post(
        [
            statement(),
            statement(verb={"id": attempted}),
            statement(object={"id": "http://example.org/activities/other"}),
            statement(actor={"mbox": "mailto:other@example.org"}),
            statement(
                actor={"account": {"homePage": "https://lms.example.org", "name": "77"}},
                context={"registration": registration},
            ),
            statement(
                actor={
                    "objectType": "Group",
                    "member": [{"mbox": "mailto:other@example.org"}, {"mbox": "mailto:x@y.org"}],
                }
            ),
        ]
    ).json()

    def found(**params: str) -> set[str]:
        response = lrs.get(params)
        assert response.status_code == 200, response.content
        return {s["id"] for s in response.json()["statements"]}

    assert found(verb=attempted) == {ids[1]}
    assert found(activity="http://example.org/activities/other") == {ids[2]}
    assert found(agent=json.dumps({"mbox": "mailto:other@example.org"})) == {ids[3], ids[5]}
    account = {"account": {"homePage": "https://lms.example.org", "name": "77"}}
    assert found(agent=json.dumps(account)) == {ids[4]}
    assert found(registration=registration) == {ids[4]}
    assert lrs.get({"agent": "{not json"}).status_code == 400
    assert lrs.get({"agent": json.dumps({"name": "no identifier"})}).status_code == 400
    assert lrs.get({"verb": "not an iri"}).status_code == 400


def test_related_activities_and_agents(lrs: Lrs) -> None:
    course = "http://example.org/courses/emis-101"
    instructor = {"mbox": "mailto:trainer@example.org"}
    ids = lrs.post(
        [
            statement(context={"contextActivities": {"parent": [{"id": course}]}}),
            statement(context={"instructor": instructor}),
            statement(),
        ]
    ).json()
    assert lrs.get({"activity": course}).json()["statements"] == []
    related = lrs.get({"activity": course, "related_activities": "true"}).json()
    assert [s["id"] for s in related["statements"]] == [ids[0]]
    agent = json.dumps(instructor)
    assert lrs.get({"agent": agent}).json()["statements"] == []
    related = lrs.get({"agent": agent, "related_agents": "true"}).json()
    assert [s["id"] for s in related["statements"]] == [ids[1]]


def test_since_and_until(lrs: Lrs) -> None:
    ids = _three_over_time(lrs)
    middle = XapiStatement.objects.get(pk=ids[1]).stored.isoformat()
    since = lrs.get({"since": middle}).json()["statements"]
    assert [s["id"] for s in since] == [ids[2]]
    until = lrs.get({"until": middle}).json()["statements"]
    assert [s["id"] for s in until] == [ids[1], ids[0]]
    assert lrs.get({"since": "last week"}).status_code == 400


def test_formats(lrs: Lrs) -> None:
    sid = str(uuid.uuid4())
    lrs.post(
        statement(
            id=sid,
            verb={"id": EXPERIENCED, "display": {"en-US": "experienced", "ar": "اختبر"}},
            object={
                "id": "http://example.org/activities/intro",
                "definition": {"name": {"en-US": "Intro", "fr": "Introduction"}},
            },
        )
    )
    ids = lrs.get({"statementId": sid, "format": "ids"}).json()
    assert ids["actor"] == {"objectType": "Agent", "mbox": "mailto:learner@example.org"}
    assert ids["verb"] == {"id": EXPERIENCED}
    assert ids["object"] == {"id": "http://example.org/activities/intro"}
    canonical = lrs.http.get(
        URL,
        {"statementId": sid, "format": "canonical"},
        HTTP_ACCEPT_LANGUAGE="fr, ar;q=0.5",
        **lrs.headers(),
    ).json()
    assert canonical["verb"]["display"] == {"ar": "اختبر"}
    assert canonical["object"]["definition"]["name"] == {"fr": "Introduction"}
    assert lrs.get({"statementId": sid, "format": "full"}).status_code == 400
    multipart = lrs.get({"statementId": sid, "attachments": "true"})
    assert multipart["Content-Type"].startswith("multipart/mixed")


def test_alternate_request_syntax(lrs: Lrs) -> None:
    sid = str(uuid.uuid4())
    token = base64.b64encode(f"{lrs.key}:{lrs.secret}".encode()).decode()
    form = {
        "statementId": sid,
        "content": json.dumps(statement()),
        "Authorization": f"Basic {token}",
        "X-Experience-API-Version": VERSION,
        "Content-Type": "application/json",
    }
    form_type = "application/x-www-form-urlencoded"
    response = Client().post(f"{URL}?method=PUT", urlencode(form), content_type=form_type)
    assert response.status_code == 204
    assert XapiStatement.objects.filter(pk=sid).exists()
    fields = {
        "statementId": sid,
        "Authorization": f"Basic {token}",
        "X-Experience-API-Version": "1.0.3",
    }
    got = Client().post(f"{URL}?method=GET", urlencode(fields), content_type=form_type)
    assert got.status_code == 200
    assert got.json()["id"] == sid
    mixed = Client().post(
        f"{URL}?method=GET&statementId={sid}", urlencode(fields), content_type=form_type
    )
    assert mixed.status_code == 400
    multipart = Client().post(f"{URL}?method=GET", fields)
    assert multipart.status_code == 400
