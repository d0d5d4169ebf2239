from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from rest_framework.test import APIClient

from educap.audit.models import AuditAction, AuditEvent
from educap.core.testing import MiniMinistry
from educap.frameworks import services
from educap.frameworks.models import (
    Framework,
    FrameworkItem,
    FrameworkStatus,
    ItemKind,
    LevelIndicator,
    ProficiencyScale,
    Requirement,
    RoleProfile,
)
from educap.frameworks.selectors import profile_requirements


@dataclass
class Built:
    framework: Framework
    domains: list[FrameworkItem] = field(default_factory=list)
    competencies: list[FrameworkItem] = field(default_factory=list)
    profiles: list[RoleProfile] = field(default_factory=list)


def build_framework(
    *,
    code: str = "EMIS",
    version: str = "1.0",
    status: str = FrameworkStatus.DRAFT,
    domains: int = 2,
    per_domain: int = 3,
    profiles: int = 3,
    indicators: bool = True,
) -> Built:
    """A framework written straight to the database: domains, competencies, a profile chain
    (P00 is the base of P01, P01 the base of P02; the others stand alone) and requirements."""
    scale = ProficiencyScale.objects.get(code="default-5")
    levels = list(scale.levels.order_by("value"))
    framework = Framework.objects.create(
        code=code,
        version=version,
        title=f"{code} framework",
        title_ar=f"إطار {code}",
        scale=scale,
        status=status,
    )
    built = Built(framework)
    domain_rows = FrameworkItem.objects.bulk_create(
        FrameworkItem(
            framework=framework,
            kind=ItemKind.DOMAIN,
            code=f"D{d:02d}",
            statement=f"Domain {d}",
            statement_en=f"Domain {d}",
            statement_fr=f"Domaine {d}",
            sequence=d + 1,
        )
        for d in range(domains)
    )
    built.domains = domain_rows
    built.competencies = FrameworkItem.objects.bulk_create(
        FrameworkItem(
            framework=framework,
            parent=domain,
            kind=ItemKind.COMPETENCY,
            code=f"D{d:02d}.C{c:02d}",
            statement=f"Competency {d}.{c} on data quality",
            statement_en=f"Competency {d}.{c} on data quality",
            statement_ar=f"الكفاءة {d}.{c}",
            statement_fr=f"Compétence {d}.{c}",
            statement_lo=f"ສະມັດຕະພາບ {d}.{c}",
            sequence=c + 1,
        )
        for d, domain in enumerate(domain_rows)
        for c in range(per_domain)
    )
    if indicators:
        LevelIndicator.objects.bulk_create(
            LevelIndicator(item=item, level=level, text=f"{item.code} at {level.value}")
            for item in built.competencies
            for level in levels[1:]
        )
    built.profiles = []
    for p in range(profiles):
        base = built.profiles[p - 1] if 0 < p < 3 else None
        built.profiles.append(
            RoleProfile.objects.create(
                framework=framework, code=f"P{p:02d}", name=f"Profile number {p}", base=base
            )
        )
    Requirement.objects.bulk_create(
        Requirement(
            profile=profile,
            item=item,
            level=levels[1 + (i + p) % 4],
            weight=1 + (i + p) % 4,
        )
        for p, profile in enumerate(built.profiles)
        for i, item in enumerate(built.competencies)
        if (i + p) % 3 == 0
    )
    return built


