"""`manage.py create_tenant SLUG`: create (or reuse) a tenant; print a new all-scope key last."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from recsys_platform.errors import ApplicationError
from tenants.services import api_key_create, tenant_get_or_create


class Command(BaseCommand):
    help = "Create a tenant (or reuse it) and print a new API key with all scopes on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", default=None, help="Display name (default: the slug).")

    def handle(self, *args: Any, slug: str, name: str | None, **options: Any) -> None:
        try:
            tenant, created = tenant_get_or_create(slug=slug, name=name)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        _, raw_key = api_key_create(tenant=tenant, name="create_tenant")
        verb = "Created" if created else "Reusing"
        self.stderr.write(f"{verb} tenant {tenant.slug!r}; new API key (shown once) follows.")
        self.stdout.write(raw_key)
