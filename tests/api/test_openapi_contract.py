"""The OpenAPI document against the running API: every operation, status and input constraint.

- Each (operation, status) the document lists gets a real request, against a tenant with data
  (the retrieval catalog encoded with the tiny model, and a trained model version), that is
  answered with that status; the answer validates against the documented schema read strictly
  (an undocumented field fails it), and the request validates against the documented request
  schema when it is meant to be accepted, and fails it when it is meant to be refused (400).
  gunicorn's own statuses (414, 431) are tried against the real server instead
  (tests/platform/test_gunicorn_requests.py).
- Each constraint the document states on an input (lengths, bounds, counts of items, patterns,
  enums, formats, required fields and closed objects) is tried at its bound, where the request
  is accepted, and just past it, where it is refused and invalid per the document; each limit
  constant of the validators is the bound of one of them.
- Meta-tests fail when an operation, a status or a constraint of the document has no case here,
  or when a validator's limit constant is tried by none.
"""

import datetime
import inspect
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import jsonschema
import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import resolve
from rest_framework.test import APIClient

from recommender import vectorstore
from recommender.api.pagination import IdCursorPagination
from recommender.api.schemas import SERVER_STATUSES
from recommender.engine import filters
from recommender.models import EmbeddingSpace, EndUser, Item, Job
from recommender.services.ingest import rows
from recommender.services.search import semantic
from recommender.services.serving import params, rules
from tenants.api_base import TenantAPIView
from tenants.models import ALL_SCOPES, Tenant
from tenants.services import api_key_create
from tests.api.live_world import train_under_experiment
from tests.api.support import ApiResponse, assert_error
from tests.factories import EndUserFactory, InteractionFactory, ItemFactory
from tests.retrieval.conftest import store_catalog

Op = tuple[str, str]  # (method, path template), as the document names them
MISSING = "exists-nowhere"
# Ids the world holds beside the catalog: as short and as long as ids may be, and one an
# integer names.
SHORTEST_ID = "x"
LONGEST_ID = "x" * rows.EXTERNAL_ID_MAX
NUMERIC_ITEM = 1234


# --- the document, as JSON Schema ---------------------------------------------------------------


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200, response.content[:500]
    body: dict[str, Any] = json.loads(response.content)
    return body


def operation_doc(document: dict[str, Any], op: Op) -> dict[str, Any]:
    method, template = op
    found: dict[str, Any] = document["paths"][template][method]
    return found


def documented_operations(document: dict[str, Any]) -> set[Op]:
    return {(method, path) for path, ops in document["paths"].items() for method in ops}


_DROPPED = ("nullable", "example", "readOnly", "writeOnly", "deprecated")


def to_json_schema(node: Any, *, strict: bool) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema (draft 4): `nullable` becomes a null alternative;
    `strict` closes every object that names its properties (a response field the document does
    not name fails)."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED:
            continue
        if key == "properties":
            out[key] = {name: to_json_schema(s, strict=strict) for name, s in value.items()}
        elif key in ("items", "not") or (key == "additionalProperties" and isinstance(value, dict)):
            out[key] = to_json_schema(value, strict=strict)
        elif key in ("allOf", "oneOf", "anyOf"):
            out[key] = [to_json_schema(s, strict=strict) for s in value]
        else:
            out[key] = value
    if strict and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or datetime.datetime.fromisoformat(value).tzinfo is not None


@FORMATS.checks("uuid", raises=ValueError)
def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(uuid.UUID(value))


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    parts = urlsplit(value) if isinstance(value, str) else None
    return parts is None or (parts.scheme in ("http", "https") and bool(parts.netloc))


def schema_errors(
    document: dict[str, Any], schema: dict[str, Any], value: Any, *, strict: bool
) -> list[str]:
    components = {
        name: to_json_schema(s, strict=strict)
        for name, s in document["components"]["schemas"].items()
    }
    root = {"allOf": [to_json_schema(schema, strict=strict)], "components": {"schemas": components}}
    validator = jsonschema.Draft4Validator(root, format_checker=FORMATS)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(value)]


