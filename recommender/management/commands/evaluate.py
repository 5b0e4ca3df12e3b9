"""`manage.py evaluate --tenant SLUG [--k 10] [--users 1000] [--store]`: offline metrics now.

Each enabled source alone, the fused list and popularity (the floor), on a temporal hold-out of
the tenant's events; prints a table, then each row on the warm-user, cold-user and cold-item
slices, and with `--store` keeps the result on the active model version.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from recommender.services.console.evaluation import (
    metrics_table,
    slices_table,
    tenant_evaluate,
)
from recsys_platform.errors import ApplicationError
from tenants.models import Tenant
from tenants.scoping import tenant_scope


class Command(BaseCommand):
    help = "Evaluate a tenant's recommenders offline on a temporal hold-out."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="the tenant's slug")
        parser.add_argument("--k", type=int, default=None, help="list length (default: config)")
        parser.add_argument("--users", type=int, default=None, help="users sampled (config)")
        parser.add_argument("--store", action="store_true", help="keep on the active version")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {options['tenant']!r}.")
        if options["k"] is not None and not 1 <= options["k"] <= 100:
            raise CommandError("--k must be from 1 to 100.")
        if options["users"] is not None and options["users"] < 1:
            raise CommandError("--users must be at least 1.")
        try:
            with tenant_scope(tenant):
                result = tenant_evaluate(
                    tenant=tenant, k=options["k"], users=options["users"], store=options["store"]
                )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"{tenant.slug}: {result['users']} users, cut-off {result['cutoff']}, k={result['k']}"
        )
        if "not_evaluated" in result:
            self.stdout.write(f"not evaluated: {result['not_evaluated']}")
        else:
            self.stdout.write(metrics_table(result))
            self.stdout.write("")
            self.stdout.write(slices_table(result))
        for name, reason in result.get("skipped", {}).items():
            self.stdout.write(f"skipped {name}: {reason}")
        if "stored_on" in result:
            self.stdout.write(f"stored on model {result['stored_on']}")
