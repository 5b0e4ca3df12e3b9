"""API keys (issued, stored, checked over HTTP), create_tenant, and the fail-closed manager."""

import datetime
import hashlib
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from recommender.models import EndUser, Interaction, Item, Job
from recsys_platform.errors import ApplicationError
from tenants.models import ALL_SCOPES, SCOPE_INGEST, SCOPE_MANAGE, SCOPE_RECOMMEND, ApiKey, Tenant
from tenants.scoping import TenantNotSetError, current_tenant_or_none, tenant_scope
from tenants.services import (
    LAST_USED_RESOLUTION,
    api_key_authenticate,
    api_key_create,
    api_key_revoke,
)
from tests.api.support import assert_error
from tests.factories import ItemFactory

PROBE = "/api/v1/items"  # any endpoint the `ingest` scope opens


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=raw)
    return client


# --- issuing and storing ---------------------------------------------------------------------


def test_create_returns_the_secret_once_and_stores_only_its_digest(tenant: Tenant) -> None:
    key, raw_key = api_key_create(tenant=tenant, name="ci")
    tag, prefix, secret = raw_key.split("_", 2)
    assert tag == "rsk"
    assert key.prefix == prefix
    assert len(prefix) == 8
    assert len(secret) >= 32

    stored = ApiKey.objects.get(pk=key.pk)
    assert stored.digest == hashlib.sha256(raw_key.encode()).hexdigest()
    for column in ApiKey._meta.concrete_fields:
        value = str(getattr(stored, column.attname))
        assert secret not in value, column.name
        assert raw_key not in value, column.name
    assert secret not in repr(ApiKey.objects.filter(pk=key.pk).values().get())
    assert secret not in str(stored)


def test_keys_are_distinct(tenant: Tenant) -> None:
    made = [api_key_create(tenant=tenant) for _ in range(5)]
    assert len({k.prefix for k, _ in made}) == 5
    assert len({raw for _, raw in made}) == 5


def test_prefix_lookup_finds_each_key(tenant: Tenant, other_tenant: Tenant) -> None:
    key_a, raw_a = api_key_create(tenant=tenant)
    key_b, raw_b = api_key_create(tenant=other_tenant)
    found_a = api_key_authenticate(raw_key=raw_a)
    found_b = api_key_authenticate(raw_key=raw_b)
    assert found_a is not None
    assert found_b is not None
    assert found_a.pk == key_a.pk
    assert found_a.tenant == tenant
    assert found_b.pk == key_b.pk
    assert found_b.tenant == other_tenant


def test_the_found_key_and_its_tenant_read_as_the_orm_reads_them(tenant: Tenant) -> None:
    tenant.settings = {"webhook": "https://example.com", "limits": [1, 2]}
    tenant.save()
    key, raw_key = api_key_create(tenant=tenant, scopes=["recommend"], name="app")
    found = api_key_authenticate(raw_key=raw_key)
    assert found is not None
    stored = ApiKey.objects.select_related("tenant").get(pk=key.pk)
    for field in ApiKey._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(stored, field.attname), field.name
    for field in Tenant._meta.concrete_fields:
        assert getattr(found.tenant, field.attname) == getattr(stored.tenant, field.attname)
    assert found.tenant.settings == {"webhook": "https://example.com", "limits": [1, 2]}
    assert found.scopes == ["recommend"]
    assert not found._state.adding  # a loaded row: saving it updates, never inserts


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda raw: raw[:-1] + ("A" if raw[-1] != "A" else "B"), id="wrong-secret"),
        pytest.param(lambda raw: raw + "x", id="longer-secret"),
        pytest.param(lambda raw: raw.rsplit("_", 1)[0] + "_", id="empty-secret"),
        pytest.param(lambda raw: "xyz" + raw[3:], id="wrong-tag"),
        pytest.param(lambda raw: raw.replace("_", "-"), id="no-separators"),
        pytest.param(lambda raw: "rsk_zzzzzzzz_" + raw.split("_", 2)[2], id="unknown-prefix"),
        pytest.param(lambda raw: "", id="empty"),
    ],
)
def test_authenticate_refuses_near_misses(tenant: Tenant, mangle: Callable[[str], str]) -> None:
    _, raw_key = api_key_create(tenant=tenant)
    assert api_key_authenticate(raw_key=mangle(raw_key)) is None