def deref(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


# --- the constraints the document states on inputs ----------------------------------------------

NUMERIC = ("maxLength", "minLength", "maximum", "minimum", "maxItems", "minItems", "maxProperties")
SAMPLED = ("pattern", "enum", "format", "required", "additionalProperties")


def _walk(
    document: dict[str, Any], node: dict[str, Any], where: str
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(where, keyword, node) for each constraint in `node`; `where` is `$.items[].id` in a body
    or `?count` for a query parameter."""
    node = deref(document, node)
    for branch in (*node.get("allOf", ()), *node.get("oneOf", ()), *node.get("anyOf", ())):
        yield from _walk(document, branch, where)
    for keyword in (*NUMERIC, "pattern", "enum", "format"):
        if keyword in node and (keyword != "format" or node.get("type") == "string"):
            yield where, keyword, node
    if node.get("additionalProperties") is False:
        yield where, "additionalProperties", node
    for name in node.get("required", ()):
        yield f"{where}.{name}", "required", node
    for name, child in node.get("properties", {}).items():
        yield from _walk(document, child, f"{where}.{name}")
    if "items" in node:
        yield from _walk(document, node["items"], f"{where}[]")


def constraints(document: dict[str, Any], op: Op) -> dict[tuple[str, str], dict[str, Any]]:
    doc = operation_doc(document, op)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for parameter in doc.get("parameters", ()):
        if parameter["in"] == "query":
            for where, keyword, node in _walk(
                document, parameter["schema"], f"?{parameter['name']}"
            ):
                found[where, keyword] = node
    if "requestBody" in doc:
        body = doc["requestBody"]["content"]["application/json"]["schema"]
        for where, keyword, node in _walk(document, body, "$"):
            found[where, keyword] = node
    return found


# --- requests -----------------------------------------------------------------------------------

NO_BODY = object()
DROP = object()  # a field left out of a row


@dataclass(frozen=True)
class Req:
    """One request of an operation: ids for its path, query pairs, a JSON body or raw bytes,
    and the key it carries (`all`, `without <scope>`, None, or `fresh`: a tenant with nothing
    encoded or trained)."""

    ids: dict[str, str] = field(default_factory=dict)
    query: tuple[tuple[str, str], ...] = ()
    body: Any = NO_BODY
    raw: tuple[str, str] | None = None
    key: str | None = "all"


def _coerce(raw: str, schema: dict[str, Any]) -> Any:
    """A query-string value as the value its schema describes (form style, no explode)."""
    kind = schema.get("type")
    if kind == "integer" and re.fullmatch(r"-?\d+", raw):
        return int(raw)
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            return raw
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if kind == "array":
        return raw.split(",") if raw else []
    return raw


def request_errors(document: dict[str, Any], op: Op, req: Req) -> list[str]:
    """Why the document refuses `req` (nothing: it allows it)."""
    doc = operation_doc(document, op)
    documented = {p["name"]: p for p in doc.get("parameters", ()) if p["in"] == "query"}
    errors = []
    for name, raw in req.query:
        parameter = documented.get("attr.NAME" if name.startswith("attr.") else name)
        if parameter is None:
            errors.append(f"?{name}: not documented")
            continue
        value = _coerce(raw, parameter["schema"])
        errors += [
            f"?{name}{e}" for e in schema_errors(document, parameter["schema"], value, strict=False)
        ]
    if req.body is not NO_BODY:
        assert "requestBody" in doc, f"{op} documents no body"
        schema = doc["requestBody"]["content"]["application/json"]["schema"]
        errors += schema_errors(document, schema, req.body, strict=False)
    return errors


def send(client: APIClient, op: Op, req: Req, ids: dict[str, str]) -> ApiResponse:
    method, template = op
    values = {**ids, **req.ids}
    path = re.sub(r"\{(\w+)\}", lambda m: quote(values[m[1]], safe=""), template)
    if req.query:
        path += "?" + urlencode(req.query)
    if req.raw is not None:
        return client.generic(method.upper(), path, req.raw[0], content_type=req.raw[1])
    if req.body is NO_BODY:
        response: ApiResponse = getattr(client, method)(path)
        return response
    payload = json.dumps(req.body)
    return client.generic(method.upper(), path, payload, content_type="application/json")


def check_answer(document: dict[str, Any], op: Op, response: ApiResponse) -> None:
    """The answer's status is documented for `op`, and its body validates, strictly."""
    responses = operation_doc(document, op)["responses"]
    status = str(response.status_code)
    assert status in responses, (op, status, response.content[:500])
    content = responses[status].get("content")
    if content is None:
        assert response.content == b"", response.content[:500]
        return
    if response.status_code >= 400:
        assert_error(response, response.status_code)
    schema = content["application/json"]["schema"]
    errors = schema_errors(document, schema, response.json(), strict=True)
    assert not errors, (op, status, errors, response.content[:1000])


# --- the world: a tenant with data, committed once for the module -------------------------------


@dataclass
class World:
    keys: dict[str, str]
    ids: dict[str, str]


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any, tiny_model_dir: str) -> Iterator[World]:
    with django_db_blocker.unblock():
        owner = Tenant.objects.create(slug="openapi-contract", name="OpenAPI contract")
        store_catalog(owner)
        for external_id in (
            SHORTEST_ID,
            LONGEST_ID,
            str(NUMERIC_ITEM),
            str(rows.INTEGER_ID_MIN),
            str(rows.INTEGER_ID_MAX),
        ):
            ItemFactory(tenant=owner, external_id=external_id, attributes={"brand": "Acme"})
        EndUserFactory(tenant=owner, external_id=SHORTEST_ID)
        buyer = EndUser.objects.for_tenant(owner).get(external_id="buyer")
        InteractionFactory(
            tenant=owner,
            user=buyer,
            item=Item.objects.for_tenant(owner).get(external_id="watch-1"),
            event_id="contract-stored-event",
        )
        experiment = train_under_experiment(owner, tiny_model_dir, "contract")
        job = Job.objects.create(tenant=owner, kind=Job.Kind.ENCODE)
        keys = {"all": api_key_create(tenant=owner)[1]}
        # A tenant whose one token is taken by the first request (see `call`), never refilled.
        throttled = Tenant.objects.create(
            slug="openapi-throttled",
            name="Throttled",
            rate_limit_tenant_per_s=0.0001,
            rate_limit_tenant_burst=1,
        )
        keys["throttled"] = api_key_create(tenant=throttled)[1]
        for scope in ALL_SCOPES:
            others = [s for s in ALL_SCOPES if s != scope]
            keys[f"without {scope}"] = api_key_create(tenant=owner, scopes=others)[1]
    ids = {
        "item_id": "watch-1",
        "user_id": "buyer",
        "job_id": str(job.pk),
        "event_id": "contract-stored-event",
    }
    yield World(keys, {**ids, "experiment_id": str(experiment.pk)})
    with django_db_blocker.unblock():
        for space in EmbeddingSpace.objects.for_tenant(owner):
            vectorstore.drop_space(space)
        owner.delete()
        throttled.delete()


@pytest.fixture
def call(db: Any, world: World, request: pytest.FixtureRequest) -> Callable[[Op, Req], ApiResponse]:
    """Send a request of an operation with the key it names."""

    def run(op: Op, req: Req) -> ApiResponse:
        client = APIClient()
        client.raise_request_exception = False  # a 500 must reach the assertions
        if req.key == "fresh":
            client = request.getfixturevalue("fresh_client")
        elif req.key is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.keys[req.key]}")
        if req.key == "throttled":
            client.get("/api/v1/users")  # takes the tenant's token, if still there
        return send(client, op, req, world.ids)

    return run


