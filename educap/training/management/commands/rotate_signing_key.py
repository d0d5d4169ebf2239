"""Start signing credentials with a new key; the old ones stay published in the JWKS."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from educap.training.signing import ALGORITHMS, configured_algorithm, signing_key_rotate


class Command(BaseCommand):
    help = (
        "Create a new credential signing key and make it the active one. Credentials signed "
        "with earlier keys keep verifying: their public keys stay in /.well-known/jwks.json."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--algorithm",
            choices=ALGORITHMS,
            help="Key type of the new key (default: EDUCAP_SIGNING_ALGORITHM, else EdDSA).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            key = signing_key_rotate(
                actor=None, algorithm=options["algorithm"] or configured_algorithm()
            )
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        # The key id and algorithm only: the private key is never printed.
        self.stdout.write(self.style.SUCCESS(f"New signing key {key.kid} ({key.algorithm})."))
