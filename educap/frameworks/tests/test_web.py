import pytest
from django.test import Client
from django.urls import reverse

from educap.core.testing import MiniMinistry
from educap.frameworks.models import Framework, FrameworkItem, FrameworkStatus
from educap.frameworks.tests.factories import make_framework


def client_for(ministry: MiniMinistry, username: str) -> Client:
    client = Client()
    client.force_login(ministry.users[username])
    return client


@pytest.mark.django_db
def test_list_hides_drafts_from_non_authors(ministry: MiniMinistry) -> None:
    make_framework(code="DRAFTY")
    make_framework(code="PUB", status=FrameworkStatus.PUBLISHED)
    teacher = client_for(ministry, "teacher").get(reverse("frameworks:list")).content.decode()
    assert "PUB" in teacher
    assert "DRAFTY" not in teacher
    central = client_for(ministry, "central").get(reverse("frameworks:list")).content.decode()
    assert "DRAFTY" in central


@pytest.mark.django_db
def test_detail_shows_tree_with_descriptors_side_by_side(ministry: MiniMinistry) -> None:
    framework = make_framework(status=FrameworkStatus.PUBLISHED)
    html = client_for(ministry, "teacher").get(reverse("frameworks:detail", args=[framework.pk]))
    text = html.content.decode()
    assert "Competency 1.1" in text
    assert "D1.1 at level 4" in text
    assert "Expert" in text  # level heading
    assert "Add an item" not in text


@pytest.mark.django_db
def test_detail_in_arabic_uses_translated_statements(ministry: MiniMinistry) -> None:
    framework = make_framework(status=FrameworkStatus.PUBLISHED)
    client = client_for(ministry, "teacher")
    client.cookies["django_language"] = "ar"
    text = client.get(reverse("frameworks:detail", args=[framework.pk])).content.decode()
    assert "كفاءة 1.1" in text
    assert 'dir="rtl"' in text


