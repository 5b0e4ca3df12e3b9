"""Fixtures of the job and import tests: uploads under a temporary MEDIA_ROOT, files to import."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from recommender.services.ingest.batches import items_upsert_batch
from tenants.models import Tenant


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


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
