"""Schemathesis against a real gunicorn on the test database, in the default test run.

The OpenAPI document (drf-spectacular, /api/schema/) drives every phase of `schemathesis run`:
examples (skipped: the document has none), coverage (each constraint at and past its bounds,
valid and invalid), fuzzing in positive and negative mode, and stateful sequences over the links
schemathesis infers. Every check runs (`checks.enabled = true`): server errors, status codes,
content types, response schemas and headers, positive data accepted, negative data refused,
missing auth and ignored auth, unsupported methods, use after free, resource availability, and
object-level authorization with a second tenant's key as the peer.

The world: one tenant with the retrieval catalog (encoded with the tiny model, trained), items
whose attribute `NAME` makes the document's `attr.NAME` placeholder a real filter, two jobs and
a running experiment; another tenant with data of its own. Id parameters draw most values from
ids that exist (the rest are generated, for the 404s), so id-taking operations reach real
objects; cursors are ones the API issued. What the document cannot state (a tenant's
interaction types, its items, cross-field and cross-row rules) is handled in
tests/api/schemathesis_hooks.py, each rule with why.

Bounds: at most MAX_EXAMPLES cases per operation and phase, at most MAX_STEPS per stateful
sequence; deterministic generation with no example database, so each run sends the same
requests; gunicorn's rate limits are lifted so the run exercises the API, not 429s (their own
tests are elsewhere). About 1,900 requests, 1-2 minutes on two cores.
"""

import json
import os
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from recommender import vectorstore
from recommender.models import EmbeddingSpace, EndUser, Item, Job
from recommender.services.config import (
    interaction_types,
)
from tenants.models import ApiKey, Tenant
from tenants.services import api_key_create
from tests.api.live_world import train_under_experiment
from tests.api.schemathesis_hooks import inapplicable
from tests.factories import EndUserFactory, InteractionFactory, ItemFactory
from tests.platform.gunicorn_server import gunicorn_server
from tests.retrieval.conftest import ITEM_IDS, USERS, store_catalog

ROOT = Path(__file__).resolve().parents[2]
HOOKS = "tests.api.schemathesis_hooks"  # filter_failure: the rules the document cannot state
MAX_EXAMPLES = 20
MAX_STEPS = 8
# Share of id parameters drawn from the ids that exist; the rest are generated (404s, odd ids).
KNOWN_ID_SHARE = 0.8
# Objects the DELETE operations may take, so the reads keep finding the catalog.
DISPOSABLE = [f"disposable-{n}" for n in range(5)]
STORED_EVENT = "stored-event"
# The document lists the attribute filters under the placeholder `attr.NAME`; items of the world
# have an attribute called NAME, so the placeholder is a real filter.
ATTRIBUTE_FILTERS = ["Acme", "Acme|Zeta", "1..5", "..5", "2..", "true"]
# Sizes outside JSON Schema's reach (bytes of the body, the request line, the headers): a
# request may be valid per the schema and still too large, and is then refused with the
# documented 413, 414 or 431 in the envelope.
SIZE_REFUSALS = [413, 414, 431]
DELETES = {
    "DELETE /api/v1/items/{item_id}": "item_id",
    "DELETE /api/v1/users/{user_id}": "user_id",
    "DELETE /api/v1/users/{user_id}/interactions": "user_id",
    "DELETE /api/v1/interactions/{event_id}": "event_id",
}
PLAIN_LISTS = ["GET /api/v1/items", "GET /api/v1/users", "GET /api/v1/jobs"]
PATCHES = {"PATCH /api/v1/items/{item_id}": "item_id", "PATCH /api/v1/users/{user_id}": "user_id"}


