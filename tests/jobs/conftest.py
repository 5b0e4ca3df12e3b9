"""Fixtures of the job and import tests: uploads under a temporary MEDIA_ROOT, files to import,
messages recorded instead of sent."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from recommender.services.ingest.batches import items_upsert_batch
from recsys_platform.celery import app as celery_app
from tenants.models import Tenant
from tests.jobs.processes import start_celery as start_celery  # a fixture of the fault tests


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The messages the code under test sends, recorded instead of going to the broker."""
    messages: list[dict[str, Any]] = []

    def send_task(name: str, **options: Any) -> None:
        messages.append({"name": name, **options})

    monkeypatch.setattr(celery_app, "send_task", send_task)
    return messages


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def catalog(tenant: Tenant) -> list[str]:
    """Items sku-0 … sku-9 of `tenant`, stored through the API's own service."""
    ids = [f"sku-{n}" for n in range(10)]
    items_upsert_batch(tenant=tenant, payload={"items": [{"id": i, "title": i} for i in ids]})
    return ids
