"""The platform's own wiring: embedded services reachable, pgvector installed, safe production."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_database_is_postgres_with_pgvector() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        (version,) = cursor.fetchone()
        cursor.execute("SHOW server_version_num")
        (server_version,) = cursor.fetchone()
    assert tuple(int(p) for p in version.split(".")[:2]) >= (0, 8)
    assert int(server_version) >= 180000


@pytest.mark.parametrize(
    ("env", "refused"),
    [
        ({"RECSYS_PRODUCTION": "1"}, True),
        ({"RECSYS_PRODUCTION": "1", "SECRET_KEY": "x" * 50, "DEBUG": "1"}, True),
        ({"RECSYS_PRODUCTION": "1", "SECRET_KEY": "short"}, True),
        ({"RECSYS_PRODUCTION": "1", "SECRET_KEY": "x" * 50}, False),
    ],
)
def test_production_settings_refuse_unsafe_values(env: dict[str, str], refused: bool) -> None:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**clean, "DJANGO_SETTINGS_MODULE": "recsys_platform.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode != 0) is refused, result.stderr[-2000:]
    if refused:
        assert "RECSYS_PRODUCTION" in result.stderr
