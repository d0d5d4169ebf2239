"""`manage.py install_mass_survey`: install the Management and Administration Skills Survey."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from educap.assessments.surveys import install_mass_survey


class Command(BaseCommand):
    help = (
        "Install the Management and Administration Skills Survey (code MASS) that ships with "
        "EduCap, in English, Arabic, French and Lao. Safe to run again: an installed version "
        "is left as it is."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            survey = install_mass_survey()
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        questions = sum(s.questions.count() for s in survey.sections.all())
        self.stdout.write(
            self.style.SUCCESS(
                f"{survey.code} {survey.version}: {survey.sections.count()} sections, "
                f"{questions} questions."
            )
        )
