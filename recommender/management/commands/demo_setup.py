"""`manage.py demo_setup`: the demo tenant with data, an admin login and an API key (idempotent)."""

from typing import Any

from django.core.management.base import BaseCommand

from recommender.services.ingest.demo import demo_setup


class Command(BaseCommand):
    help = "Create the demo tenant (once) and print its API key and the admin login."

    def handle(self, *args: Any, **options: Any) -> None:
        result = demo_setup(progress=lambda line: self.stderr.write(f"  loading demo {line}"))
        if result.loaded:
            counts = ", ".join(f"{n} {what}" for what, n in result.loaded.items())
            self.stdout.write(f"Demo tenant '{result.tenant.slug}' created with {counts}.")
        else:
            self.stdout.write(f"Demo tenant '{result.tenant.slug}' already loaded.")
        self.stdout.write(f"Admin login: {result.admin_username} / {result.admin_password}")
        self.stdout.write(f"Demo API key: {result.api_key}")