@pytest.mark.parametrize("scopes", [[], ["admin"], ["ingest", "root"]])
def test_create_refuses_unknown_or_empty_scopes(tenant: Tenant, scopes: list[str]) -> None:
    with pytest.raises(ApplicationError) as raised:
        api_key_create(tenant=tenant, scopes=scopes)
    assert raised.value.code == "invalid_scopes"
    assert not ApiKey.objects.exists()


# --- over HTTP -------------------------------------------------------------------------------


def test_a_valid_key_is_accepted(api: APIClient) -> None:
    assert api.get(PROBE).status_code == 200


def test_missing_header_is_401(db: Any) -> None:
    response = APIClient().get(PROBE)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Token abc", id="token-scheme"),
        pytest.param("Basic dXNlcjpwYXNz", id="basic-scheme"),
        pytest.param("Bearer", id="bearer-alone"),
        pytest.param("Bearer ", id="bearer-space"),
        pytest.param("Bearer a b", id="three-parts"),
        pytest.param("Bearer rsk_abcdefgh_notreal", id="unknown-key"),
        pytest.param("Bearer nonsense", id="not-a-key"),
        pytest.param("Bearer rsk__", id="empty-parts"),
        pytest.param("Bearer r\xe9sk_abc_def", id="not-ascii"),
    ],
)
def test_malformed_or_unknown_keys_are_401(tenant: Tenant, header: str) -> None:
    api_key_create(tenant=tenant)
    response = bearer(header).get(PROBE)
    error = assert_error(response, 401, "authentication_failed")
    assert "rsk_" not in error["message"]


@pytest.mark.parametrize("header", ["", "   "])
def test_an_empty_header_never_means_no_auth(db: Any, header: str) -> None:
    assert_error(bearer(header).get(PROBE), 401, "not_authenticated")


def test_the_scheme_is_case_insensitive(tenant: Tenant) -> None:
    _, raw_key = api_key_create(tenant=tenant)
    assert bearer(f"bearer {raw_key}").get(PROBE).status_code == 200
    assert bearer(f"BEARER {raw_key}").get(PROBE).status_code == 200


def test_right_prefix_with_wrong_secret_is_401(tenant: Tenant) -> None:
    _, raw_key = api_key_create(tenant=tenant)
    tag, prefix, secret = raw_key.split("_", 2)
    forged = f"{tag}_{prefix}_{secret[::-1]}"
    assert forged != raw_key
    assert_error(bearer(f"Bearer {forged}").get(PROBE), 401, "authentication_failed")


def test_revoked_key_is_401(tenant: Tenant) -> None:
    key, raw_key = api_key_create(tenant=tenant)
    client = bearer(f"Bearer {raw_key}")
    assert client.get(PROBE).status_code == 200
    api_key_revoke(key=key)
    assert_error(client.get(PROBE), 401, "authentication_failed")
    # Revoking is idempotent and keeps the first revocation time.
    revoked_at = ApiKey.objects.get(pk=key.pk).revoked_at
    api_key_revoke(key=ApiKey.objects.get(pk=key.pk))
    assert ApiKey.objects.get(pk=key.pk).revoked_at == revoked_at


def test_inactive_tenant_is_403(tenant: Tenant, api: APIClient) -> None:
    tenant.active = False
    tenant.save()
    assert_error(api.get(PROBE), 403, "permission_denied")
    assert_error(api.post("/api/v1/items/batch", {"items": []}, format="json"), 403)


def test_revoked_key_of_an_inactive_tenant_is_401(tenant: Tenant) -> None:
    key, raw_key = api_key_create(tenant=tenant)
    api_key_revoke(key=key)
    tenant.active = False
    tenant.save()
    assert_error(bearer(f"Bearer {raw_key}").get(PROBE), 401)


