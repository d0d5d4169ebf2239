"""Shared test set-up: tasks run immediately, a small ministry to test against."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.utils import translation
from hypothesis import settings as hypothesis_settings

from educap.core.testing import MiniMinistry, build_mini_ministry

# Machines here are shared and slow at times: no per-example deadline. CI replays the same
# examples every run (derandomize), so a red build is reproducible rather than a dice roll.
hypothesis_settings.register_profile("educap", deadline=None)
hypothesis_settings.register_profile("ci", deadline=None, derandomize=True)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "educap")


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: pytest.FixtureRequest) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    # A request in Arabic leaves its language active in the thread; start every test in English.
    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture
def ministry(db: None) -> MiniMinistry:
    return build_mini_ministry()
