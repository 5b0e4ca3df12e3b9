"""Every API v1 URL, every method its view implements, and {own tenant, other tenant, no key}.

Tenants A (the caller) and B hold rows with identical external ids, and each holds rows the other
lacks. Requested by A, B-only ids behave exactly as ids that exist nowhere: the same status, error
code and details, with B's rows unchanged to the last column. The matrix is generated from
`recommender.api.urls.urlpatterns`; a route with no case here fails the suite.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from django.urls import URLPattern, reverse
from rest_framework.test import APIClient

from recommender.api import urls as api_urls
from recommender.models import EndUser, Experiment, Interaction, Item, Job, ModelVersion, ServedList
from recommender.services.config import config_save
from recommender.services.encoding.encode import encode_tenant
from recommender.services.experiments.lifecycle import VariantSpec, experiment_create
from tenants.models import Tenant
from tests.api.support import ApiResponse, assert_error, tenant_rows
from tests.factories import EndUserFactory, InteractionFactory, ItemFactory

MISSING = "exists-nowhere"
IGNORED_METHODS = {"options", "head", "trace"}


@dataclass
class World:
    """Two tenants with overlapping and disjoint ids, and a client for each."""

    a: Tenant
    b: Tenant
    api_a: APIClient
    api_b: APIClient
    job_a: Job
    job_b: Job
    experiment_a: Experiment
    experiment_b: Experiment
    # Encodes both catalogs with the tiny model, once; only the result routes need vectors.
    encode: Callable[[], None]


@pytest.fixture
def world(
    tenant: Tenant,
    other_tenant: Tenant,
    api: APIClient,
    other_api: APIClient,
    use_tiny_encoder: Callable[[Tenant], None],
) -> World:
    jobs: dict[str, Job] = {}
    experiments: dict[str, Experiment] = {}
    for owner, own in ((tenant, "a-only"), (other_tenant, "b-only")):
        shared_item = ItemFactory(tenant=owner, external_id="shared", title=f"{owner.slug} item")
        ItemFactory(
            tenant=owner,
            external_id=own,
            title=f"{owner.slug} {own}",
            attributes={f"{own.replace('-', '_')}_attr": 1},
        )
        shared_user = EndUserFactory(
            tenant=owner, external_id="shared-user", profile_text=owner.slug
        )
        EndUserFactory(tenant=owner, external_id=f"{own}-user")
        InteractionFactory(
            tenant=owner, user=shared_user, item=shared_item, event_id="shared-event"
        )
        InteractionFactory(
            tenant=owner, user=shared_user, item=shared_item, event_id=f"{own}-event"
        )
        jobs[owner.slug] = Job.objects.create(tenant=owner, kind=Job.Kind.IMPORT_ITEMS)
        ModelVersion.objects.create(
            tenant=owner, number=1, status=ModelVersion.Status.RETIRED, metrics={"of": owner.slug}
        )
        first = config_save(tenant=owner, data={}, activate=False)
        second = config_save(tenant=owner, data={}, activate=False)
        experiments[owner.slug] = experiment_create(
            tenant=owner,
            name=f"{owner.slug} test",
            variants=[VariantSpec("A", first, 1), VariantSpec("B", second, 1)],
        )
    for client in (api, other_api):
        client.raise_request_exception = False
    encoded: list[Tenant] = []

    def encode() -> None:
        for owner in (tenant, other_tenant):
            if owner not in encoded:
                use_tiny_encoder(owner)
                encode_tenant(tenant=owner)
                encoded.append(owner)

    return World(
        tenant,
        other_tenant,
        api,
        other_api,
        jobs[tenant.slug],
        jobs[other_tenant.slug],
        experiments[tenant.slug],
        experiments[other_tenant.slug],
        encode,
    )


def call(client: APIClient, method: str, url: str, body: Any = None) -> ApiResponse:
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, format="json")


def assert_same_as_missing(
    foreign: ApiResponse, missing: ApiResponse, ids: tuple[str, str]
) -> None:
    """A foreign id's answer is a missing id's answer, once the ids themselves are swapped."""
    foreign_error = assert_error(foreign, 404, "not_found")
    missing_error = assert_error(missing, 404, "not_found")
    assert foreign_error["details"] == missing_error["details"]
    assert foreign_error["message"].replace(ids[0], ids[1]) == missing_error["message"]


# --- cases: what "own" and "other tenant" mean for each route and method -----------------------


@dataclass(frozen=True)
class Case:
    """How one (route, method) is exercised; `path` builds a URL, `body` is sent as JSON."""

    path: Callable[[World], str]
    body: Any
    own: Callable[[World], None]
    other: Callable[[World], None]


def _detail_path(route: str, kwarg: str, value: str) -> str:
    return reverse(route, kwargs={kwarg: value})


def _detail_case(
    route: str, kwarg: str, method: str, body: Any, own_check: Callable[[World, ApiResponse], None]
) -> Case:
    def own(world: World) -> None:
        response = call(world.api_a, method, _detail_path(route, kwarg, own_id(world)), body)
        own_check(world, response)

    def other(world: World) -> None:
        foreign_id, missing_id = other_ids(world)
        foreign = call(world.api_a, method, _detail_path(route, kwarg, foreign_id), body)
        missing = call(world.api_a, method, _detail_path(route, kwarg, missing_id), body)
        if route == "users-recommendations":
            # Any id names a visitor: B's user is one A never saw, served A's cold-start list.
            assert _result_ids(foreign) == _result_ids(missing) == ["shared", "a-only"]
        else:
            assert_same_as_missing(foreign, missing, (foreign_id, missing_id))
        # B still sees its own row, unchanged.
        assert call(world.api_b, "get", _detail_path(route, kwarg, foreign_id)).status_code == 200

    def own_id(world: World) -> str:
        return {
            "items-detail": "shared",
            "items-similar": "shared",
            "users-detail": "shared-user",
            "users-export": "shared-user",
            "users-recommendations": "shared-user",
            "jobs-detail": str(world.job_a.pk),
            "experiments-results": str(world.experiment_a.pk),
        }[route]

    def other_ids(world: World) -> tuple[str, str]:
        return {
            "items-detail": ("b-only", MISSING),
            "items-similar": ("b-only", MISSING),
            "users-detail": ("b-only-user", MISSING),
            "users-export": ("b-only-user", MISSING),
            "users-recommendations": ("b-only-user", MISSING),
            "jobs-detail": (str(world.job_b.pk), str(uuid.uuid4())),
            "experiments-results": (str(world.experiment_b.pk), "999999999"),
        }[route]

    return Case(
        path=lambda world: _detail_path(route, kwarg, own_id(world)),
        body=body,
        own=own,
        other=other,
    )


def _got(expected_id: Callable[[World], str], title_key: str | None = None) -> Any:
    def check(world: World, response: ApiResponse) -> None:
        assert response.status_code == 200, response.content
        assert response.json()["id"] == expected_id(world)
        if title_key == "item":
            assert response.json()["title"] == f"{world.a.slug} item"
        if title_key == "user":
            assert response.json()["profile_text"] == world.a.slug

    return check


def _patched_item(world: World, response: ApiResponse) -> None:
    assert response.status_code == 200, response.content
    assert Item.objects.for_tenant(world.a).get(external_id="shared").title == "patched"
    assert (
        Item.objects.for_tenant(world.b).get(external_id="shared").title == f"{world.b.slug} item"
    )


def _patched_user(world: World, response: ApiResponse) -> None:
    assert response.status_code == 200, response.content
    assert EndUser.objects.for_tenant(world.a).get(external_id="shared-user").profile_text == "p"
    assert EndUser.objects.for_tenant(world.b).get(external_id="shared-user").profile_text == (
        world.b.slug
    )


def _deleted(model: Any, external_id: str) -> Callable[[World, ApiResponse], None]:
    def check(world: World, response: ApiResponse) -> None:
        assert response.status_code == 204, response.content
        assert not model.objects.for_tenant(world.a).filter(external_id=external_id).exists()
        assert model.objects.for_tenant(world.b).filter(external_id=external_id).exists()

    return check


def _event_delete_case() -> Case:
    """Deleting an event by event_id: A's copy of a shared id goes, B's stays; B's own event_id
    is A's missing one."""

    def url(event_id: str) -> str:
        return reverse("interactions-detail", kwargs={"event_id": event_id})

    def own(world: World) -> None:
        response = call(world.api_a, "delete", url("shared-event"))
        assert response.status_code == 204, response.content
        assert not Interaction.objects.for_tenant(world.a).filter(event_id="shared-event").exists()
        assert Interaction.objects.for_tenant(world.b).filter(event_id="shared-event").exists()

    def other(world: World) -> None:
        foreign = call(world.api_a, "delete", url("b-only-event"))
        missing = call(world.api_a, "delete", url(MISSING))
        assert_same_as_missing(foreign, missing, ("b-only-event", MISSING))
        assert Interaction.objects.for_tenant(world.b).filter(event_id="b-only-event").exists()

    return Case(path=lambda world: url("shared-event"), body=None, own=own, other=other)


