"""Helpers shared by the API and isolation tests: the error envelope and row counts."""

import datetime
from typing import TYPE_CHECKING, Any

from recommender.models import EndUser, Interaction, Item, Job
from tenants.models import Tenant

if TYPE_CHECKING:
    # What the test clients return (an HttpResponse with .json()); the stubs' name for it.
    from rest_framework.response import _MonkeyPatchedResponse as ApiResponse
else:
    ApiResponse = Any

TABLES: dict[str, Any] = {
    "items": Item,
    "users": EndUser,
    "interactions": Interaction,
    "jobs": Job,
}


def assert_error(response: ApiResponse, status: int, code: str | None = None) -> dict[str, Any]:
    """Assert `response` is exactly `status` with the one error envelope; return its body."""
    assert 400 <= status < 500
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["code"], str)
    assert error["code"]
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["details"], list)
    if code is not None:
        assert error["code"] == code, error
    return error


def row_counts() -> dict[str, int]:
    """Rows per table over all tenants (unscoped: the tests compare before and after)."""
    return {name: model.objects.unscoped().count() for name, model in TABLES.items()}


def tenant_rows(tenant: Tenant) -> dict[str, list[dict[str, Any]]]:
    """Every column of every row `tenant` owns, ordered: equal snapshots mean nothing changed."""
    return {
        name: list(model.objects.for_tenant(tenant).order_by("pk").values())
        for name, model in TABLES.items()
    }


def parse_time(value: str) -> datetime.datetime:
    parsed = datetime.datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, value
    return parsed
