"""A stored framework version as the neutral `FrameworkRecord` every format serialises.

The inverse of `educap.frameworks.importing`: importing the record this gives back into
the same code and version changes nothing. Eight queries whatever the framework's size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from educap.frameworks.io.records import (
    LANGUAGES,
    FrameworkRecord,
    ItemRecord,
    LevelRecord,
    ProfileRecord,
    RelationRecord,
    RequirementRecord,
    ScaleRecord,
    Texts,
)
from educap.frameworks.models import (
    Framework,
    FrameworkItem,
    ItemRelation,
    LevelIndicator,
    ProficiencyScale,
    RelationKind,
    Requirement,
    RoleProfile,
    ScaleLevel,
)

__all__ = ["framework_to_record", "scale_to_record", "texts_of"]

_M = TypeVar("_M", bound=Model)


def _rows(model: type[_M]) -> QuerySet[_M]:
    """A plain queryset: modeltranslation's would read `title` as the active language's
    column, and post-process every row."""
    return QuerySet(model=model)


def _localized(field: str) -> list[str]:
    return [f"{field}_{lang}" for lang in LANGUAGES]


def texts_of(row: Mapping[str, Any], field: str, language: str = "en") -> Texts:
    """{"en": ..., "ar": ...} from a row's `<field>_<lang>` values, empty ones left out.

    A row written without translations (only the plain field) gives the plain value in
    `language`.
    """
    texts = {lang: row[f"{field}_{lang}"] for lang in LANGUAGES if row.get(f"{field}_{lang}")}
    if not texts and row.get(field):
        texts[language] = row[field]
    return texts


def scale_to_record(scale_id: int, language: str = "en") -> ScaleRecord:
    """A scale and its levels (texts in every language), in two queries."""
    scale_row = (
        _rows(ProficiencyScale)
        .filter(pk=scale_id)
        .values(
            "code",
            "identifier",
            "name",
            "description",
            *_localized("name"),
            *_localized("description"),
        )
        .get()
    )
    levels = (
        _rows(ScaleLevel)
        .filter(scale_id=scale_id)
        .order_by("value")
        .values(
            "code", "value", "name", "descriptor", *_localized("name"), *_localized("descriptor")
        )
    )
    return ScaleRecord(
        code=scale_row["code"],
        identifier=scale_row["identifier"],
        name=texts_of(scale_row, "name", language),
        description=texts_of(scale_row, "description", language),
        levels=[
            LevelRecord(
                code=level["code"],
                value=level["value"],
                name=texts_of(level, "name", language),
                descriptor=texts_of(level, "descriptor", language),
            )
            for level in levels
        ],
    )


def framework_to_record(framework: Framework) -> FrameworkRecord:
    """Everything about one framework version: texts in every language, tree, levels,
    relations, role profiles and scale."""
    fw = (
        _rows(Framework)
        .filter(pk=framework.pk)
        .values(
            "code",
            "version",
            "identifier",
            "language",
            "licence",
            "source",
            "publisher",
            "status",
            "scale_id",
            "title",
            "description",
            *_localized("title"),
            *_localized("description"),
        )
        .get()
    )
    lang = fw["language"] or "en"
    scale = scale_to_record(fw["scale_id"], lang)
    return FrameworkRecord(
        code=fw["code"],
        title=texts_of(fw, "title", lang),
        identifier=fw["identifier"],
        version=fw["version"],
        language=lang,
        description=texts_of(fw, "description", lang),
        licence=fw["licence"],
        source=fw["source"],
        publisher=fw["publisher"],
        status=fw["status"],
        scale=scale,
        items=_items(framework.pk, lang),
        relations=_relations(framework.pk),
        profiles=_profiles(framework.pk, lang),
    )


def _items(framework_id: int, lang: str) -> list[ItemRecord]:
    rows = list(
        _rows(FrameworkItem)
        .filter(framework_id=framework_id)
        .order_by("sequence", "id")
        .values(
            "id",
            "parent_id",
            "kind",
            "code",
            "identifier",
            "sequence",
            "keywords",
            "statement",
            "description",
            *_localized("statement"),
            *_localized("description"),
        )
    )
    indicators: dict[int, dict[str, Texts]] = defaultdict(dict)
    indicator_rows = (
        _rows(LevelIndicator)
        .filter(item__framework_id=framework_id)
        .order_by("level__value")
        .values("item_id", "level__code", "text", *_localized("text"))
    )
    for row in indicator_rows:
        texts = texts_of(row, "text", lang)
        if texts:
            indicators[row["item_id"]][row["level__code"]] = texts
    identifier_of = {row["id"]: row["identifier"] for row in rows}
    children: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        children[row["parent_id"]].append(row)
    # Parents before children, siblings in order: what the formats and the importer expect.
    ordered: list[ItemRecord] = []
    stack = list(reversed(children[None]))
    while stack:
        row = stack.pop()
        ordered.append(
            ItemRecord(
                identifier=row["identifier"],
                code=row["code"],
                kind=row["kind"],
                statement=texts_of(row, "statement", lang),
                parent=identifier_of.get(row["parent_id"], "") if row["parent_id"] else "",
                sequence=row["sequence"],
                description=texts_of(row, "description", lang),
                keywords=row["keywords"],
                indicators=indicators.get(row["id"], {}),
            )
        )
        stack.extend(reversed(children.get(row["id"], [])))
    return ordered


def _relations(framework_id: int) -> list[RelationRecord]:
    rows = (
        _rows(ItemRelation)
        .filter(framework_id=framework_id)
        .order_by("id")
        .values(
            "source__identifier",
            "kind",
            "kind_label",
            "target__identifier",
            "target_identifier",
            "target_uri",
            "identifier",
            "sequence",
        )
    )
    return [
        RelationRecord(
            source=row["source__identifier"],
            # Unknown CASE types were stored as OTHER with their original name.
            kind=row["kind_label"]
            if row["kind"] == RelationKind.OTHER and row["kind_label"]
            else row["kind"],
            target=row["target__identifier"] or row["target_identifier"],
            target_uri="" if row["target__identifier"] else row["target_uri"],
            identifier=row["identifier"],
            sequence=row["sequence"],
        )
        for row in rows
    ]


def _profiles(framework_id: int, lang: str) -> list[ProfileRecord]:
    requirements: dict[int, list[RequirementRecord]] = defaultdict(list)
    requirement_rows = (
        _rows(Requirement)
        .filter(profile__framework_id=framework_id)
        .order_by("profile_id", "item__sequence", "item_id")
        .values("profile_id", "item__identifier", "level__code", "weight")
    )
    for row in requirement_rows:
        requirements[row["profile_id"]].append(
            RequirementRecord(
                item=row["item__identifier"], level=row["level__code"], weight=row["weight"]
            )
        )
    rows = (
        _rows(RoleProfile)
        .filter(framework_id=framework_id)
        .order_by("code")
        .values("id", "code", "name", "role__code", "base__code", *_localized("name"))
    )
    return [
        ProfileRecord(
            code=row["code"],
            name=texts_of(row, "name", lang),
            role=row["role__code"] or "",
            base=row["base__code"] or "",
            requirements=requirements.get(row["id"], []),
        )
        for row in rows
    ]