def _user_events_delete_case() -> Case:
    """Deleting a user's events: A's "shared-user" loses A's events only and stays a user."""

    def url(user_id: str) -> str:
        return reverse("users-interactions", kwargs={"user_id": user_id})

    def own(world: World) -> None:
        response = call(world.api_a, "delete", url("shared-user"))
        assert response.status_code == 200, response.content
        assert response.json() == {"deleted": 2}
        assert not Interaction.objects.for_tenant(world.a).exists()
        assert EndUser.objects.for_tenant(world.a).filter(external_id="shared-user").exists()
        assert Interaction.objects.for_tenant(world.b).count() == 2

    def other(world: World) -> None:
        foreign = call(world.api_a, "delete", url("b-only-user"))
        missing = call(world.api_a, "delete", url(MISSING))
        assert_same_as_missing(foreign, missing, ("b-only-user", MISSING))

    return Case(path=lambda world: url("shared-user"), body=None, own=own, other=other)


def _exported_a(world: World, response: ApiResponse) -> None:
    """A's "shared-user" with A's events only: B's user of the same id adds nothing."""
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["user"]["id"] == "shared-user"
    assert body["user"]["profile_text"] == world.a.slug
    events = sorted(event["event_id"] for event in body["interactions"])
    assert events == ["a-only-event", "shared-event"]
    assert {event["item_id"] for event in body["interactions"]} == {"shared"}