@dataclass
class World:
    key: str
    other_key: str  # of another tenant with data of its own: it must see none of the first's
    other_key_id: uuid.UUID
    # Values of the world for parameters whose valid values the schema cannot state.
    dictionaries: dict[str, list[Any]]


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any, tiny_model_dir: str) -> Iterator[World]:
    if os.environ.get("DATABASE_URL"):
        pytest.skip("the gunicorn test runs against the embedded database")
    with django_db_blocker.unblock():
        owner = Tenant.objects.create(slug="schema-fuzzing", name="Schema fuzzing")
        store_catalog(owner)
        Item.objects.for_tenant(owner).filter(external_id__startswith="watch").update(
            attributes={"NAME": "Acme"}
        )
        Item.objects.for_tenant(owner).filter(external_id__startswith="shoe").update(
            attributes={"NAME": 3}
        )
        for external_id in DISPOSABLE:
            item = ItemFactory(tenant=owner, external_id=external_id)
            user = EndUserFactory(tenant=owner, external_id=external_id)
            InteractionFactory(tenant=owner, user=user, item=item, event_id=external_id)
        buyer = EndUser.objects.for_tenant(owner).get(external_id="buyer")
        watch = Item.objects.for_tenant(owner).get(external_id="watch-1")
        InteractionFactory(tenant=owner, user=buyer, item=watch, event_id=STORED_EVENT)
        experiment = train_under_experiment(owner, tiny_model_dir, "fuzzed")
        jobs = [Job.objects.create(tenant=owner, kind=Job.Kind.ENCODE) for _ in range(2)]
        key = api_key_create(tenant=owner)[1]
        other = Tenant.objects.create(slug="schema-fuzzing-other", name="Schema fuzzing other")
        ItemFactory(tenant=other, external_id="other-item", title="Another tenant's item")
        EndUserFactory(tenant=other, external_id="other-user")
        other_api_key, other_key = api_key_create(tenant=other)
        types = sorted(interaction_types(owner))
    dictionaries = {
        "item_id": [*ITEM_IDS, *DISPOSABLE],
        "user_id": [row["id"] for row in USERS] + DISPOSABLE,
        "event_id": [STORED_EVENT, *DISPOSABLE],
        "job_id": [str(job.pk) for job in jobs],
        "experiment_id": [str(experiment.pk)],
        "interaction_type": types,
        "exclude_seen": ["all", "none", *types, ",".join(types[:2])],
        "attribute_filter": ATTRIBUTE_FILTERS,
    }
    yield World(key, other_key, other_api_key.pk, dictionaries)
    with django_db_blocker.unblock():
        for space in EmbeddingSpace.objects.for_tenant(owner):
            vectorstore.drop_space(space)
        owner.delete()
        other.delete()


