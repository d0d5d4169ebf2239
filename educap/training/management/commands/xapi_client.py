"""Manage the credentials external platforms use to send xAPI statements."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from educap.training.models import XapiClient
from educap.training.services.xapi import xapi_client_create, xapi_client_deactivate


class Command(BaseCommand):
    help = (
        "Create, list or deactivate xAPI client credentials (HTTP basic key and secret for "
        "POST/PUT/GET /xapi/statements). The secret is printed once and never stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="New credentials; prints key and secret.")
        create.add_argument("name", help='Name of the platform, e.g. "Ministry Moodle".')
        actions.add_parser("list", help="Every client with its key, state and last use.")
        deactivate = actions.add_parser("deactivate", help="Stop a key from working.")
        deactivate.add_argument("key", help="The client key.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            name = options["name"].strip()
            if not name:
                raise CommandError("Give the platform a name.")
            client, secret = xapi_client_create(actor=None, name=name)
            self.stdout.write(self.style.SUCCESS(f"Created xAPI client {client.name}."))
            self.stdout.write(f"key:    {client.key}")
            self.stdout.write(f"secret: {secret}")
            self.stdout.write("Store the secret now: it is not kept and cannot be shown again.")
        elif action == "list":
            clients = XapiClient.objects.order_by("name", "pk")
            if not clients:
                self.stdout.write("No xAPI clients.")
            for client in clients:
                state = "active" if client.is_active else "inactive"
                used = client.last_used_at.isoformat() if client.last_used_at else "never used"
                self.stdout.write(f"{client.key}\t{state}\t{used}\t{client.name}")
        else:
            client = XapiClient.objects.filter(key=options["key"]).first()
            if client is None:
                raise CommandError(f"No xAPI client with key {options['key']}.")
            if not client.is_active:
                self.stdout.write(f"{client.key} ({client.name}) was already inactive.")
                return
            xapi_client_deactivate(actor=None, client=client)
            self.stdout.write(self.style.SUCCESS(f"Deactivated {client.key} ({client.name})."))
