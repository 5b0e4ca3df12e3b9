"""Rate limits against the real Redis: tiny buckets, and answers counted (never timed)."""

import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tenants import ratelimit
from tenants.models import Tenant
from tenants.services import api_key_create
from tests.api.support import assert_error

# Slow enough that no token comes back during a test.
TRICKLE = 0.001
URL = "/api/v1/users"


def statuses(client: APIClient, count: int) -> list[int]:
    return [client.get(URL).status_code for _ in range(count)]


def assert_throttled(client: APIClient) -> int:
    response = client.get(URL)
    assert_error(response, 429, "throttled")
    retry_after = int(response["Retry-After"])
    assert retry_after >= 1
    return retry_after


def limit(tenant: Tenant, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(tenant, f"rate_limit_{name}", value)
    tenant.save()


def test_url_is_a_real_endpoint(api: APIClient) -> None:
    assert api.get(URL).status_code == 200
    assert reverse("users-list").endswith("/users")


def test_key_bucket_allows_its_burst_then_429_and_other_keys_go_on(
    tenant: Tenant, make_client: Callable[..., APIClient]
) -> None:
    limit(tenant, key_per_s=TRICKLE, key_burst=3)
    first, second = make_client(tenant), make_client(tenant)
    assert statuses(first, 3) == [200, 200, 200]
    retry_after = assert_throttled(first)
    # One token at 0.001/s takes 1,000 s.
    assert 900 <= retry_after <= 1000
    assert statuses(second, 3) == [200, 200, 200]
    assert_throttled(second)


def test_tenant_bucket_is_shared_by_its_keys_and_not_by_other_tenants(
    tenant: Tenant, other_tenant: Tenant, make_client: Callable[..., APIClient]
) -> None:
    limit(tenant, tenant_per_s=TRICKLE, tenant_burst=4)
    first, second, other = make_client(tenant), make_client(tenant), make_client(other_tenant)
    assert statuses(first, 2) + statuses(second, 2) == [200] * 4
    assert_throttled(first)
    assert_throttled(second)
    assert statuses(other, 5) == [200] * 5


def test_a_refused_request_takes_no_token(
    tenant: Tenant, make_client: Callable[..., APIClient]
) -> None:
    # The key is empty, so its requests are refused; they must not drain the tenant's bucket.
    limit(tenant, key_per_s=TRICKLE, key_burst=1, tenant_per_s=TRICKLE, tenant_burst=3)
    busy, quiet = make_client(tenant), make_client(tenant)
    assert statuses(busy, 5) == [200, 429, 429, 429, 429]
    assert statuses(quiet, 1) == [200]
    assert statuses(make_client(tenant), 2) == [200, 429]  # the tenant's third and last token


def test_platform_defaults_apply_where_the_tenant_sets_none(
    tenant: Tenant, make_client: Callable[..., APIClient], settings: Any
) -> None:
    settings.RECSYS_RATE_LIMITS = {
        "key_rate": TRICKLE,
        "key_burst": 2,
        "tenant_rate": 0,
        "tenant_burst": 0,
    }
    assert statuses(make_client(tenant), 3) == [200, 200, 429]
    limit(tenant, key_per_s=0)  # 0: unlimited for this tenant
    assert statuses(make_client(tenant), 6) == [200] * 6


def test_failed_authentications_block_the_prefix_without_checking_the_secret(
    tenant: Tenant, settings: Any
) -> None:
    settings.RECSYS_AUTH_FAILURES_MAX = 3
    key, raw_key = api_key_create(tenant=tenant)
    _, other_raw_key = api_key_create(tenant=tenant)
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION=f"Bearer rsk_{key.prefix}_not-the-secret")
    right = APIClient()
    right.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {other_raw_key}")

    assert statuses(right, 1) == [200]
    assert statuses(wrong, 3) == [401, 401, 401]
    error = assert_error(wrong.get(URL), 429, "throttled")
    assert "failed authentications" in error["message"]
    # Blocked for the rest of the window, even with the right secret.
    assert_throttled(right)
    assert int(right.get(URL)["Retry-After"]) <= settings.RECSYS_AUTH_FAILURE_WINDOW_S
    assert statuses(other, 2) == [200, 200]


def test_unknown_prefixes_are_counted_too(settings: Any, db: Any) -> None:
    settings.RECSYS_AUTH_FAILURES_MAX = 2
    guess = APIClient()
    guess.credentials(HTTP_AUTHORIZATION="Bearer rsk_zzzzzzzz_guess")
    assert statuses(guess, 3) == [401, 401, 429]


def test_redis_down_fails_open_and_logs(
    tenant: Tenant,
    make_client: Callable[..., APIClient],
    settings: Any,
    tmp_path: Any,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    limit(tenant, key_per_s=TRICKLE, key_burst=1)
    settings.RECSYS_AUTH_FAILURES_MAX = 1
    client = make_client(tenant)
    settings.RECSYS_RATE_LIMIT_REDIS_URL = f"unix://{tmp_path}/no-redis.sock"
    monkeypatch.setattr(ratelimit, "_last_warning", -1e9)
    with caplog.at_level(logging.WARNING, logger="tenants.ratelimit"):
        assert statuses(client, 3) == [200, 200, 200]
        wrong = APIClient()
        wrong.credentials(HTTP_AUTHORIZATION="Bearer rsk_zzzzzzzz_guess")
        assert [wrong.get(URL).status_code for _ in range(3)] == [401, 401, 401]
    assert any("Redis unreachable" in r.getMessage() for r in caplog.records)
    # Logged once for the burst of failures, not once per request.
    assert sum("Redis unreachable" in r.getMessage() for r in caplog.records) == 1


def test_limits_are_editable_in_the_tenant_admin(tenant: Tenant, admin_client: Any) -> None:
    page = admin_client.get(reverse("admin:tenants_tenant_change", args=[tenant.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("key_per_s", "key_burst", "tenant_per_s", "tenant_burst"):
        assert f'name="rate_limit_{name}"' in html