def _list_case(route: str, owned: Callable[[World, str], set[str]]) -> Case:
    """Lists: each tenant sees exactly its own rows, each once; B-only ids never reach A.

    `owned(world, "a" | "b")` is the set of ids that tenant holds.
    """

    def listed(client: APIClient) -> list[str]:
        response = client.get(reverse(route), {"limit": 1000})
        assert response.status_code == 200, response.content
        ids = [row["id"] for row in response.json()["results"]]
        assert len(ids) == len(set(ids))
        return ids

    def own(world: World) -> None:
        assert set(listed(world.api_a)) == owned(world, "a")

    def other(world: World) -> None:
        seen_by_a = set(listed(world.api_a))
        assert set(listed(world.api_b)) == owned(world, "b")
        only_b = owned(world, "b") - owned(world, "a")
        assert only_b
        assert not only_b & seen_by_a

    return Case(path=lambda world: reverse(route), body=None, own=own, other=other)


def _catalog_ids(suffix: str) -> Callable[[World, str], set[str]]:
    return lambda world, side: {f"shared{suffix}", f"{side}-only{suffix}"}


def _batch_case(route: str, key: str, own_rows: list[Any], other_rows: list[Any]) -> Case:
    def own(world: World) -> None:
        response = call(world.api_a, "post", reverse(route), {key: own_rows})
        assert response.status_code == 200, response.content
        if key == "interactions":
            # "shared-event" exists in both tenants: a duplicate for A; B's copy is not A's.
            # "b-only-user" is unknown to A, so it is created in A like any new user.
            assert response.json() == {"stored": 1, "duplicates": 1, "users_created": 1}
            assert EndUser.objects.for_tenant(world.a).filter(external_id="b-only-user").exists()
        else:
            assert response.json() == {"created": 0, "updated": len(own_rows)}

    def other(world: World) -> None:
        response = call(world.api_a, "post", reverse(route), {key: other_rows})
        if key == "interactions":
            # A B-only item is a row error, word for word the error of an item that exists nowhere.
            missing_rows = [{**row, "item": MISSING} for row in other_rows]
            missing = call(world.api_a, "post", reverse(route), {key: missing_rows})
            foreign_error = assert_error(response, 400, "validation_error")
            missing_error = assert_error(missing, 400, "validation_error")
            assert foreign_error["message"] == missing_error["message"]
            assert [(d["row"], d["field"]) for d in foreign_error["details"]] == [(1, "item")]
            foreign_message = foreign_error["details"][0]["message"]
            assert (
                foreign_message.replace("b-only", MISSING) == missing_error["details"][0]["message"]
            )
        else:
            # B's ids are new to A: created in A, not "updated" in B.
            assert response.status_code == 200, response.content
            assert response.json() == {"created": len(other_rows), "updated": 0}

    return Case(path=lambda world: reverse(route), body={key: own_rows}, own=own, other=other)


