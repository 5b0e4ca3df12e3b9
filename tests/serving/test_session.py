"""Anonymous and session requests: a never-seen user gets the cold-start list, and
`context_items` turn the list into items like those the visitor looks at now."""

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from recommender.models import ServedList
from recommender.services.encoding.encode import encode_tenant
from tenants.models import Tenant
from tests.api.support import assert_error
from tests.factories import EndUserFactory, InteractionFactory, ItemFactory

TITLES = ["red trail shoe", "blue trail shoe", "chef knife", "bread knife", "green tea", "mug"]


@pytest.fixture
def catalog(tenant: Tenant, use_tiny_encoder: Callable[[Tenant], None]) -> None:
    fan = EndUserFactory(tenant=tenant, external_id="fan")
    for n, title in enumerate(TITLES):
        item = ItemFactory(tenant=tenant, external_id=f"sku-{n}", title=title)
        for _ in range(len(TITLES) - n):
            InteractionFactory(tenant=tenant, user=fan, item=item)
    use_tiny_encoder(tenant)
    encode_tenant(tenant=tenant)


def _ids(response: object) -> list[str]:
    assert response.status_code == 200, response.content  # type: ignore[attr-defined]
    return [row["id"] for row in response.json()["items"]]  # type: ignore[attr-defined]


@pytest.mark.usefixtures("catalog")
def test_a_never_seen_user_gets_the_cold_start_list(
    api: APIClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    EndUserFactory(tenant=other_tenant, external_id="theirs")
    EndUserFactory(tenant=tenant, external_id="known-cold")
    known = _ids(api.get("/api/v1/users/known-cold/recommendations?count=3"))
    visitor = api.get("/api/v1/users/visitor-1/recommendations?count=3&explain=true")

    # Popular first (the fan's counts), as for a known user without history.
    assert _ids(visitor) == known == ["sku-0", "sku-1", "sku-2"]
    assert visitor.json()["items"][0]["explanation"]["text"].startswith("Popular")
    served = ServedList.objects.for_tenant(tenant).get(
        recommendation_id=visitor.json()["recommendation_id"]
    )
    assert served.user_id is None
    # Another tenant's user is a visitor like any other id.
    assert _ids(api.get("/api/v1/users/theirs/recommendations?count=3")) == known


@pytest.mark.usefixtures("catalog")
def test_context_items_give_the_items_like_them(api: APIClient) -> None:
    similar = _ids(api.get("/api/v1/items/sku-2/similar?count=4"))
    response = api.get(
        "/api/v1/users/visitor-2/recommendations?count=4&explain=true&context_items=sku-2"
    )

    # One context item: its content neighbours, as /similar ranks them; never itself.
    assert _ids(response) == similar
    assert "sku-2" not in similar
    texts = {row["explanation"]["text"] for row in response.json()["items"]}
    assert texts == {"Similar in description to chef knife"}


@pytest.mark.usefixtures("catalog")
def test_context_excludes_what_the_user_saw_and_ignores_unknown_ids(
    api: APIClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    ItemFactory(tenant=other_tenant, external_id="their-item")
    seen = _ids(api.get("/api/v1/users/fan/recommendations?count=4&context_items=sku-2,sku-3"))
    # The fan saw every item: nothing of the catalogue is left to offer.
    assert seen == []

    # Ids the tenant lacks (another tenant's among them) are ignored alike.
    plain = _ids(api.get("/api/v1/users/visitor-3/recommendations?count=3"))
    foreign = api.get("/api/v1/users/visitor-3/recommendations?count=3&context_items=their-item")
    missing = api.get("/api/v1/users/visitor-3/recommendations?count=3&context_items=nowhere")
    assert _ids(foreign) == _ids(missing) == plain


@pytest.mark.parametrize("value", ["", "a,,b", ",".join(f"s{n}" for n in range(21))])
def test_bad_context_items_are_400(api: APIClient, value: str) -> None:
    response = api.get(f"/api/v1/users/v/recommendations?context_items={value}")
    error = assert_error(response, 400, "validation_error")
    assert error["details"] == [{"field": "context_items", "message": "invalid"}]


def test_context_items_are_only_for_user_lists(api: APIClient) -> None:
    assert_error(api.get("/api/v1/popular?context_items=sku-1"), 400, "validation_error")