@pytest.fixture
def fresh_client(tenant: Tenant, make_client: Callable[..., APIClient]) -> APIClient:
    """A client of a tenant with one item and nothing encoded or trained."""
    ItemFactory(tenant=tenant, external_id="watch-1")
    client = make_client(tenant)
    client.raise_request_exception = False
    return client


# --- one case per operation and documented status -----------------------------------------------

ITEMS_BATCH: Op = ("post", "/api/v1/items/batch")
USERS_BATCH: Op = ("post", "/api/v1/users/batch")
INTERACTIONS_BATCH: Op = ("post", "/api/v1/interactions/batch")
ITEMS: Op = ("get", "/api/v1/items")
ITEM: Op = ("get", "/api/v1/items/{item_id}")
ITEM_PATCH: Op = ("patch", "/api/v1/items/{item_id}")
ITEM_DELETE: Op = ("delete", "/api/v1/items/{item_id}")
SIMILAR: Op = ("get", "/api/v1/items/{item_id}/similar")
USERS: Op = ("get", "/api/v1/users")
USER: Op = ("get", "/api/v1/users/{user_id}")
USER_PATCH: Op = ("patch", "/api/v1/users/{user_id}")
USER_DELETE: Op = ("delete", "/api/v1/users/{user_id}")
USER_EVENTS_DELETE: Op = ("delete", "/api/v1/users/{user_id}/interactions")
EVENT_DELETE: Op = ("delete", "/api/v1/interactions/{event_id}")
USER_EXPORT: Op = ("get", "/api/v1/users/{user_id}/export")
RECOMMENDATIONS: Op = ("get", "/api/v1/users/{user_id}/recommendations")
SEARCH: Op = ("post", "/api/v1/search")
POPULAR: Op = ("get", "/api/v1/popular")
TRENDING: Op = ("get", "/api/v1/trending")
MODELS: Op = ("get", "/api/v1/models")
JOBS: Op = ("get", "/api/v1/jobs")
JOB_START: Op = ("post", "/api/v1/jobs")
JOB: Op = ("get", "/api/v1/jobs/{job_id}")
EXPERIMENTS: Op = ("get", "/api/v1/experiments")
EXPERIMENT_RESULTS: Op = ("get", "/api/v1/experiments/{experiment_id}/results")
# Any user id names someone: a never-seen one is an anonymous visitor, not a 404.
ANY_ID_OPS = {RECOMMENDATIONS}

RESULT_QUERY = (
    ("count", "5"),
    ("explain", "true"),
    ("exclude_category", "books"),
    ("attr.brand", "Acme|Zeta"),
    ("max_per_category", "3"),
    ("diversity", "0.7"),
)

