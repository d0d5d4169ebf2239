"""PlainSelect writes what Django's select templates write."""

from __future__ import annotations

import re

import pytest
from django import forms
from hypothesis import given
from hypothesis import strategies as st

from educap.core.widgets import PlainSelect


def _normalise(html: str) -> str:
    return re.sub(r"\s+", " ", html).strip()


LABELS = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)


@given(
    choices=st.lists(st.tuples(LABELS, LABELS), max_size=6, unique_by=lambda c: c[0]),
    chosen=st.none() | LABELS,
    disabled=st.booleans(),
)
def test_the_same_html_as_the_templates(choices, chosen, disabled) -> None:
    attrs = {"class": 'form-select "x" <y>', "disabled": disabled, "data-n": 3}
    plain = PlainSelect(attrs=attrs, choices=choices).render("role", chosen, {"id": "id_role"})
    django = forms.Select(attrs=attrs, choices=choices).render("role", chosen, {"id": "id_role"})
    assert _normalise(plain) == _normalise(django)


def test_labels_and_values_are_escaped() -> None:
    html = PlainSelect(choices=[('"><script>', "<b>Teacher</b> & co")]).render("r", None)
    assert "<script>" not in html
    assert "<b>" not in html
    assert "&lt;b&gt;Teacher&lt;/b&gt; &amp; co" in html


@pytest.mark.parametrize("grouped", [[("Group", [("a", "A")])]])
def test_option_groups_fall_back_to_the_templates(grouped) -> None:
    assert "<optgroup" in PlainSelect(choices=grouped).render("r", "a")
