"""The demo tenant: loaded once through the ingest services, with a working key and login."""

from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.management import call_command
from rest_framework.test import APIClient

from recommender.models import EndUser, Interaction, Item


@pytest.fixture
def data_dir(settings: Any, tmp_path: Any) -> Any:
    settings.RECSYS_DATA_DIR = tmp_path
    return tmp_path


def test_demo_setup_loads_once_and_prints_working_credentials(
    db: Any, data_dir: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("demo_setup")
    first = capsys.readouterr().out.splitlines()
    counts = {model: model.objects.unscoped().count() for model in (Item, EndUser, Interaction)}
    assert counts[Item] >= 2000
    assert counts[EndUser] >= 100
    assert counts[Interaction] >= 10_000

    call_command("demo_setup")
    second = capsys.readouterr().out.splitlines()
    assert {model: model.objects.unscoped().count() for model in counts} == counts
    assert "already loaded" in second[0]
    assert first[1:] == second[1:]  # the same login and key are reused

    password = first[1].split(" / ", 1)[1]
    assert authenticate(username="admin", password=password) is not None
    key = first[2].split(": ", 1)[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    page = client.get("/api/v1/items?limit=5")
    assert page.status_code == 200
    assert len(page.json()["results"]) == 5
    assert (data_dir / "demo_credentials.json").stat().st_mode & 0o077 == 0
    assert data_dir == settings.RECSYS_DATA_DIR