# The success status first; 401, 403, 404 (a path with an id), 413 and 415 (a body) are derived
# from it in `cases`.
CASES: dict[Op, dict[int, Req]] = {
    ITEMS_BATCH: {
        200: Req(
            body={
                "items": [
                    {
                        "id": "contract-1",
                        "title": "smart watch",
                        "description": None,
                        "categories": ["watch"],
                        "attributes": {"brand": "Acme", "specs": {"bands": [1, 2.5, True, None]}},
                        "available": None,
                    },
                    {"id": 5678, "title": None, "categories": None, "attributes": None},
                ]
            }
        ),
        400: Req(body={"items": [{"id": ""}]}),
    },
    USERS_BATCH: {
        200: Req(
            body={
                "users": [
                    {
                        "id": "contract-user",
                        "attributes": {"age_band": "25-34"},
                        "profile_text": "tea",
                    },
                    {"id": 77, "attributes": None, "profile_text": None},
                ]
            }
        ),
        400: Req(body={"users": [{"id": "a/b"}]}),
    },
    INTERACTIONS_BATCH: {
        200: Req(
            body={
                "interactions": [
                    {
                        "user": 77,
                        "item": NUMERIC_ITEM,
                        "type": "view",
                        "value": None,
                        "timestamp": None,
                        "event_id": "",
                        "recommendation_id": None,
                    },
                    {
                        "user": "buyer",
                        "item": "watch-1",
                        "type": "purchase",
                        "value": 2,
                        "timestamp": "2026-01-01T10:00:00+01:00",
                        "event_id": "contract-event",
                        "recommendation_id": "r" * 32,
                    },
                ]
            }
        ),
        400: Req(body={"interactions": [{"user": "buyer", "item": "watch-1"}]}),
    },
    ITEMS: {200: Req(query=(("limit", "5"),)), 400: Req(query=(("limit", "0"),))},
    ITEM: {200: Req()},
    ITEM_PATCH: {
        200: Req(
            body={
                "id": "watch-1",
                "title": "smart watch 2",
                "description": None,
                "categories": None,
                "attributes": {"brand": "Zeta"},
                "available": False,
            }
        ),
        400: Req(body={"available": None}),
    },
    ITEM_DELETE: {204: Req()},
    SIMILAR: {
        200: Req(query=(*RESULT_QUERY, ("category", "watch,shoes"), ("exclude_seen", "none"))),
        400: Req(query=(("count", "0"),)),
        409: Req(key="fresh"),
    },
    USERS: {200: Req(query=(("limit", "2"),)), 400: Req(query=(("limit", "1001"),))},
    USER: {200: Req()},
    USER_PATCH: {
        200: Req(body={"id": "buyer", "attributes": None, "profile_text": "novel"}),
        400: Req(body={"profile_text": 5}),
    },
    USER_DELETE: {204: Req()},
    USER_EVENTS_DELETE: {200: Req()},
    EVENT_DELETE: {204: Req()},
    USER_EXPORT: {200: Req()},
    RECOMMENDATIONS: {
        200: Req(query=(*RESULT_QUERY, ("exclude_seen", "purchase,view"))),
        400: Req(query=(("diversity", "2"),)),
    },
    SEARCH: {
        200: Req(body={"query": "smart watch", "user": "buyer", "count": 5, "explain": True}),
        400: Req(body={"query": "smart", "count": 0}),
        404: Req(body={"query": "smart", "user": MISSING}),
        409: Req(body={"query": "smart", "user": None, "count": None}, key="fresh"),
    },
    POPULAR: {200: Req(query=RESULT_QUERY), 400: Req(query=(("max_per_category", "101"),))},
    TRENDING: {200: Req(query=(("explain", "true"),)), 400: Req(query=(("count", "101"),))},
    MODELS: {200: Req()},
    JOBS: {200: Req(query=(("limit", "5"),)), 400: Req(query=(("limit", "0"),))},
    # The catalog's ingestion queued an encode job, which is answered (200); no train job is
    # under way yet, so one starts (202).
    JOB_START: {
        200: Req(body={"kind": "encode"}),
        202: Req(body={"kind": "train"}),
        400: Req(body={"kind": "import_items"}),
    },
    JOB: {200: Req()},
    EXPERIMENTS: {200: Req()},
    EXPERIMENT_RESULTS: {200: Req()},
}


def scope_of(op: Op) -> str:
    path = re.sub(r"\{\w+\}", "some-id", op[1])
    scope: str = resolve(path).func.view_class.required_scope  # type: ignore[attr-defined]
    return scope


def cases(op: Op) -> dict[int, Req]:
    """Every status's request for `op`: the table's, and those derived from its success."""
    table = CASES[op]
    success = table[min(table)]
    derived = {
        401: replace(success, key=None),
        403: replace(success, key=f"without {scope_of(op)}"),
        429: replace(success, key="throttled"),
    }
    if "{" in op[1] and op not in ANY_ID_OPS:
        derived[404] = replace(success, ids=dict.fromkeys(re.findall(r"\{(\w+)\}", op[1]), MISSING))
    if success.body is not NO_BODY:
        too_big = " " * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
        derived[413] = replace(success, body=NO_BODY, raw=(too_big, "application/json"))
        derived[415] = replace(
            success, body=NO_BODY, raw=("a=b", "application/x-www-form-urlencoded")
        )
    return {**derived, **table}


CALLS = [(op, status) for op in CASES for status in sorted(cases(op))]