@pytest.mark.django_db
def test_search_keeps_matches_and_their_domain(ministry: MiniMinistry) -> None:
    framework = make_framework(status=FrameworkStatus.PUBLISHED)
    client = client_for(ministry, "teacher")
    text = client.get(
        reverse("frameworks:detail", args=[framework.pk]),
        {"q": "Competency 2.2"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="framework-tree",
    ).content.decode()
    assert "Competency 2.2" in text
    assert "Domain 2" in text
    assert "Competency 1.1" not in text


@pytest.mark.django_db
def test_author_adds_moves_deletes_and_publishes(ministry: MiniMinistry) -> None:
    framework = make_framework()
    client = client_for(ministry, "central")
    d1 = FrameworkItem.objects.get(framework=framework, code="D1")
    response = client.post(
        reverse("frameworks:item_add", args=[framework.pk]),
        {"kind": "competency", "code": "D1.3", "statement_en": "Third", "parent": d1.pk},
    )
    assert response.status_code == 302
    new = FrameworkItem.objects.get(framework=framework, code="D1.3")
    assert new.parent == d1
    client.post(
        reverse("frameworks:item_move", args=[framework.pk, new.pk]),
        {"direction": "up"},
        HTTP_HX_REQUEST="true",
    )
    assert list(d1.children.order_by("sequence").values_list("code", flat=True)) == [
        "D1.1",
        "D1.3",
        "D1.2",
    ]
    tree = client.post(
        reverse("frameworks:item_delete", args=[framework.pk, new.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "D1.3" not in tree
    confirm = client.get(reverse("frameworks:publish", args=[framework.pk])).content.decode()
    assert "can no longer change" in confirm
    client.post(reverse("frameworks:publish", args=[framework.pk]))
    framework.refresh_from_db()
    assert framework.status == FrameworkStatus.PUBLISHED


@pytest.mark.django_db
def test_new_version_and_compare(ministry: MiniMinistry) -> None:
    framework = make_framework(status=FrameworkStatus.PUBLISHED)
    client = client_for(ministry, "central")
    response = client.post(
        reverse("frameworks:new_version", args=[framework.pk]), {"version": "2.0"}
    )
    draft = Framework.objects.get(code=framework.code, version="2.0")
    assert response["Location"] == reverse("frameworks:detail", args=[draft.pk])
    item = FrameworkItem.objects.get(framework=draft, code="D2.2")
    client.post(reverse("frameworks:item_delete", args=[draft.pk, item.pk]))
    publish_page = client.get(reverse("frameworks:publish", args=[draft.pk])).content.decode()
    assert "removed" in publish_page
    compare = client.get(reverse("frameworks:compare", args=[draft.pk])).content.decode()
    assert "D2.2" in compare
    assert "removed" in compare


@pytest.mark.django_db
def test_non_authors_cannot_edit(ministry: MiniMinistry) -> None:
    framework = make_framework()
    client = client_for(ministry, "gov1")
    # A draft is invisible to them...
    assert client.get(reverse("frameworks:detail", args=[framework.pk])).status_code == 404
    framework.status = FrameworkStatus.PUBLISHED
    framework.save()
    # ...and a published version is read-only.
    response = client.post(reverse("frameworks:new_version", args=[framework.pk]), {"version": "9"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_detail_query_count_is_constant(
    ministry: MiniMinistry, django_assert_max_num_queries
) -> None:
    framework = make_framework(status=FrameworkStatus.PUBLISHED)
    client = client_for(ministry, "central")
    url = reverse("frameworks:detail", args=[framework.pk])
    with django_assert_max_num_queries(20) as small:
        client.get(url)
    d1 = FrameworkItem.objects.get(framework=framework, code="D1")
    for i in range(30):
        FrameworkItem.objects.create(
            framework=framework, parent=d1, kind="competency", code=f"X{i}", statement=f"X{i}"
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(url)


@pytest.mark.django_db
def test_author_edits_texts_and_level_indicators(ministry: MiniMinistry) -> None:
    framework = make_framework()
    item = FrameworkItem.objects.get(framework=framework, code="D1.1")
    client = client_for(ministry, "central")
    url = reverse("frameworks:item_edit", args=[framework.pk, item.pk])
    page = client.get(url).content.decode()
    assert "D1.1 at level 3" in page
    levels = {lvl.value: lvl.pk for lvl in framework.scale.levels.all()}
    data = {"code": "D1.1", "keywords": "census", "statement_en": "Plans the census"}
    data["statement_ar"] = "يخطط للتعداد"
    data[f"indicator_{levels[3]}_en"] = "Runs the census alone"
    data[f"indicator_{levels[3]}_ar"] = "يدير التعداد وحده"
    response = client.post(url, data)
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.statement_ar == "يخطط للتعداد"
    indicators = {i.level.value: i for i in item.indicators.select_related("level")}
    assert indicators[3].text_en == "Runs the census alone"
    assert indicators[3].text_ar == "يدير التعداد وحده"
    assert 4 not in indicators  # cleared: the form sent it empty
    missing = client.post(url, {"code": "D1.1"})
    assert missing.status_code == 200  # the English statement is required


@pytest.mark.django_db
def test_published_items_cannot_be_edited(ministry: MiniMinistry) -> None:
    framework = make_framework(status=FrameworkStatus.PUBLISHED)
    item = FrameworkItem.objects.get(framework=framework, code="D1.1")
    client = client_for(ministry, "central")
    url = reverse("frameworks:item_edit", args=[framework.pk, item.pk])
    response = client.post(url, {"code": "D1.1", "statement_en": "Changed"})
    assert "published versions cannot change" in response.content.decode().lower()
    item.refresh_from_db()
    assert item.statement == "Competency 1.1"


@pytest.mark.django_db
def test_edit_moves_an_item_under_another_domain(ministry: MiniMinistry) -> None:
    framework = make_framework()
    item = FrameworkItem.objects.get(framework=framework, code="D1.1")
    d2 = FrameworkItem.objects.get(framework=framework, code="D2")
    client = client_for(ministry, "central")
    url = reverse("frameworks:item_edit", args=[framework.pk, item.pk])
    page = client.get(url).content.decode()
    d1 = FrameworkItem.objects.get(framework=framework, code="D1")
    assert f'value="{d1.pk}" selected' in page
    response = client.post(url, {"code": "D1.1", "statement_en": "Moved", "parent": d2.pk})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.parent == d2
    # A domain cannot be put under its own competency: its subtree is not offered.
    domain_page = client.get(reverse("frameworks:item_edit", args=[framework.pk, d1.pk]))
    assert f'value="{FrameworkItem.objects.get(code="D1.2", framework=framework).pk}"' not in (
        domain_page.content.decode()
    )


@pytest.mark.django_db
def test_relations_are_shown_in_the_tree(ministry: MiniMinistry) -> None:
    from educap.frameworks.models import ItemRelation

    framework = make_framework(status=FrameworkStatus.PUBLISHED)
    source = FrameworkItem.objects.get(framework=framework, code="D1.1")
    target = FrameworkItem.objects.get(framework=framework, code="D2.2")
    ItemRelation.objects.create(
        framework=framework, source=source, kind="isRelatedTo", target=target
    )
    ItemRelation.objects.create(
        framework=framework,
        source=source,
        kind="exactMatchOf",
        target_identifier="ext-1",
        target_uri="https://case.example/CFItems/ext-1",
    )
    html = client_for(ministry, "teacher").get(reverse("frameworks:detail", args=[framework.pk]))
    text = html.content.decode()
    assert "Related to" in text
    assert "Competency 2.2" in text
    assert "https://case.example/CFItems/ext-1" in text