ENDPOINT_SCOPES: list[tuple[str, str, Any, str]] = [
    ("post", "/api/v1/items/batch", {"items": [{"id": "sku-1"}]}, SCOPE_INGEST),
    ("post", "/api/v1/users/batch", {"users": [{"id": "u-1"}]}, SCOPE_INGEST),
    (
        "post",
        "/api/v1/interactions/batch",
        {"interactions": [{"user": "u-1", "item": "sku-1", "type": "view"}]},
        SCOPE_INGEST,
    ),
    ("get", "/api/v1/items", None, SCOPE_INGEST),
    ("get", "/api/v1/items/sku-1", None, SCOPE_INGEST),
    ("patch", "/api/v1/items/sku-1", {"title": "x"}, SCOPE_INGEST),
    ("delete", "/api/v1/items/sku-1", None, SCOPE_INGEST),
    ("get", "/api/v1/users", None, SCOPE_INGEST),
    ("get", "/api/v1/users/u-1", None, SCOPE_INGEST),
    ("patch", "/api/v1/users/u-1", {"profile_text": "x"}, SCOPE_INGEST),
    ("delete", "/api/v1/users/u-1", None, SCOPE_INGEST),
    ("get", "/api/v1/jobs", None, SCOPE_MANAGE),
    ("get", "/api/v1/jobs/00000000-0000-0000-0000-000000000000", None, SCOPE_MANAGE),
]


@pytest.mark.parametrize(("method", "url", "body", "scope"), ENDPOINT_SCOPES)
def test_a_key_without_the_needed_scope_is_403(
    make_client: Callable[..., APIClient],
    tenant: Tenant,
    method: str,
    url: str,
    body: Any,
    scope: str,
) -> None:
    ItemFactory(tenant=tenant, external_id="sku-1", title="Original")
    others = tuple(s for s in ALL_SCOPES if s != scope)
    denied = make_client(tenant, scopes=others)
    error = assert_error(getattr(denied, method)(url, body, format="json"), 403)
    assert error["code"] == "permission_denied"
    assert scope in error["message"]
    assert Item.objects.for_tenant(tenant).get().title == "Original"
    assert not EndUser.objects.for_tenant(tenant).exists()

    allowed = make_client(tenant, scopes=(scope,))
    assert getattr(allowed, method)(url, body, format="json").status_code not in (401, 403)


def test_recommend_only_key_cannot_ingest(
    make_client: Callable[..., APIClient], tenant: Tenant
) -> None:
    client = make_client(tenant, scopes=(SCOPE_RECOMMEND,))
    assert_error(client.get(PROBE), 403, "permission_denied")


def test_last_used_at_is_set_on_use(tenant: Tenant) -> None:
    key, raw_key = api_key_create(tenant=tenant)
    assert key.last_used_at is None
    before = timezone.now()
    assert bearer(f"Bearer {raw_key}").get(PROBE).status_code == 200
    used = ApiKey.objects.get(pk=key.pk).last_used_at
    assert used is not None
    assert before <= used <= timezone.now()


def test_last_used_at_is_not_touched_by_a_wrong_secret(tenant: Tenant) -> None:
    key, raw_key = api_key_create(tenant=tenant)
    bearer(f"Bearer {raw_key}x").get(PROBE)
    assert ApiKey.objects.get(pk=key.pk).last_used_at is None


@pytest.mark.parametrize(
    ("age", "refreshed"),
    [(datetime.timedelta(seconds=5), False), (LAST_USED_RESOLUTION * 2, True)],
)
def test_last_used_at_is_refreshed_at_its_resolution(
    tenant: Tenant, age: datetime.timedelta, refreshed: bool
) -> None:
    key, raw_key = api_key_create(tenant=tenant)
    earlier = timezone.now() - age
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=earlier)
    bearer(f"Bearer {raw_key}").get(PROBE)
    assert (ApiKey.objects.get(pk=key.pk).last_used_at != earlier) is refreshed


# --- create_tenant ---------------------------------------------------------------------------


