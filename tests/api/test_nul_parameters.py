"""A NUL character in any query parameter (name or value) is a 400 in the envelope: PostgreSQL
text cannot hold one, so it could match nothing, and passing it on was a 500 (DataError)."""

import pytest
from rest_framework.test import APIClient

from tenants.models import Tenant
from tests.api.support import assert_error
from tests.factories import EndUserFactory, ItemFactory

pytestmark = pytest.mark.django_db

URLS = [
    "/api/v1/users/u-1/recommendations?category=a%00b",
    "/api/v1/users/u-1/recommendations?exclude_category=a%00b",
    "/api/v1/users/u-1/recommendations?attr.brand=a%00b",
    "/api/v1/items/sku-1/similar?attr.brand=a%00b",
    "/api/v1/items/sku-1/similar?exclude_category=a%00b",
    "/api/v1/items/sku-1/similar?category=a%00b",
    "/api/v1/popular?category=a%00b",
    "/api/v1/trending?attr.br%00and=1",
    "/api/v1/items?cursor=a%00b",
    "/api/v1/jobs?limit=1%00",
]


@pytest.mark.parametrize("url", URLS)
def test_nul_in_a_query_parameter_is_a_400(api: APIClient, tenant: Tenant, url: str) -> None:
    ItemFactory(tenant=tenant, external_id="sku-1", attributes={"brand": "x"}, categories=["a"])
    EndUserFactory(tenant=tenant, external_id="u-1")
    api.raise_request_exception = False
    error = assert_error(api.get(url), 400, "validation_error")
    assert "NUL" in error["message"]
    assert error["details"][0]["message"] == "contains a NUL character"
