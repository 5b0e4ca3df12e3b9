"""Requests as gunicorn receives them (a real server on a free port, with gunicorn.conf.py):
chunked bodies are read, declared charsets honoured or refused with 415, and a long request line
reaches the API's JSON envelope instead of gunicorn's HTML 414."""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from recommender.models import Item
from tenants.models import Tenant
from tenants.services import api_key_create
from tests.factories import ItemFactory

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(django_db_setup: None) -> Iterator[int]:
    """One gunicorn for the module (it starts in seconds); each test commits its own rows."""
    if os.environ.get("DATABASE_URL"):
        pytest.skip("the gunicorn test runs against the embedded database")
    port = _free_port()
    env = {
        **os.environ,
        "RECSYS_EMBEDDED_DB_NAME": connection.settings_dict["NAME"],
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "recsys_platform.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, "gunicorn exited"
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(30)


def _request(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes | None = None,
    chunked: bool = False,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    if chunked:
        conn.putrequest(method, path)
        for name, value in {**headers, "Transfer-Encoding": "chunked"}.items():
            conn.putheader(name, value)
        conn.endheaders()
        assert body is not None
        for start in range(0, len(body), 7):  # several chunks
            piece = body[start : start + 7]
            conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        conn.send(b"0\r\n\r\n")
    else:
        conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, dict(response.getheaders()), response.read()


@pytest.fixture
def key(transactional_db: None, tenant: Tenant) -> str:
    ItemFactory(tenant=tenant, external_id="sku-1", title="Tea")
    return api_key_create(tenant=tenant)[1]


def test_a_chunked_batch_is_read_whole(server: int, key: str, tenant: Tenant) -> None:
    body = json.dumps({"items": [{"id": "sku-2", "title": "Kettle"}]}).encode()
    status, _, content = _request(
        server,
        "POST",
        "/api/v1/items/batch",
        {"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        body,
        chunked=True,
    )
    assert status == 200, content
    assert json.loads(content) == {"created": 1, "updated": 0}
    assert Item.objects.for_tenant(tenant).filter(external_id="sku-2").exists()


def test_a_latin1_body_is_decoded_and_an_unknown_charset_is_415(
    server: int, key: str, tenant: Tenant
) -> None:
    body = '{"items": [{"id": "sku-3", "title": "Crème brûlée"}]}'.encode("latin-1")
    auth = {"Authorization": f"Bearer {key}"}
    status, _, content = _request(
        server,
        "POST",
        "/api/v1/items/batch",
        {**auth, "Content-Type": "application/json; charset=latin-1"},
        body,
    )
    assert status == 200, content
    assert Item.objects.for_tenant(tenant).get(external_id="sku-3").title == "Crème brûlée"
    status, _, content = _request(
        server,
        "POST",
        "/api/v1/items/batch",
        {**auth, "Content-Type": "application/json; charset=no-such-charset"},
        body,
    )
    assert status == 415, content
    assert json.loads(content)["error"]["code"] == "unsupported_media_type"


def test_a_long_path_is_answered_in_the_envelope(server: int, key: str) -> None:
    path = "/api/v1/items/" + "x" * 6000
    status, headers, content = _request(server, "GET", path, {"Authorization": f"Bearer {key}"})
    assert status == 404, content[:200]
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(content)["error"]["code"] == "not_found"