def _cursors(base: str, key: str, operation: str) -> list[str]:
    """The `next` cursor of a one-row first page, as the API issues it."""
    path = operation.split(" ")[1]
    request = urllib.request.Request(
        f"{base}{path}?limit=1", headers={"Authorization": f"Bearer {key}"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        page = json.loads(response.read())
    assert page["next"], (operation, page)
    return parse_qs(urlsplit(page["next"]).query)["cursor"]


def _toml(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


def _auth_document(world: World) -> str:
    """A Web Fuzzing Commons auth file: the owner first (every operation runs with its key)."""
    entries = [
        {"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {key}"}]}
        for name, key in (("owner", world.key), ("other", world.other_key))
    ]
    return json.dumps({"auth": entries})


def _config(world: World, cursors: dict[str, list[str]], auth: Path) -> str:
    """schemathesis.toml: every phase and check, the bounds, the key and the world's values."""
    dictionaries = {**world.dictionaries, **cursors, "disposable": DISPOSABLE}
    bindings = {
        **{
            f"path.{name}": {"dictionary": name, "probability": KNOWN_ID_SHARE}
            for name in ("item_id", "user_id", "event_id", "job_id", "experiment_id")
        },
        # The tenant's interaction types and the attribute names its items have are its data:
        # the schema names them as strings, the world says which.
        "body.interactions[*].type": {"dictionary": "interaction_type", "probability": 1.0},
        "body.interactions[*].item": {"dictionary": "item_id", "probability": 1.0},
        "query.exclude_seen": {"dictionary": "exclude_seen", "probability": 1.0},
        "query.attr.NAME": {"dictionary": "attribute_filter", "probability": 1.0},
    }
    lines = [
        "[generation]",
        'mode = "all"',
        f"max-examples = {MAX_EXAMPLES}",
        "deterministic = true",
        'database = "none"',
        "[phases.stateful]",
        f"max-steps = {MAX_STEPS}",
        "[checks]",
        "enabled = true",
        "[checks.positive_data_acceptance]",
        "expected-statuses = "
        + _toml(["2xx", "3xx", 401, 403, 404, 409, *SIZE_REFUSALS, 429, "5xx"]),
        "[checks.negative_data_rejection]",
        "expected-statuses = "
        + _toml([400, 401, 403, 404, 405, 406, 409, *SIZE_REFUSALS, 415, 422, 428, 429, "5xx"]),
        # Two tenants' keys: object_level_authorization replays the owner's reads with the
        # other's key, which must not get the owner's objects.
        "[auth.wfc]",
        f"path = {json.dumps(str(auth))}",
        'peers = ["owner", "other"]',
        "[dictionaries]",
        *(
            f"{json.dumps(name)} = {_toml({'values': values})}"
            for name, values in dictionaries.items()
        ),
        "[parameters]",
        *(f"{json.dumps(name)} = {_toml(binding)}" for name, binding in bindings.items()),
    ]
    for operation, name in DELETES.items():
        lines += [
            "[[operations]]",
            f"include-name = {json.dumps(operation)}",
            "parameters = "
            + _toml({f"path.{name}": {"dictionary": "disposable", "probability": KNOWN_ID_SHARE}}),
        ]
    # A cursor is opaque: only the ones the API issued are valid, whatever the schema says.
    for operation in PLAIN_LISTS:
        lines += [
            "[[operations]]",
            f"include-name = {json.dumps(operation)}",
            "parameters = "
            + _toml({"query.cursor": {"dictionary": operation, "probability": 1.0}}),
        ]
    # A PATCH body's id must equal the URL's (OpenAPI cannot say so): both name one item.
    for operation, name in PATCHES.items():
        known = world.dictionaries[name][1]
        lines += [
            "[[operations]]",
            f"include-name = {json.dumps(operation)}",
            "parameters = " + _toml({f"path.{name}": known, "body.id": known}),
        ]
    return "\n".join(lines) + "\n"


# Transactional: gunicorn reads what the world committed (and pytest-django sets up the test
# database only for tests that ask for it).
@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_failure(world: World, tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    report = tmp_path / "report.json"
    document = tmp_path / "openapi.json"
    # The run is about the API's answers, not the rate limiter's (its 429 has its own tests).
    unlimited = {"RECSYS_RATE_KEY_BURST": "1000000", "RECSYS_RATE_TENANT_BURST": "1000000"}
    with gunicorn_server(unlimited) as port:
        base = f"http://127.0.0.1:{port}"
        # Fetched here, with time for a cold worker (schemathesis gives a URL 10 s).
        with urllib.request.urlopen(f"{base}/api/schema/?format=json", timeout=120) as response:
            document.write_bytes(response.read())
        cursors = {op: _cursors(base, world.key, op) for op in PLAIN_LISTS}
        auth = tmp_path / "auth.json"
        auth.write_text(_auth_document(world))
        config.write_text(_config(world, cursors, auth))
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "--config-file",
                str(config),
                "run",
                str(document),
                "--url",
                base,
                "--request-timeout",
                "60",
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--workers",
                "1",
                "--report",
                "json",
                "--report-json-path",
                str(report),
                "--no-color",
            ],
            cwd=tmp_path,  # its cache folder stays out of the checkout
            env={**os.environ, "SCHEMATHESIS_HOOKS": HOOKS, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=900,
        )
    (tmp_path / "schemathesis.log").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    # It really ran: every operation, and every phase the document gives material for.
    summary = json.loads(report.read_text())
    assert summary["operations"]["tested"] == summary["operations"]["total"] == 25, summary
    phases = {name: phase["status"] for name, phase in summary["phases"].items()}
    assert phases == {
        "examples": "skip",  # the document gives no examples
        "coverage": "success",
        "fuzzing": "success",
        "stateful": "success",
    }, phases
    assert summary["test_cases"]["generated"] > 25 * MAX_EXAMPLES, summary["test_cases"]
    # The other tenant's key was sent (the owner's reads replayed as the other tenant).
    assert ApiKey.objects.get(pk=world.other_key_id).last_used_at is not None


@pytest.mark.parametrize(
    ("operation", "details", "dropped"),
    [
        ("POST /api/v1/items/batch", [{"field": "id", "message": "duplicate id '0'"}], True),
        # Another operation, another field, or one more detail: the failure stands.
        ("PATCH /api/v1/items/{item_id}", [{"field": "id", "message": "duplicate id '0'"}], False),
        ("POST /api/v1/items/batch", [{"field": "title", "message": "duplicate"}], False),
        (
            "POST /api/v1/items/batch",
            [
                {"field": "id", "message": "duplicate id '0'"},
                {"field": "title", "message": "'title' must be a string"},
            ],
            False,
        ),
        ("GET /api/v1/items", [], False),
    ],
)
def test_the_hook_drops_only_rejections_by_rules_the_document_cannot_state(
    operation: str, details: list[dict[str, str]], dropped: bool
) -> None:
    body = json.dumps({"error": {"code": "validation_error", "message": "x", "details": details}})
    assert inapplicable(operation, 400, body.encode()) is dropped
    assert inapplicable(operation, 500, body.encode()) is False