def _with_vectors(case: Case) -> Case:
    """`case`, run once both tenants' catalogs are encoded (results need vectors)."""

    def encoded_first(check: Callable[[World], None]) -> Callable[[World], None]:
        def run(world: World) -> None:
            world.encode()
            check(world)

        return run

    return replace(case, own=encoded_first(case.own), other=encoded_first(case.other))


def _result_ids(response: ApiResponse) -> list[str]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert {"recommendation_id", "model_version", "items"} <= set(body), body
    return [entry["id"] for entry in body["items"]]


def _only_a_results(expected: list[str]) -> Callable[[World, ApiResponse], None]:
    """A's results are exactly `expected`, A's own ids; B's rows never appear."""

    def check(world: World, response: ApiResponse) -> None:
        ids = _result_ids(response)
        assert "b-only" not in ids
        assert ids == expected

    return check


def _recommended_to_a(world: World, response: ApiResponse) -> None:
    """ "shared-user" saw "shared", so A's other item is all content can offer; A's cold user gets
    A's popular items, counted over A's events only, then A's newest."""
    _only_a_results(["a-only"])(world, response)
    assert response.json()["model_version"] is None  # nothing trained: content and live counts
    url = reverse("users-recommendations", kwargs={"user_id": "a-only-user"})
    cold = call(world.api_a, "get", url)
    # Popular first (A's one event), then A's newest items fill the list.
    assert _result_ids(cold) == ["shared", "a-only"]
    # Served lists are logged under the caller's tenant only.
    served = ServedList.objects.for_tenant(world.a).filter(
        recommendation_id=cold.json()["recommendation_id"]
    )
    assert served.exists()
    assert not ServedList.objects.for_tenant(world.b).exists()


def _ranking_case(route: str) -> Case:
    """/popular and /trending rank each tenant's own events only; nothing is trained yet, so
    popular counts live (A's one event is on A's "shared") and trending is empty."""
    expected = ["shared"] if route == "popular" else []

    def own(world: World) -> None:
        ids = _result_ids(call(world.api_a, "get", reverse(route)))
        assert ids == expected

    def other(world: World) -> None:
        for client in (world.api_a, world.api_b):
            ids = _result_ids(call(client, "get", reverse(route), None))
            assert "b-only" not in ids
            assert "a-only" not in ids
            assert ids == expected
        # A filter on an attribute only B's items have is unknown to A, as if nobody had it.
        foreign = call(world.api_a, "get", reverse(route) + "?attr.b_only_attr=1")
        missing = call(world.api_a, "get", reverse(route) + "?attr.nowhere_attr=1")
        foreign_error = assert_error(foreign, 400, "validation_error")
        missing_error = assert_error(missing, 400, "validation_error")
        swap = ("b_only_attr", "nowhere_attr")
        assert foreign_error["message"].replace(*swap) == missing_error["message"]
        assert str(foreign_error["details"]).replace(*swap) == str(missing_error["details"])

    return Case(path=lambda world: reverse(route), body=None, own=own, other=other)


