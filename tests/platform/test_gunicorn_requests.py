"""Requests as gunicorn receives them (a real server on a free port, with gunicorn.conf.py):
chunked bodies are read, declared charsets honoured or refused with 415, a long request line
reaches the API's JSON envelope, and what gunicorn itself refuses (a request line or a header past
its limits) is answered in the same envelope, not gunicorn's HTML."""

import http.client
import json
import os
from collections.abc import Iterator

import pytest

from recommender.models import Item
from tenants.models import Tenant
from tenants.services import api_key_create
from tests.factories import ItemFactory
from tests.platform.gunicorn_server import gunicorn_server


@pytest.fixture(scope="module")
def server(django_db_setup: None) -> Iterator[int]:
    """One gunicorn for the module (it starts in seconds); each test commits its own rows."""
    if os.environ.get("DATABASE_URL"):
        pytest.skip("the gunicorn test runs against the embedded database")
    with gunicorn_server() as port:
        yield port


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


@pytest.mark.parametrize("query_length", [8200, 20000])
def test_a_request_line_past_gunicorns_limit_is_414_in_the_envelope(
    server: int, key: str, query_length: int
) -> None:
    # gunicorn refuses the line before Django runs; its answer is still the JSON envelope.
    path = "/api/v1/items?cursor=" + "x" * query_length
    status, headers, content = _request(server, "GET", path, {"Authorization": f"Bearer {key}"})
    assert status == 414, content[:200]
    assert headers["Content-Type"] == "application/json"
    assert json.loads(content) == {
        "error": {
            "code": "uri_too_long",
            "message": "The request line (method, path and query) is too long.",
            "details": [],
        }
    }


def test_a_header_past_gunicorns_limit_is_431_in_the_envelope(server: int, key: str) -> None:
    status, headers, content = _request(
        server, "GET", "/api/v1/items", {"Authorization": f"Bearer {key}", "X-Big": "y" * 9000}
    )
    assert status == 431, content[:200]
    assert headers["Content-Type"] == "application/json"
    assert json.loads(content)["error"]["code"] == "header_too_large"