@pytest.mark.parametrize(("op", "status"), CALLS, ids=[f"{m} {p} {s}" for (m, p), s in CALLS])
def test_each_operation_answers_each_documented_status_as_documented(
    document: dict[str, Any], call: Callable[[Op, Req], ApiResponse], op: Op, status: int
) -> None:
    req = cases(op)[status]
    errors = request_errors(document, op, req)
    if status == 400:
        assert errors, f"{op}: the document allows a request the API refuses"
    elif req.raw is None:
        assert not errors, errors
    response = call(op, req)
    assert response.status_code == status, response.content[:500]
    check_answer(document, op, response)


def test_every_documented_operation_has_a_case(document: dict[str, Any]) -> None:
    assert documented_operations(document) == set(CASES)


def test_every_documented_status_has_a_case(document: dict[str, Any]) -> None:
    """gunicorn's own statuses, which no in-process request reaches, are tried against the real
    server in tests/platform/test_gunicorn_requests.py."""
    for op in CASES:
        documented = {int(status) for status in operation_doc(document, op)["responses"]}
        assert documented == set(cases(op)) | set(SERVER_STATUSES), op


# --- every documented constraint, at its bound and past it --------------------------------------


@dataclass(frozen=True)
class Probe:
    """How to try one constraint: `build` makes a request from the number at the bound (or
    past it), or from one of `samples` (the accepted value, then the refused ones) for a
    constraint without a number. `constant` names the validator's limit the bound must equal."""

    op: Op
    where: str
    keyword: str
    build: Callable[[Any], Req]
    samples: tuple[Any, tuple[Any, ...]] = (True, (False,))
    refused: int = 400
    constant: str | None = None

    @property
    def id(self) -> str:
        return f"{self.op[0]} {self.op[1]} {self.where} {self.keyword}"


def _row(base: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in {**base, **fields}.items() if v is not DROP}


def _closed(op: Op, where: str, build: Callable[..., Req]) -> Probe:
    return Probe(op, where, "additionalProperties", lambda ok: build() if ok else build(colour=1))


def _required(op: Op, where: str, build: Callable[..., Req], name: str) -> Probe:
    return Probe(op, where, "required", lambda ok: build() if ok else build(**{name: DROP}))


def _text_probes(
    op: Op, prefix: str, build: Callable[..., Req], name: str, limit: str
) -> list[Probe]:
    return [
        Probe(
            op, f"{prefix}.{name}", "maxLength", lambda n: build(**{name: "a" * n}), constant=limit
        ),
        Probe(
            op, f"{prefix}.{name}", "pattern", lambda v: build(**{name: v}), ("a b", ("a\x00b",))
        ),
    ]


def _id_probes(op: Op, where: str, build: Callable[[Any], Req], accepted: str) -> list[Probe]:
    """An id: as short and as long as allowed (the world holds such ids), and its pattern."""
    refused = ("a/b", f" {accepted}", f"{accepted} ", f"{accepted}\x00")
    return [
        Probe(op, where, "minLength", lambda n: build("x" * n)),
        Probe(op, where, "maxLength", lambda n: build("x" * n), constant="rows.EXTERNAL_ID_MAX"),
        Probe(op, where, "pattern", build, (accepted, refused)),
        # Past these the JSON parser reads a float (the world holds the ids at both bounds).
        Probe(op, where, "minimum", build, constant="rows.INTEGER_ID_MIN"),
        Probe(op, where, "maximum", build, constant="rows.INTEGER_ID_MAX"),
    ]


def _attributes_probe(op: Op, where: str, build: Callable[..., Req]) -> Probe:
    return Probe(
        op,
        where,
        "maxProperties",
        lambda n: build(attributes={f"a{i}": i for i in range(n)}),
        constant="rows.ATTRIBUTES_MAX_KEYS",
    )


def _item_field_probes(op: Op, prefix: str, build: Callable[..., Req]) -> list[Probe]:
    """The fields an item batch row and an item PATCH share."""
    return [
        *_text_probes(op, prefix, build, "title", "rows.TITLE_MAX"),
        *_text_probes(op, prefix, build, "description", "rows.TEXT_MAX"),
        Probe(
            op,
            f"{prefix}.categories",
            "maxItems",
            lambda n: build(categories=[f"c{i}" for i in range(n)]),
            constant="rows.CATEGORIES_MAX_COUNT",
        ),
        Probe(op, f"{prefix}.categories[]", "minLength", lambda n: build(categories=["c" * n])),
        Probe(
            op,
            f"{prefix}.categories[]",
            "maxLength",
            lambda n: build(categories=["c" * n]),
            constant="rows.CATEGORY_MAX",
        ),
        Probe(
            op,
            f"{prefix}.categories[]",
            "pattern",
            lambda v: build(categories=[v]),
            ("c d", ("c\x00",)),
        ),
        _attributes_probe(op, f"{prefix}.attributes", build),
        _closed(op, prefix, build),
    ]


