"""`make run`: load the demo if the database is empty, then serve the web app and a task worker."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve EduCap on HOST:PORT with a background task worker; Ctrl-C stops both."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")
        parser.add_argument("--no-seed", action="store_true", help="Do not load the demo ministry.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_seed"]:
            call_command("seed_demo", "--if-empty")
        manage = [sys.executable, "manage.py"]
        address = f"{options['host']}:{options['port']}"
        processes = [
            subprocess.Popen([*manage, "runserver", address, "--noreload"]),  # noqa: S603
            subprocess.Popen([*manage, "db_worker"]),  # noqa: S603
        ]
        self.stdout.write(
            self.style.SUCCESS(f"EduCap is running on http://{address}/ (Ctrl-C stops it).")
        )
        try:
            while all(p.poll() is None for p in processes):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
        failed = [p.returncode for p in processes if p.returncode not in (0, None, -2, 130)]
        if failed:
            sys.exit(1)