def _models_case() -> Case:
    """Model versions: each tenant lists its own."""

    def listed(client: APIClient) -> list[Any]:
        response = client.get(reverse("models-list"))
        assert response.status_code == 200, response.content
        return [row["metrics"] for row in response.json()["results"]]

    def own(world: World) -> None:
        assert listed(world.api_a) == [{"of": world.a.slug}]

    def other(world: World) -> None:
        assert listed(world.api_b) == [{"of": world.b.slug}]
        assert {"of": world.b.slug} not in listed(world.api_a)

    return Case(path=lambda world: reverse("models-list"), body=None, own=own, other=other)


def _experiment_results(world: World, response: ApiResponse) -> None:
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["name"]) == (world.experiment_a.pk, f"{world.a.slug} test")
    assert [v["lists"] for v in body["variants"]] == [0, 0]


def _experiments_case() -> Case:
    """Experiments: each tenant lists its own."""

    def listed(client: APIClient) -> list[Any]:
        response = client.get(reverse("experiments-list"))
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    def own(world: World) -> None:
        assert listed(world.api_a) == [world.experiment_a.pk]

    def other(world: World) -> None:
        assert listed(world.api_b) == [world.experiment_b.pk]
        assert world.experiment_b.pk not in listed(world.api_a)

    return Case(path=lambda world: reverse("experiments-list"), body=None, own=own, other=other)


def _search_case() -> Case:
    """Search: A finds only A's items; B's user in A's request is a missing user."""

    def url() -> str:
        return reverse("search")

    def own(world: World) -> None:
        for body in ({"query": "shared item"}, {"query": "shared item", "user": "shared-user"}):
            ids = _result_ids(call(world.api_a, "post", url(), body))
            assert "b-only" not in ids
            assert sorted(ids) == ["a-only", "shared"]

    def other(world: World) -> None:
        foreign = call(world.api_a, "post", url(), {"query": "item", "user": "b-only-user"})
        missing = call(world.api_a, "post", url(), {"query": "item", "user": MISSING})
        assert_same_as_missing(foreign, missing, ("b-only-user", MISSING))
        # B's user is B's own: B searches with it, and finds only B's items.
        ids = _result_ids(
            call(world.api_b, "post", url(), {"query": "item", "user": "b-only-user"})
        )
        assert sorted(ids) == ["b-only", "shared"]

    return Case(path=lambda world: url(), body={"query": "shared item"}, own=own, other=other)


def _job_start_case() -> Case:
    """Starting a job: it belongs to the caller's tenant; B's jobs are untouched and unseen."""

    def own(world: World) -> None:
        b_jobs = set(Job.objects.for_tenant(world.b).values_list("pk", flat=True))
        response = call(world.api_a, "post", reverse("jobs-list"), {"kind": "encode"})
        assert response.status_code == 202, response.content
        job = Job.objects.unscoped().get(pk=response.json()["id"])
        assert job.tenant_id == world.a.pk
        assert set(Job.objects.for_tenant(world.b).values_list("pk", flat=True)) == b_jobs

    def other(world: World) -> None:
        # An encode job under way in B is B's: A asking for one gets its own, never B's. (B's job
        # is removed again, as the matrix holds B's rows unchanged.)
        b_job = Job.objects.for_tenant(world.b).create(tenant=world.b, kind=Job.Kind.ENCODE)
        b_job_id = str(b_job.pk)
        response = call(world.api_a, "post", reverse("jobs-list"), {"kind": "encode"})
        b_job.delete()
        assert response.status_code == 202, response.content
        assert response.json()["existing"] is False
        assert response.json()["id"] != b_job_id
        seen_by_b = world.api_b.get(reverse("jobs-list"), {"limit": 1000}).json()["results"]
        assert response.json()["id"] not in {row["id"] for row in seen_by_b}

    return Case(
        path=lambda world: reverse("jobs-list"), body={"kind": "encode"}, own=own, other=other
    )


