"""`manage.py embedded_services status|stop`: the embedded PostgreSQL and Redis."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from recsys_platform import embedded


class Command(BaseCommand):
    help = "Show or stop the embedded PostgreSQL and Redis (they start by themselves on use)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["status", "stop"])

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        data_dir = settings.RECSYS_DATA_DIR
        if action == "stop":
            embedded.stop_embedded(data_dir)
            self.stdout.write(f"Stopped the embedded servers of {data_dir}.")
            return
        database = settings.DATABASES["default"]
        self.stdout.write(f"database: {database.get('HOST') or '-'} / {database['NAME']}")
        self.stdout.write(f"broker:   {settings.CELERY_BROKER_URL.split('@')[-1]}")
