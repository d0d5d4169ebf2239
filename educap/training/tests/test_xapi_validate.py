"""The statement validator: precise messages, and properties over generated input."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from educap.training.lrs.store import same_statement
from educap.training.lrs.validate import (
    agent_problems,
    is_language_tag,
    parse_timestamp,
    statement_problems,
)


def text(**kwargs: Any) -> st.SearchStrategy[str]:
    """Text a statement may hold: anything but U+0000 and lone surrogates (refused: see
    the test below)."""
    characters = st.characters(exclude_characters="\x00", exclude_categories=["Cs"])
    return st.text(characters, **kwargs)


VALID = {
    "actor": {"mbox": "mailto:learner@example.org"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
    "object": {"id": "http://example.org/activities/intro"},
}


def messages(value: Any) -> list[str]:
    return [str(p) for p in statement_problems(value)]


def test_minimal_statement_is_valid() -> None:
    assert messages(VALID) == []


def test_messages_name_the_path_and_the_rule() -> None:
    assert messages([]) == ["statement: must be an object, not an array"]
    bad = {**VALID, "actor": {"mbox": "learner@example.org", "openid": "http://id.example.org"}}
    assert messages(bad) == [
        'statement.actor.mbox: must be a "mailto:" IRI with an e-mail address',
        "statement.actor: an Agent needs exactly one of mbox, mbox_sha1sum, openid or account "
        "(2 given)",
    ]
    assert messages({**VALID, "Verb": {}}) == [
        'statement.Verb: property names are case sensitive: "verb"'
    ]
    sub = {
        "objectType": "SubStatement",
        **VALID,
        "object": {"objectType": "SubStatement", **VALID},
    }
    assert messages({**VALID, "object": sub}) == [
        "statement.object.object: a SubStatement cannot contain another SubStatement"
    ]
    assert messages({**VALID, "object": {**sub, "object": VALID["object"], "id": "x"}}) == [
        "statement.object.id: is not a property the specification allows"
    ]


@pytest.mark.parametrize(
    "statement",
    [
        {**VALID, "object": {"objectType": "Agent", "mbox": "mailto:a@b.org"}},
        {**VALID, "object": {"objectType": "StatementRef", "id": str(uuid.uuid4())}},
        {**VALID, "actor": {"objectType": "Group", "member": [{"mbox": "mailto:a@b.org"}]}},
        {**VALID, "actor": {"account": {"homePage": "https://lms.example.org", "name": "S1"}}},
        {**VALID, "actor": {"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"}},
        {**VALID, "result": {"score": {"raw": 7, "min": 0, "max": 10}, "duration": "PT1H2M3.5S"}},
        {**VALID, "result": {"duration": "P4W", "extensions": {"http://x.org/e": None}}},
        {**VALID, "context": {"contextActivities": {"parent": {"id": "http://x.org/p"}}}},
        {**VALID, "context": {"language": "zh-Hant-TW", "platform": "Moodle", "revision": "2"}},
        {**VALID, "timestamp": "2026-03-02T10:15:00.123456789+03:00", "version": "1.0.3"},
        {
            **VALID,
            "object": {
                "id": "http://x.org/q1",
                "definition": {
                    "interactionType": "choice",
                    "correctResponsesPattern": ["a[,]b"],
                    "choices": [{"id": "a"}, {"id": "b", "description": {"en": "B"}}],
                },
            },
        },
    ],
)
def test_valid_variants(statement: dict[str, Any]) -> None:
    assert messages(statement) == []


@pytest.mark.parametrize(
    ("statement", "path"),
    [
        ({**VALID, "object": {"objectType": "Agent"}}, "statement.object"),
        ({**VALID, "object": {"mbox": "mailto:a@b.org"}}, "statement.object.mbox"),
        ({**VALID, "actor": {"objectType": "Group"}}, "statement.actor"),
        (
            {**VALID, "actor": {"objectType": "Group", "member": [{"objectType": "Group"}]}},
            "statement.actor.member[0]",
        ),
        ({**VALID, "result": {"score": {"min": 5, "max": 1}}}, "statement.result.score.min"),
        ({**VALID, "result": {"score": {"raw": "7"}}}, "statement.result.score.raw"),
        ({**VALID, "result": {"duration": "1 hour"}}, "statement.result.duration"),
        ({**VALID, "result": {"duration": "P4W1D"}}, "statement.result.duration"),
        (
            {
                **VALID,
                "object": {"objectType": "StatementRef", "id": str(uuid.uuid4())},
                "context": {"platform": "Moodle"},
            },
            "statement.context.platform",
        ),
        ({**VALID, "context": {"contextActivities": {"parents": []}}}, "statement.context"),
        ({**VALID, "context": {"registration": "abc"}}, "statement.context.registration"),
        ({**VALID, "context": {"team": {"mbox": "mailto:a@b.org"}}}, "statement.context.team"),
        ({**VALID, "context": {"extensions": {"not-an-iri": 1}}}, "statement.context.extensions"),
        (
            {**VALID, "object": {"id": "http://x.org/q", "definition": {"choices": []}}},
            "statement.object.definition.interactionType",
        ),
        (
            {
                **VALID,
                "object": {
                    "id": "http://x.org/q",
                    "definition": {
                        "interactionType": "likert",
                        "scale": [{"id": "a"}, {"id": "a"}],
                    },
                },
            },
            "statement.object.definition.scale[1].id",
        ),
        ({**VALID, "attachments": [{}]}, "statement.attachments[0]"),
        ({**VALID, "stored": "soon"}, "statement.stored"),
        ({**VALID, "authority": {"name": "x"}}, "statement.authority"),
        ({**VALID, "verb": {"id": "http://x.org/v", "display": "done"}}, "statement.verb.display"),
        (
            {**VALID, "object": {"id": "http://x.org/a", "objectType": "activity"}},
            "statement.object",
        ),
    ],
)
def test_invalid_variants(statement: dict[str, Any], path: str) -> None:
    problems = statement_problems(statement)
    assert problems, statement
    assert problems[0].path.startswith(path), problems


def test_timestamps() -> None:
    assert parse_timestamp("2026-03-02T10:15:00Z") == dt.datetime(2026, 3, 2, 10, 15, tzinfo=dt.UTC)
    assert parse_timestamp("2026-03-02T13:15+0300") == dt.datetime(
        2026, 3, 2, 10, 15, tzinfo=dt.UTC
    )
    assert parse_timestamp("2026-03-02T10:15:00") is not None  # no zone: UTC
    for bad in ("2026-03-02", "2026-03-02 10:15:00Z", "2026-02-30T10:00:00Z", "-00:00", 5):
        assert parse_timestamp(bad) is None
    assert parse_timestamp("2026-03-02T10:15:00-00:00") is None


def test_language_tags() -> None:
    for tag in ("en", "en-US", "ar", "zh-Hant-TW", "es-419", "de-CH-1996", "x-klingon", "tlh"):
        assert is_language_tag(tag), tag
    for tag in ("", "english!", "en_US", "e", "en-"):
        assert not is_language_tag(tag), tag


def test_agent_parameter_needs_an_identifier() -> None:
    assert agent_problems({"mbox": "mailto:a@b.org"}) == []
    assert agent_problems({"objectType": "Group", "member": [{"mbox": "mailto:a@b.org"}]})
    assert agent_problems("mailto:a@b.org")


# Properties -----------------------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(
            [
                "id", "actor", "verb", "object", "objectType", "mbox", "name", "account",
                "homePage", "member", "definition", "result", "score", "context", "display",
                "contextActivities", "parent", "timestamp", "Activity", "x",
            ]
        ) | text(max_size=8),
        children,
        max_size=5,
    ),
    max_leaves=30,
)  # fmt: skip
KINDS = st.sampled_from(["Agent", "Group", "Activity", "SubStatement", "StatementRef", "x", None])


@given(JSON)
def test_random_json_never_crashes_the_validator(value: Any) -> None:
    problems = statement_problems(value)
    assert all(p.path.startswith("statement") and p.message for p in problems)


@given(JSON, JSON, JSON, KINDS)
def test_random_parts_in_a_statement_shape_never_crash(
    actor: Any, obj: Any, context: Any, kind: Any
) -> None:
    if isinstance(obj, dict) and kind is not None:
        obj["objectType"] = kind
    statement_problems({"actor": actor, "verb": {"id": "http://x.org/v"}, "object": obj})
    statement_problems({**VALID, "context": context, "result": obj})
    statement_problems({**VALID, "object": {"objectType": "SubStatement", "actor": actor,
                                             "verb": VALID["verb"], "object": obj}})  # fmt: skip


IRIS = st.from_regex(r"\Ahttps?://[a-z]{1,10}\.(org|net)(/[a-z0-9_\-]{1,8}){0,3}\Z")
LANG_MAPS = st.dictionaries(
    st.sampled_from(["en", "en-US", "ar", "fr", "lo", "zh-Hant-TW", "es-419"]),
    text(max_size=30),
    min_size=1,
    max_size=3,
)
AGENTS = st.one_of(
    st.builds(lambda e: {"mbox": f"mailto:{e}"}, st.emails()),
    st.builds(lambda h: {"mbox_sha1sum": h}, st.from_regex(r"\A[0-9a-f]{40}\Z")),
    st.builds(lambda i: {"openid": i}, IRIS),
    st.builds(
        lambda h, n: {"objectType": "Agent", "account": {"homePage": h, "name": n}},
        IRIS,
        text(min_size=1, max_size=12),
    ),
).flatmap(lambda a: st.just(a) | st.builds(lambda n: {**a, "name": n}, text(max_size=20)))
ACTORS = AGENTS | st.builds(
    lambda members: {"objectType": "Group", "member": members}, st.lists(AGENTS, min_size=1)
)
ACTIVITIES = st.builds(
    lambda i, d: {"objectType": "Activity", "id": i, **({"definition": d} if d else {})},
    IRIS,
    st.none()
    | st.fixed_dictionaries(
        {}, optional={"name": LANG_MAPS, "description": LANG_MAPS, "type": IRIS, "moreInfo": IRIS}
    ),
)
TIMESTAMPS = st.builds(
    lambda moment, hours: moment.replace(tzinfo=dt.timezone(dt.timedelta(hours=hours))).isoformat(
        timespec="milliseconds"
    ),
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    st.integers(-11, 14),
)
SCORES = st.builds(
    lambda low, span, part, scaled: {
        "min": low, "max": low + span, "raw": low + span * part, "scaled": scaled,
    },
    st.integers(-100, 100),
    st.integers(1, 1000),
    st.floats(0, 1),
    st.floats(-1, 1),
)  # fmt: skip
RESULTS = st.fixed_dictionaries(
    {},
    optional={
        "score": SCORES,
        "success": st.booleans(),
        "completion": st.booleans(),
        "response": text(max_size=20),
        "duration": st.sampled_from(["PT1H30M", "P1DT2H", "PT0.5S", "P3Y", "P4W"]),
        "extensions": st.dictionaries(IRIS, JSON, max_size=2),
    },
)
CONTEXTS = st.fixed_dictionaries(
    {},
    optional={
        "registration": st.uuids(version=4).map(str),
        "instructor": AGENTS,
        "contextActivities": st.fixed_dictionaries(
            {}, optional={"parent": st.lists(ACTIVITIES, max_size=2), "grouping": ACTIVITIES}
        ),
        "language": st.sampled_from(["en", "ar", "fr-CA"]),
        "statement": st.builds(
            lambda u: {"objectType": "StatementRef", "id": str(u)}, st.uuids(version=4)
        ),
        "extensions": st.dictionaries(IRIS, JSON, max_size=2),
    },
)
STATEMENTS = st.builds(
    lambda actor, verb, display, obj, extra: {
        "actor": actor,
        "verb": {"id": verb, **({"display": display} if display else {})},
        "object": obj,
        **extra,
    },
    ACTORS,
    IRIS,
    st.none() | LANG_MAPS,
    ACTIVITIES
    | AGENTS.map(lambda a: {**a, "objectType": "Agent"})
    | st.uuids(version=4).map(lambda u: {"objectType": "StatementRef", "id": str(u)}),
    st.fixed_dictionaries(
        {},
        optional={
            "id": st.uuids(version=4).map(str),
            "result": RESULTS,
            "context": CONTEXTS,
            "timestamp": TIMESTAMPS,
        },
    ),
)


def test_characters_a_json_column_cannot_store_are_refused_wherever_they_are() -> None:
    unstorable = "must not contain U+0000 or an unpaired surrogate (U+D800–U+DFFF)"
    extension = {"http://x.org/e": {"note": ["ok", "a\x00b"]}}
    statement = {**VALID, "result": {"response": "\ud800", "extensions": extension}}
    assert messages(statement) == [
        f"statement.result.response: {unstorable}",
        f"statement.result.extensions.http://x.org/e.note[1]: {unstorable}",
    ]
    # A surrogate pair decoded from JSON is one character, and fine.
    assert messages({**VALID, "result": {"response": json.loads('"\\ud83d\\ude00"')}}) == []
    assert messages({**VALID, "context": {"extensions": {"http://x.org/\x00": 1}}}) == [
        "statement.context.extensions.http://x.org/\x00: extension keys must be IRIs",
        f"statement.context.extensions: property names {unstorable}",
    ]


@given(STATEMENTS)
def test_generated_valid_statements_pass(statement: dict[str, Any]) -> None:
    assert messages(statement) == []
    # And they survive a trip through JSON unchanged in meaning.
    assert same_statement(statement, json.loads(json.dumps(statement)))


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(STATEMENTS, min_size=1, max_size=3))
@pytest.mark.django_db
def test_generated_valid_statements_are_stored(statements: list[dict[str, Any]]) -> None:
    from educap.training.lrs.store import statements_store
    from educap.training.models import XapiClient

    client = XapiClient.objects.get_or_create(key="xapi-prop", defaults={"name": "P"})[0]
    for statement in statements:
        statement.pop("id", None)
    ids = statements_store(client=client, statements=statements, home_page="http://testserver/")
    assert len(ids) == len(statements)