CASES: dict[tuple[str, str], Case] = {
    ("items-batch", "post"): _batch_case(
        "items-batch",
        "items",
        [{"id": "shared", "title": "A renamed"}, {"id": "a-only"}],
        [{"id": "b-only", "title": "A's own b-only"}],
    ),
    ("users-batch", "post"): _batch_case(
        "users-batch",
        "users",
        [{"id": "shared-user", "profile_text": "A"}],
        [{"id": "b-only-user"}],
    ),
    ("interactions-batch", "post"): _batch_case(
        "interactions-batch",
        "interactions",
        [
            {"user": "shared-user", "item": "shared", "type": "view", "event_id": "shared-event"},
            {"user": "b-only-user", "item": "a-only", "type": "view", "event_id": "new-event"},
        ],
        [{"user": "shared-user", "item": "b-only", "type": "view", "event_id": "x-event"}],
    ),
    ("items-list", "get"): _list_case("items-list", _catalog_ids("")),
    ("users-list", "get"): _list_case("users-list", _catalog_ids("-user")),
    ("jobs-list", "get"): _list_case(
        "jobs-list", lambda world, side: {str(world.job_a.pk if side == "a" else world.job_b.pk)}
    ),
    ("jobs-list", "post"): _job_start_case(),
    ("items-detail", "get"): _detail_case(
        "items-detail", "item_id", "get", None, _got(lambda w: "shared", "item")
    ),
    ("items-detail", "patch"): _detail_case(
        "items-detail", "item_id", "patch", {"title": "patched"}, _patched_item
    ),
    ("items-detail", "delete"): _detail_case(
        "items-detail", "item_id", "delete", None, _deleted(Item, "shared")
    ),
    ("users-detail", "get"): _detail_case(
        "users-detail", "user_id", "get", None, _got(lambda w: "shared-user", "user")
    ),
    ("users-detail", "patch"): _detail_case(
        "users-detail", "user_id", "patch", {"profile_text": "p"}, _patched_user
    ),
    ("users-detail", "delete"): _detail_case(
        "users-detail", "user_id", "delete", None, _deleted(EndUser, "shared-user")
    ),
    ("interactions-detail", "delete"): _event_delete_case(),
    ("users-interactions", "delete"): _user_events_delete_case(),
    ("users-export", "get"): _detail_case("users-export", "user_id", "get", None, _exported_a),
    ("jobs-detail", "get"): _detail_case(
        "jobs-detail", "job_id", "get", None, _got(lambda w: str(w.job_a.pk))
    ),
    # Results: the only other item of A's is "a-only" (for "shared-user", who saw "shared").
    ("items-similar", "get"): _with_vectors(
        _detail_case("items-similar", "item_id", "get", None, _only_a_results(["a-only"]))
    ),
    ("users-recommendations", "get"): _with_vectors(
        _detail_case("users-recommendations", "user_id", "get", None, _recommended_to_a)
    ),
    ("search", "post"): _with_vectors(_search_case()),
    ("popular", "get"): _ranking_case("popular"),
    ("trending", "get"): _ranking_case("trending"),
    ("models-list", "get"): _models_case(),
    ("experiments-list", "get"): _experiments_case(),
    ("experiments-results", "get"): _detail_case(
        "experiments-results", "experiment_id", "get", None, _experiment_results
    ),
}


# --- the matrix, generated from the URL patterns ---------------------------------------------