def run_create_tenant(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_tenant", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_tenant_prints_a_working_key_last(db: Any) -> None:
    out, _ = run_create_tenant("newco", "--name", "New Co")
    raw_key = out.strip().splitlines()[-1]
    tenant = Tenant.objects.get(slug="newco")
    assert tenant.name == "New Co"
    assert tenant.active
    key = api_key_authenticate(raw_key=raw_key)
    assert key is not None
    assert key.tenant == tenant
    assert sorted(key.scopes) == sorted(ALL_SCOPES)
    assert bearer(f"Bearer {raw_key}").get(PROBE).status_code == 200
    assert bearer(f"Bearer {raw_key}").get("/api/v1/jobs").status_code == 200


def test_create_tenant_reuses_an_existing_tenant(db: Any) -> None:
    first, _ = run_create_tenant("newco")
    second, err = run_create_tenant("newco")
    assert Tenant.objects.filter(slug="newco").count() == 1
    assert Tenant.objects.get(slug="newco").name == "newco"
    assert "Reusing" in err
    keys = [first.strip().splitlines()[-1], second.strip().splitlines()[-1]]
    assert keys[0] != keys[1]
    for raw_key in keys:
        assert bearer(f"Bearer {raw_key}").get(PROBE).status_code == 200
    assert ApiKey.objects.filter(tenant__slug="newco").count() == 2


@pytest.mark.parametrize(
    "slug", ["Bad Slug", "UPPER", "-leading", "trailing-", "under_score", "x" * 51, "é"]
)
def test_create_tenant_rejects_an_invalid_slug(db: Any, slug: str) -> None:
    with pytest.raises(CommandError):
        run_create_tenant(slug)
    assert not Tenant.objects.exists()
    assert not ApiKey.objects.exists()


# --- the fail-closed manager -----------------------------------------------------------------

TENANT_OWNED = [Item, EndUser, Interaction, Job]


@pytest.mark.parametrize("model", TENANT_OWNED, ids=lambda m: m.__name__)
@pytest.mark.parametrize(
    "query",
    [
        pytest.param(lambda m: m.objects.all(), id="all"),
        pytest.param(lambda m: m.objects.filter(pk=1), id="filter"),
        pytest.param(lambda m: m.objects.count(), id="count"),
        pytest.param(lambda m: m.objects.first(), id="first"),
        pytest.param(lambda m: m.objects.exists(), id="exists"),
    ],
)
def test_outside_any_scope_the_manager_raises(
    db: Any, model: Any, query: Callable[[Any], Any]
) -> None:
    assert current_tenant_or_none() is None
    with pytest.raises(TenantNotSetError):
        query(model)


def test_create_without_tenant_outside_scope_raises(db: Any) -> None:
    with pytest.raises(TenantNotSetError):
        Item.objects.create(external_id="sku-1")


def test_inside_a_scope_only_that_tenant_is_seen(tenant: Tenant, other_tenant: Tenant) -> None:
    ItemFactory(tenant=tenant, external_id="shared", title="mine")
    ItemFactory(tenant=tenant, external_id="a-only")
    ItemFactory(tenant=other_tenant, external_id="shared", title="theirs")
    ItemFactory(tenant=other_tenant, external_id="b-only")

    with tenant_scope(tenant):
        assert sorted(Item.objects.values_list("external_id", flat=True)) == ["a-only", "shared"]
        assert Item.objects.get(external_id="shared").title == "mine"
        assert not Item.objects.filter(external_id="b-only").exists()
        created = Item.objects.create(external_id="made-in-scope")
        assert created.tenant == tenant
        with tenant_scope(other_tenant):
            assert Item.objects.get(external_id="shared").title == "theirs"
        assert Item.objects.get(external_id="shared").title == "mine"
    assert current_tenant_or_none() is None
    with pytest.raises(TenantNotSetError):
        Item.objects.all()
    assert Item.objects.for_tenant(other_tenant).count() == 2
    assert Item.objects.unscoped().count() == 5


def test_the_scoped_fixture_enters_the_tenant(scoped: Tenant, other_tenant: Tenant) -> None:
    ItemFactory(tenant=other_tenant, external_id="b-only")
    ItemFactory(tenant=scoped, external_id="a-only")
    assert list(Item.objects.values_list("external_id", flat=True)) == ["a-only"]


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/v1/items", None),
        ("get", "/api/v1/items/missing", None),
        ("post", "/api/v1/items/batch", {"items": [{"title": "no id"}]}),
        ("post", "/api/v1/items/batch", {"items": [{"id": "sku-1"}]}),
    ],
)
def test_a_request_leaves_no_tenant_in_scope(
    api: APIClient, method: str, url: str, body: Any
) -> None:
    getattr(api, method)(url, body, format="json")
    assert current_tenant_or_none() is None
    with pytest.raises(TenantNotSetError):
        Item.objects.all()