def _batch_probes(
    op: Op, key: str, row: Callable[[int], dict[str, Any]], required: tuple[str, ...]
) -> tuple[list[Probe], Callable[..., Req]]:
    """The probes of a batch's shape, and a builder of a one-row batch with some fields set."""

    def one_row(**fields: Any) -> Req:
        return Req(body={key: [_row(row(0), fields)]})

    def batch(**top: Any) -> Req:
        return Req(body=_row({key: [row(0)]}, top))

    probes = [
        Probe(
            op,
            f"$.{key}",
            "maxItems",
            lambda n: Req(body={key: [row(i) for i in range(n)]}),
            refused=413,
            constant="settings.RECSYS_MAX_BATCH_ROWS",
        ),
        Probe(op, f"$.{key}", "minItems", lambda n: Req(body={key: [row(i) for i in range(n)]})),
        _required(op, f"$.{key}", batch, key),
        _closed(op, "$", batch),
        *(_required(op, f"$.{key}[].{name}", one_row, name) for name in required),
    ]
    return probes, one_row


def _patch(**fields: Any) -> Req:
    return Req(body=_row({}, fields))


def _query_probes(
    op: Op, name: str, keywords: tuple[str, ...], limits: tuple[str | None, ...]
) -> list[Probe]:
    def build(value: Any) -> Req:
        return Req(query=((name, str(value)),))

    return [
        Probe(op, f"?{name}", k, build, constant=c) for k, c in zip(keywords, limits, strict=True)
    ]


def _names(op: Op, name: str) -> list[Probe]:
    def build(n: int) -> Req:
        return Req(query=((name, ",".join(f"c{i}" for i in range(n))),))

    def one_more(value: str) -> Req:
        return Req(query=((name, f"c0,{value}"),))

    return [
        Probe(op, f"?{name}", "minItems", build),
        Probe(op, f"?{name}", "maxItems", build, constant="filters.MAX_VALUES"),
        Probe(op, f"?{name}[]", "minLength", lambda n: one_more("x" * n)),
        Probe(op, f"?{name}[]", "pattern", one_more, (" c d ", (" ", "\x1f", "c\x00"))),
    ]


def _result_query_probes(op: Op) -> list[Probe]:
    return [
        *_query_probes(
            op, "count", ("minimum", "maximum"), ("params.MIN_COUNT", "params.MAX_COUNT")
        ),
        *_query_probes(
            op, "max_per_category", ("minimum", "maximum"), (None, "rules.PER_CATEGORY_CAP_MAX")
        ),
        *_query_probes(
            op, "diversity", ("minimum", "maximum"), ("rules.DIVERSITY_MIN", "rules.DIVERSITY_MAX")
        ),
        *_names(op, "category"),
        *_names(op, "exclude_category"),
    ]


def _context_probes() -> list[Probe]:
    """`context_items`: 1 to MAX_CONTEXT_ITEMS ids, none empty (ids it lacks are ignored)."""

    def ids(n: int) -> Req:
        return Req(query=(("context_items", ",".join(f"c{i}" for i in range(n))),))

    return [
        Probe(RECOMMENDATIONS, "?context_items", "minItems", ids),
        Probe(
            RECOMMENDATIONS,
            "?context_items",
            "maxItems",
            ids,
            constant="params.MAX_CONTEXT_ITEMS",
        ),
        Probe(
            RECOMMENDATIONS,
            "?context_items[]",
            "minLength",
            lambda n: Req(query=(("context_items", f"watch-1,{'x' * n}"),)),
        ),
        Probe(
            RECOMMENDATIONS,
            "?context_items[]",
            "pattern",
            lambda v: Req(query=(("context_items", f"watch-1,{v}"),)),
            (" watch-2 ", (" ", "\x1f")),
        ),
    ]


def _page_probes(op: Op) -> list[Probe]:
    return _query_probes(
        op,
        "limit",
        ("minimum", "maximum"),
        ("IdCursorPagination.min_page_size", "IdCursorPagination.max_page_size"),
    )


def _interaction(i: int) -> dict[str, Any]:
    return {"user": "buyer", "item": "watch-1", "type": "view", "event_id": f"probe-{i}"}


def _search(**fields: Any) -> Req:
    return Req(body=_row({"query": "smart watch"}, fields))


def _job(**fields: Any) -> Req:
    return Req(body=_row({"kind": "encode"}, fields))


def _search_probes() -> list[Probe]:
    return [
        _required(SEARCH, "$.query", _search, "query"),
        Probe(
            SEARCH,
            "$.query",
            "maxLength",
            lambda n: _search(query="a" * n),
            constant="semantic.QUERY_MAX_CHARS",
        ),
        Probe(SEARCH, "$.query", "pattern", lambda v: _search(query=v), (" smart ", (" \t\n",))),
        Probe(SEARCH, "$.user", "minLength", lambda n: _search(user="x" * n)),
        Probe(SEARCH, "$.user", "pattern", lambda v: _search(user=v), ("buyer", ("bu\x00yer",))),
        Probe(
            SEARCH, "$.count", "minimum", lambda n: _search(count=n), constant="params.MIN_COUNT"
        ),
        Probe(
            SEARCH, "$.count", "maximum", lambda n: _search(count=n), constant="params.MAX_COUNT"
        ),
        _closed(SEARCH, "$", _search),
    ]