def api_routes() -> list[tuple[str, str]]:
    """(route name, method) for every pattern of recommender.api.urls and method its view has."""
    routes: list[tuple[str, str]] = []
    for pattern in api_urls.urlpatterns:
        assert isinstance(pattern, URLPattern), f"enumerate nested includes too: {pattern}"
        assert pattern.name, f"name every API URL pattern: {pattern}"
        view_class = pattern.callback.view_class  # type: ignore[attr-defined]
        for method in view_class.http_method_names:
            if method not in IGNORED_METHODS and hasattr(view_class, method):
                routes.append((pattern.name, method))
    return routes


ROUTES = api_routes()
ROUTE_IDS = [f"{name}-{method}" for name, method in ROUTES]


def test_every_api_route_is_in_the_matrix() -> None:
    assert all(pattern.name for pattern in api_urls.urlpatterns), "name every API URL pattern"
    missing = sorted(set(ROUTES) - set(CASES))
    assert not missing, f"add these API routes to CASES in {__name__}: {missing}"
    stale = sorted(set(CASES) - set(ROUTES))
    assert not stale, f"remove these stale entries from CASES: {stale}"
    assert len(ROUTES) >= 13


def _case(route: tuple[str, str]) -> Case:
    if route not in CASES:
        pytest.fail(f"no isolation case for {route}: add it to CASES")
    return CASES[route]


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_own_tenant(world: World, route: tuple[str, str]) -> None:
    b_before = tenant_rows(world.b)
    _case(route).own(world)
    assert tenant_rows(world.b) == b_before


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_other_tenants_ids_behave_as_missing(world: World, route: tuple[str, str]) -> None:
    b_before = tenant_rows(world.b)
    _case(route).other(world)
    assert tenant_rows(world.b) == b_before


# Without a key, HEAD and OPTIONS must be refused too: they are answered by the same views.
NO_KEY_ROUTES = [
    *ROUTES,
    *((name, "head") for name, method in ROUTES if method == "get"),
    *((name, "options") for name in dict.fromkeys(name for name, _ in ROUTES)),
]


@pytest.mark.parametrize("route", NO_KEY_ROUTES, ids=lambda route: f"{route[0]}-{route[1]}")
def test_no_key_is_401(world: World, route: tuple[str, str]) -> None:
    name, method = route
    if route in CASES:
        case, body = CASES[route], CASES[route].body
    else:  # HEAD or OPTIONS: any case of the route gives its URL
        case, body = _case(next(r for r in ROUTES if r[0] == name)), None
    before = (tenant_rows(world.a), tenant_rows(world.b))
    response = call(APIClient(), method, case.path(world), body)
    if method == "head":
        assert response.status_code == 401
    else:
        assert_error(response, 401, "not_authenticated")
    assert (tenant_rows(world.a), tenant_rows(world.b)) == before


def test_a_foreign_job_is_404_like_a_random_one(world: World) -> None:
    """Jobs are looked up by uuid: B's job, a fresh uuid and a non-uuid all answer the same."""
    answers = [
        world.api_a.get(reverse("jobs-detail", kwargs={"job_id": job_id}))
        for job_id in (str(world.job_b.pk), str(uuid.uuid4()), "not-a-uuid")
    ]
    errors = [assert_error(response, 404, "not_found") for response in answers]
    assert len({(e["code"], str(e["details"])) for e in errors}) == 1
    assert world.api_b.get(reverse("jobs-detail", kwargs={"job_id": str(world.job_b.pk)})).json()[
        "id"
    ] == str(world.job_b.pk)


def test_shared_ids_resolve_to_the_callers_row(world: World) -> None:
    a_item = world.api_a.get(reverse("items-detail", kwargs={"item_id": "shared"})).json()
    b_item = world.api_b.get(reverse("items-detail", kwargs={"item_id": "shared"})).json()
    assert a_item["title"] == f"{world.a.slug} item"
    assert b_item["title"] == f"{world.b.slug} item"
