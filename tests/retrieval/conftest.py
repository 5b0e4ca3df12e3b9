"""A small catalog in the tiny model's vocabulary, loaded through the API, and its encoding."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from recommender import vectorstore
from recommender.models import EndUser, Interaction, Item
from recommender.models.vectors import EmbeddingSpace, UserVector
from recommender.services.config import config_save
from recommender.services.encoding.encode import encode_tenant
from recommender.services.encoding.spaces import active_space
from recommender.services.ingest.rows import item_content_hash
from tenants.models import Tenant
from tenants.services import api_key_create


def item(external_id: str, title: str, description: str, category: str, **extra: Any) -> dict:
    return {
        "id": external_id,
        "title": title,
        "description": description,
        "categories": [category],
        **extra,
    }


# Words of the tiny model's vocabulary (tests/conftest.py), so texts differ token by token.
ITEMS = [
    item("watch-1", "smart watch", "gps heart rate", "watch"),
    item("watch-2", "smart watch", "heart rate", "watch"),
    item("watch-3", "gps watch", "running", "watch"),
    item("shoe-1", "running shoe", "trail", "shoes"),
    item("shoe-2", "trail running shoes", "trail", "shoes"),
    item("shoe-3", "running shoes", "shoe", "shoes"),
    item("pan-1", "cast iron skillet", "iron pan", "kitchen"),
    item("pan-2", "iron pan", "cast iron", "kitchen"),
    item("kettle-1", "tea kettle", "coffee tea", "kitchen"),
    item("book-1", "novel", "book", "books"),
    item("mat-1", "yoga mat", "yoga", "yoga", available=False),
    item("tent-1", "camping tent", "camping", "camping", available=False),
]
ITEM_IDS = [row["id"] for row in ITEMS]
UNAVAILABLE = {"mat-1", "tent-1"}

USERS = [
    {"id": "buyer"},
    {"id": "reader", "profile_text": "novel book tea"},
    {"id": "cold"},
    {"id": "pop-1"},
    {"id": "pop-2"},
    {"id": "pop-3"},
]
USERS_WITH_TEXT = {"reader"}
# What "buyer" did; "pop-*" make a popularity order: pan-1 (3), mat-1 (3, unavailable),
# kettle-1 (2), book-1 (1) — and watch-1, shoe-1 once each from "buyer".
BUYER_EVENTS = [("watch-1", "purchase"), ("shoe-1", "view")]
POPULAR_EVENTS = [
    ("pop-1", "pan-1"),
    ("pop-2", "pan-1"),
    ("pop-3", "pan-1"),
    ("pop-1", "mat-1"),
    ("pop-2", "mat-1"),
    ("pop-3", "mat-1"),
    ("pop-1", "kettle-1"),
    ("pop-2", "kettle-1"),
    ("pop-1", "book-1"),
]


def post(api: APIClient, path: str, body: Any) -> dict[str, Any]:
    response = api.post(path, body, format="json")
    assert response.status_code == 200, response.content
    result: dict[str, Any] = response.json()
    return result


def load_catalog(api: APIClient) -> None:
    post(api, "/api/v1/items/batch", {"items": ITEMS})
    post(api, "/api/v1/users/batch", {"users": USERS})
    events = [
        {"user": "buyer", "item": item_id, "type": kind, "event_id": f"buyer-{item_id}"}
        for item_id, kind in BUYER_EVENTS
    ] + [
        {"user": user, "item": item_id, "type": "view", "event_id": f"{user}-{item_id}"}
        for user, item_id in POPULAR_EVENTS
    ]
    post(api, "/api/v1/interactions/batch", {"interactions": events})


@dataclass
class Encoded:
    """The tenant's catalog, encoded with the tiny model, and a client of the tenant."""

    tenant: Tenant
    api: APIClient
    space: EmbeddingSpace
    counts: dict[str, Any]


@pytest.fixture
def catalog(api: APIClient) -> APIClient:
    api.raise_request_exception = False  # a 500 must reach the assertions as a response
    load_catalog(api)
    return api


@pytest.fixture
def encoded(
    tenant: Tenant, catalog: APIClient, use_tiny_encoder: Callable[[Tenant], None]
) -> Encoded:
    use_tiny_encoder(tenant)
    counts = encode_tenant(tenant=tenant)
    space = active_space(tenant.pk)
    assert space is not None
    return Encoded(tenant, catalog, space, counts)


def item_pks(tenant: Tenant) -> dict[str, int]:
    """external id → pk of the tenant's items."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT external_id, id FROM recommender_item WHERE tenant_id = %s", [tenant.pk]
        )
        return dict(cursor.fetchall())


def stored_item_vectors(
    tenant: Tenant, space: EmbeddingSpace
) -> dict[str, npt.NDArray[np.float32]]:
    """external id → the item's vector in `space` (items without one are absent)."""
    pks = item_pks(tenant)
    vectors = vectorstore.item_vectors(space, list(pks.values()))
    return {external_id: vectors[pk] for external_id, pk in pks.items() if pk in vectors}


def stored_user_vector(space: EmbeddingSpace, user_id: int) -> npt.NDArray[np.float32]:
    """The user's stored vector in `space` (a text vector, or an ALS factor in a CF space), read
    through the ORM rather than the SQL serving runs; raises when there is none."""
    row = UserVector.objects.get(space=space, user_id=user_id)
    return np.asarray(row.embedding, dtype=np.float32)


def store_catalog(tenant: Tenant) -> None:
    """The same catalog written with the ORM (the batch API would queue encode jobs on commit)."""
    items = {
        row["id"]: Item.objects.create(
            tenant=tenant,
            external_id=row["id"],
            title=row["title"],
            description=row["description"],
            categories=row["categories"],
            available=row.get("available", True),
            content_hash=item_content_hash(row["title"], row["description"], row["categories"]),
        )
        for row in ITEMS
    }
    users = {
        row["id"]: EndUser.objects.create(
            tenant=tenant, external_id=row["id"], profile_text=row.get("profile_text", "")
        )
        for row in USERS
    }
    events = [("buyer", item_id, kind) for item_id, kind in BUYER_EVENTS]
    events += [(user, item_id, "view") for user, item_id in POPULAR_EVENTS]
    for user, item_id, kind in events:
        Interaction.objects.create(
            tenant=tenant,
            user=users[user],
            item=items[item_id],
            type=kind,
            timestamp=timezone.now(),
        )


@pytest.fixture(scope="module")
def committed_catalog(
    django_db_setup: Any, django_db_blocker: Any, tiny_model_dir: str
) -> Iterator[str]:
    """The catalog of a tenant of its own, encoded and committed once for a module of tests that
    only read (each test still runs in a transaction that is rolled back). Yields an API key."""
    with django_db_blocker.unblock():
        owner = Tenant.objects.create(slug="retrieval-read-only", name="Read-only")
        store_catalog(owner)
        config_save(tenant=owner, data={"encoder": {"model": tiny_model_dir, "device": "cpu"}})
        encode_tenant(tenant=owner)
        _, key = api_key_create(tenant=owner)
    yield key
    with django_db_blocker.unblock():
        for space in EmbeddingSpace.objects.for_tenant(owner):
            vectorstore.drop_space(space)
        owner.delete()


@pytest.fixture
def read_only_api(db: Any, committed_catalog: str) -> APIClient:
    """A client of the committed catalog's tenant."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {committed_catalog}")
    client.raise_request_exception = False
    return client