def _probes() -> list[Probe]:
    items, item_row = _batch_probes(ITEMS_BATCH, "items", lambda i: {"id": f"probe-{i}"}, ("id",))
    users, user_row = _batch_probes(USERS_BATCH, "users", lambda i: {"id": f"probe-{i}"}, ("id",))
    events, event_row = _batch_probes(
        INTERACTIONS_BATCH, "interactions", _interaction, ("user", "item", "type")
    )
    event = "$.interactions[]"
    return [
        *items,
        *_id_probes(ITEMS_BATCH, "$.items[].id", lambda v: item_row(id=v), "a b"),
        *_item_field_probes(ITEMS_BATCH, "$.items[]", item_row),
        *_item_field_probes(ITEM_PATCH, "$", _patch),
        *users,
        *_id_probes(USERS_BATCH, "$.users[].id", lambda v: user_row(id=v), "a b"),
        *_text_probes(USERS_BATCH, "$.users[]", user_row, "profile_text", "rows.TEXT_MAX"),
        _attributes_probe(USERS_BATCH, "$.users[].attributes", user_row),
        _closed(USERS_BATCH, "$.users[]", user_row),
        *_text_probes(USER_PATCH, "$", _patch, "profile_text", "rows.TEXT_MAX"),
        _attributes_probe(USER_PATCH, "$.attributes", _patch),
        _closed(USER_PATCH, "$", _patch),
        *events,
        *_id_probes(INTERACTIONS_BATCH, f"{event}.user", lambda v: event_row(user=v), "new user"),
        *_id_probes(INTERACTIONS_BATCH, f"{event}.item", lambda v: event_row(item=v), "watch-1"),
        Probe(
            INTERACTIONS_BATCH,
            f"{event}.timestamp",
            "format",
            lambda v: event_row(timestamp=v),
            ("2026-01-01T00:00:00Z", ("2026-01-01T00:00:00", "yesterday")),
        ),
        Probe(INTERACTIONS_BATCH, f"{event}.value", "minimum", lambda n: event_row(value=n)),
        Probe(
            INTERACTIONS_BATCH,
            f"{event}.value",
            "maximum",
            lambda n: event_row(value=n),
            constant="rows.INTERACTION_VALUE_MAX",
        ),
        *_text_probes(INTERACTIONS_BATCH, event, event_row, "event_id", "rows.EXTERNAL_ID_MAX"),
        *_text_probes(
            INTERACTIONS_BATCH, event, event_row, "recommendation_id", "rows.RECOMMENDATION_ID_MAX"
        ),
        _closed(INTERACTIONS_BATCH, event, event_row),
        *_search_probes(),
        _required(JOB_START, "$.kind", _job, "kind"),
        Probe(
            JOB_START, "$.kind", "enum", lambda v: _job(kind=v), ("encode", ("import_items", ""))
        ),
        _closed(JOB_START, "$", _job),
        *(
            p
            for op in (SIMILAR, RECOMMENDATIONS, POPULAR, TRENDING)
            for p in _result_query_probes(op)
        ),
        *(p for op in (ITEMS, USERS, JOBS) for p in _page_probes(op)),
        *_context_probes(),
    ]


PROBES = _probes()


def _past(keyword: str, bound: Any, node: dict[str, Any]) -> Any:
    step = 1 if node.get("type") in ("integer", "string", "array", "object") else 0.1
    return bound + step if keyword.startswith("max") else bound - step


def limit_constants() -> dict[str, float]:
    """Every limit constant of the validators: module constants named *_MAX, MAX_*, *_MIN, ...
    of the parsers behind the API, the page limits and the batch limit."""
    modules = {
        "rows": rows,
        "params": params,
        "rules": rules,
        "semantic": semantic,
        "filters": filters,
    }
    found: dict[str, float] = {
        f"{label}.{name}": value
        for label, module in modules.items()
        for name, value in vars(module).items()
        if re.search(r"(^|_)(MAX|MIN)(_|$)", name)
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
    }
    found["IdCursorPagination.min_page_size"] = IdCursorPagination.min_page_size
    found["IdCursorPagination.max_page_size"] = IdCursorPagination.max_page_size
    found["settings.RECSYS_MAX_BATCH_ROWS"] = settings.RECSYS_MAX_BATCH_ROWS
    return found


# Limits that bound no input, and those JSON Schema cannot state (described, tested below).
NOT_INPUT_LIMITS = {"rows.MAX_ERRORS_REPORTED"}
DESCRIBED_LIMITS = {"rows.ATTRIBUTES_MAX_DEPTH"}


@pytest.mark.parametrize("probe", PROBES, ids=[p.id for p in PROBES])
def test_each_documented_constraint_holds_at_its_bound(
    document: dict[str, Any], call: Callable[[Op, Req], ApiResponse], probe: Probe
) -> None:
    node = constraints(document, probe.op)[probe.where, probe.keyword]
    if probe.keyword in NUMERIC:
        bound = node[probe.keyword]
        if probe.constant:
            assert bound == limit_constants()[probe.constant], probe.constant
        accepted, refused = bound, (_past(probe.keyword, bound, node),)
    else:
        accepted, refused = probe.samples
    for value in refused:
        req = probe.build(value)
        assert request_errors(document, probe.op, req), f"the document allows {value!r}"
        response = call(probe.op, req)
        assert response.status_code == probe.refused, (value, response.content[:500])
        check_answer(document, probe.op, response)
    req = probe.build(accepted)
    assert not request_errors(document, probe.op, req), request_errors(document, probe.op, req)
    response = call(probe.op, req)
    assert response.status_code == min(CASES[probe.op]), response.content[:500]
    check_answer(document, probe.op, response)