@pytest.fixture
def api_for(ministry: MiniMinistry):
    def _client(username: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(ministry.users[username])
        return client

    return _client


def _url(built: Built, profile: str, item: str) -> str:
    return f"/api/v1/frameworks/{built.framework.pk}/profiles/{profile}/requirements/{item}/"


@pytest.mark.django_db
def test_drafts_are_for_editors_only(ministry: MiniMinistry, api_for) -> None:
    draft = build_framework(code="DRAFTY").framework
    published = build_framework(code="PUB", status=FrameworkStatus.PUBLISHED).framework
    codes = {row["code"] for row in api_for("teacher").get("/api/v1/frameworks/").json()["results"]}
    assert codes == {"PUB"}
    assert api_for("teacher").get(f"/api/v1/frameworks/{draft.pk}/").json()["code"] == "not_found"
    assert api_for("teacher").get(f"/api/v1/frameworks/{draft.pk}/items/").status_code == 404
    rows = api_for("central").get("/api/v1/frameworks/").json()["results"]
    assert {row["code"] for row in rows} == {"DRAFTY", "PUB"}
    assert api_for("admin").get(f"/api/v1/frameworks/{published.pk}/").status_code == 200
    assert APIClient().get("/api/v1/frameworks/").json()["code"] == "not_authenticated"


@pytest.mark.django_db
def test_framework_filters(ministry: MiniMinistry, api_for) -> None:
    build_framework(code="ALPHA")
    build_framework(code="ALPHA", version="2.0", status=FrameworkStatus.PUBLISHED)
    build_framework(code="BETA", status=FrameworkStatus.PUBLISHED)
    api = api_for("central")

    def codes(query: str) -> list[tuple[str, str]]:
        rows = api.get(f"/api/v1/frameworks/?{query}").json()["results"]
        return sorted((row["code"], row["version"]) for row in rows)

    assert codes("status=published") == [("ALPHA", "2.0"), ("BETA", "1.0")]
    assert codes("code=ALPHA") == [("ALPHA", "1.0"), ("ALPHA", "2.0")]
    assert codes("q=bet") == [("BETA", "1.0")]
    assert codes("status=draft&code=BETA") == []
    bad = api.get("/api/v1/frameworks/?status=nonsense")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_choice"
    assert bad.json()["field"] == "status"


@pytest.mark.django_db
def test_framework_detail_has_scale_and_counts(ministry: MiniMinistry, api_for) -> None:
    built = build_framework(status=FrameworkStatus.PUBLISHED)
    body = api_for("teacher").get(f"/api/v1/frameworks/{built.framework.pk}/").json()
    assert body["code"] == "EMIS"
    assert body["title_ar"] == "إطار EMIS"
    assert body["scale"]["code"] == "default-5"
    assert [level["code"] for level in body["scale"]["levels"]] == ["0", "1", "2", "3", "4"]
    assert body["scale"]["levels"][3]["name_fr"] == "Maîtrise"
    expected = Requirement.objects.filter(profile__framework=built.framework).count()
    assert body["counts"] == {
        "domains": 2,
        "competencies": 6,
        "profiles": 3,
        "requirements": expected,
    }
    assert body["competencies"] == 6


@pytest.mark.django_db
def test_items_flat_in_tree_order(ministry: MiniMinistry, api_for) -> None:
    built = build_framework(status=FrameworkStatus.PUBLISHED)
    rows = api_for("teacher").get(f"/api/v1/frameworks/{built.framework.pk}/items/").json()
    assert [row["code"] for row in rows] == [
        "D00",
        "D00.C00",
        "D00.C01",
        "D00.C02",
        "D01",
        "D01.C00",
        "D01.C01",
        "D01.C02",
    ]
    domain, first = rows[0], rows[1]
    assert domain["parent_identifier"] is None
    assert domain["depth"] == 0
    assert first["parent_identifier"] == str(built.domains[0].identifier)
    assert first["parent_code"] == "D00"
    assert first["depth"] == 1
    assert first["sequence"] == 1
    assert first["statement_ar"] == "الكفاءة 0.0"
    assert first["statement_fr"] == "Compétence 0.0"
    assert first["statement_lo"] == "ສະມັດຕະພາບ 0.0"
    assert [(i["level"], i["value"]) for i in first["indicators"]] == [
        ("1", 1),
        ("2", 2),
        ("3", 3),
        ("4", 4),
    ]
    assert first["indicators"][2]["text_en"] == "D00.C00 at 3"


@pytest.mark.django_db
def test_scales(ministry: MiniMinistry, api_for) -> None:
    api = api_for("teacher")
    assert "default-5" in {row["code"] for row in api.get("/api/v1/scales/").json()}
    body = api.get("/api/v1/scales/default-5/").json()
    assert [level["value"] for level in body["levels"]] == [0, 1, 2, 3, 4]
    assert body["levels"][4]["name_ar"] == "خبير"
    assert api.get("/api/v1/scales/nope/").status_code == 404


@pytest.mark.django_db
def test_profiles_show_inherited_requirements(ministry: MiniMinistry, api_for) -> None:
    built = build_framework(status=FrameworkStatus.PUBLISHED, profiles=4)
    rows = api_for("teacher").get(f"/api/v1/frameworks/{built.framework.pk}/profiles/").json()
    by_code = {row["code"]: row for row in rows}
    assert [row["code"] for row in rows] == ["P00", "P01", "P02", "P03"]
    assert by_code["P02"]["base"] == "P01"
    assert by_code["P00"]["base"] is None
    for profile in built.profiles:
        body = by_code[profile.code]
        expected = profile_requirements(profile=profile)
        effective = {row["item"]: row for row in body["effective_requirements"]}
        codes = {item.pk: item.code for item in built.competencies}
        assert set(effective) == {codes[item_id] for item_id in expected}
        for item_id, requirement in expected.items():
            row = effective[codes[item_id]]
            assert row["level"] == requirement.level.code
            assert row["weight"] == requirement.weight
            source = requirement.inherited_from
            assert row["inherited_from"] == (None if source == profile.code else source)
        own = Requirement.objects.filter(profile=profile).count()
        assert len(body["requirements"]) == own
        assert all(row["inherited_from"] is None for row in body["requirements"])
    # P02 inherits through P01 from P00: something comes from each.
    sources = {row["inherited_from"] for row in by_code["P02"]["effective_requirements"]}
    assert sources == {None, "P01", "P00"}
    assert all(r["inherited_from"] is None for r in by_code["P03"]["effective_requirements"])


@pytest.mark.django_db
def test_put_and_delete_requirement(ministry: MiniMinistry, api_for) -> None:
    built = build_framework()
    api = api_for("central")
    item = built.competencies[1]
    url = _url(built, "P00", item.code)
    response = api.put(url, {"level": "4", "weight": 4}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "profile": "P00",
        "item": item.code,
        "level": "4",
        "level_value": 4,
        "weight": 4,
    }
    requirement = Requirement.objects.get(profile=built.profiles[0], item=item)
    assert (requirement.level.value, requirement.weight) == (4, 4)
    # Weight defaults to 2 ("important").
    assert api.put(url, {"level": "2"}, format="json").json()["weight"] == 2
    assert api.delete(url).status_code == 204
    assert not Requirement.objects.filter(profile=built.profiles[0], item=item).exists()
    # Empty level removes too; removing what is not there is not an error.
    assert api.put(url, {"level": None}, format="json").status_code == 204
    assert AuditEvent.objects.filter(object_type="frameworks.requirement").count() >= 3


@pytest.mark.django_db
def test_requirement_errors_have_codes(ministry: MiniMinistry, api_for) -> None:
    built = build_framework()
    published = build_framework(code="PUB", status=FrameworkStatus.PUBLISHED)
    item = built.competencies[0].code
    central = api_for("central")

    bad_level = central.put(_url(built, "P00", item), {"level": "9"}, format="json")
    assert bad_level.status_code == 400
    assert (bad_level.json()["code"], bad_level.json()["field"]) == ("invalid_choice", "level")
    bad_weight = central.put(_url(built, "P00", item), {"level": "1", "weight": 7}, format="json")
    assert (bad_weight.json()["code"], bad_weight.json()["field"]) == ("invalid_choice", "weight")

    not_draft = central.put(_url(published, "P00", item), {"level": "1"}, format="json")
    assert not_draft.status_code == 400
    assert not_draft.json()["code"] == "framework_not_draft"
    assert "new version" in not_draft.json()["detail"]
    assert central.delete(_url(published, "P00", item)).json()["code"] == "framework_not_draft"

    # A head teacher reads the published framework but may not edit it; the draft is hidden.
    head = api_for("head")
    refused = head.put(_url(published, "P00", item), {"level": "1"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "framework_edit_not_allowed"
    assert AuditEvent.objects.filter(action=AuditAction.ACCESS_DENIED).exists()
    assert head.delete(_url(published, "P00", item)).status_code == 403
    assert head.put(_url(built, "P00", item), {"level": "1"}, format="json").status_code == 404

    assert central.put(_url(built, "NOPE", item), {"level": "1"}, format="json").status_code == 404
    domain = built.domains[0].code
    assert central.put(_url(built, "P00", domain), {"level": "1"}, format="json").status_code == 404
    assert Requirement.objects.filter(profile__framework=published.framework).count() == (
        Requirement.objects.filter(profile__framework=built.framework).count()
    )


@pytest.mark.django_db
def test_requirement_through_service_matches_api(ministry: MiniMinistry, api_for) -> None:
    """The API is a thin layer: what it writes is what the service would write."""
    built = build_framework()
    item = built.competencies[2]
    level = built.framework.scale.levels.get(code="3")
    services.requirement_set(
        actor=ministry.users["admin"], profile=built.profiles[1], item=item, level=level, weight=3
    )
    rows = api_for("admin").get(f"/api/v1/frameworks/{built.framework.pk}/profiles/").json()
    p01 = next(row for row in rows if row["code"] == "P01")
    row = next(r for r in p01["requirements"] if r["item"] == item.code)
    assert (row["level"], row["weight"], row["inherited_from"]) == ("3", 3, None)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "bound"),
    [
        # Each includes the caller's grants (one query, cached on the user after that).
        ("/api/v1/frameworks/", 3),
        ("/api/v1/scales/", 3),
        ("/api/v1/frameworks/{pk}/items/", 5),  # + item relations
        ("/api/v1/frameworks/{pk}/profiles/", 4),
        ("/api/v1/frameworks/{pk}/", 6),
    ],
)
def test_list_query_counts_do_not_grow(
    ministry: MiniMinistry, api_for, django_assert_max_num_queries, path: str, bound: int
) -> None:
    api = api_for("central")
    small = build_framework(code="SMALL", domains=1, per_domain=2, profiles=2)
    with django_assert_max_num_queries(bound) as captured:
        assert api.get(path.format(pk=small.framework.pk)).status_code == 200
    baseline = len(captured.captured_queries)
    big = build_framework(code="BIG", domains=8, per_domain=10, profiles=15)
    for n in range(5):
        build_framework(code=f"MORE{n}", domains=1, per_domain=1, profiles=1)
    ProficiencyScale.objects.create(code="three", name="Three levels")
    with django_assert_max_num_queries(baseline):
        body = api.get(path.format(pk=big.framework.pk)).json()
    if path.endswith("/items/"):
        assert len(body) == 88
    if path.endswith("/profiles/"):
        assert len(body) == 15