def test_every_documented_constraint_has_a_probe(document: dict[str, Any]) -> None:
    documented = {(op, where, kw) for op in CASES for where, kw in constraints(document, op)}
    probed = [(p.op, p.where, p.keyword) for p in PROBES]
    assert len(probed) == len(set(probed)), "a constraint is probed twice"
    assert documented == set(probed)


def test_every_limit_of_the_validators_is_documented_and_probed() -> None:
    cited = {p.constant for p in PROBES if p.constant}
    assert cited <= set(limit_constants())
    assert set(limit_constants()) - NOT_INPUT_LIMITS - DESCRIBED_LIMITS == cited


def _nested(levels: int) -> dict[str, Any]:
    """Attributes `levels` objects deep, counting the attributes object itself."""
    value: Any = 1
    for _ in range(levels):
        value = {"k": value}
    return value


def test_attribute_depth_is_described_and_enforced(
    document: dict[str, Any], call: Callable[[Op, Req], ApiResponse]
) -> None:
    depth = rows.ATTRIBUTES_MAX_DEPTH
    for component in ("ItemIn", "UserIn", "PatchedItemChanges", "PatchedUserChanges"):
        described = document["components"]["schemas"][component]["properties"]["attributes"]
        assert f"nested at most {depth} levels" in described["description"]
    for op, build in (
        (ITEMS_BATCH, lambda a: {"items": [{"id": "deep", "attributes": a}]}),
        (USER_PATCH, lambda a: {"attributes": a}),
    ):
        response = call(op, Req(body=build(_nested(depth))))
        assert response.status_code == 200, response.content[:500]
        response = call(op, Req(body=build(_nested(depth + 1))))
        assert_error(response, 400, "validation_error")
        check_answer(document, op, response)


def test_the_document_is_valid_openapi_generated_without_warnings(tmp_path: Any) -> None:
    # --fail-on-warn: an unresolvable field, serializer or authenticator is an error here.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))


# --- the declarations behind the document -------------------------------------------------------


def test_request_objects_name_the_fields_the_validators_take(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    expected = {
        "ItemIn": rows.ITEM_FIELDS,
        "PatchedItemChanges": rows.ITEM_FIELDS,
        "UserIn": rows.USER_FIELDS,
        "PatchedUserChanges": rows.USER_FIELDS,
        "InteractionIn": rows.INTERACTION_FIELDS,
        "SearchIn": semantic.SEARCH_FIELDS,
    }
    for name, fields in expected.items():
        assert set(schemas[name]["properties"]) == fields, name
        assert schemas[name]["additionalProperties"] is False, name


def test_ids_document_the_integers_they_accept(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for component, name in (
        ("ItemIn", "id"),
        ("UserIn", "id"),
        ("InteractionIn", "user"),
        ("InteractionIn", "item"),
    ):
        kinds = {branch["type"] for branch in schemas[component]["properties"][name]["oneOf"]}
        assert kinds == {"string", "integer"}, (component, name)


# --- security -------------------------------------------------------------------------------------


def test_the_bearer_scheme_is_declared_and_every_operation_needs_it(
    document: dict[str, Any],
) -> None:
    assert document["components"]["securitySchemes"] == {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": document["components"]["securitySchemes"]["bearerAuth"]["description"],
        }
    }
    assert "security" not in document  # no global default: each operation says
    for op in documented_operations(document):
        assert operation_doc(document, op)["security"] == [{"bearerAuth": []}], op


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/api/schema/", "/api/docs/"])
def test_the_probes_and_the_document_need_no_key(
    db: Any, document: dict[str, Any], path: str
) -> None:
    assert path not in document["paths"]  # not API operations, so never marked as secured
    response = APIClient().get(path)
    # readyz may say unavailable (503), but never asks for a key.
    assert response.status_code in ((200, 503) if path == "/readyz" else (200,))


# --- descriptions ---------------------------------------------------------------------------------


def test_each_operation_has_a_summary_and_a_description_of_its_own(
    document: dict[str, Any],
) -> None:
    base = inspect.cleandoc(TenantAPIView.__doc__ or "")
    docs = [operation_doc(document, op) for op in sorted(documented_operations(document))]
    descriptions = [doc.get("description", "") for doc in docs]
    summaries = [doc.get("summary", "") for doc in docs]
    assert all(descriptions), descriptions
    assert all(summaries), summaries
    assert len(set(descriptions)) == len(descriptions)
    assert len(set(summaries)) == len(summaries)
    assert not any(base.splitlines()[0] in d for d in descriptions)
