"""Encoding with the tiny model: one vector per item, only changed content re-encoded, user texts,
and a new space built beside the active one when the encoder settings change."""

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest
from django.db import connection
from rest_framework.test import APIClient

from recommender import vectorstore
from recommender.models import EndUser, Item
from recommender.models.vectors import EmbeddingSpace
from recommender.services.config import active_config, config_save
from recommender.services.encoding.encode import encode_tenant
from recommender.services.encoding.encoders import encoder_for, encoder_settings
from recommender.services.encoding.spaces import active_space
from tenants.models import Tenant
from tests.retrieval.conftest import (
    ITEM_IDS,
    ITEMS,
    USERS_WITH_TEXT,
    Encoded,
    item_pks,
    stored_item_vectors,
    stored_user_vector,
)

TINY_DIM = 32


def vectors_per_item(space: EmbeddingSpace) -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT item_id, count(*) FROM recommender_itemvector WHERE space_id = %s"
            " GROUP BY item_id",
            [space.pk],
        )
        return dict(cursor.fetchall())


def user_vector_owners(space: EmbeddingSpace) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.external_id FROM recommender_uservector v"
            " JOIN recommender_enduser u ON u.id = v.user_id WHERE v.space_id = %s",
            [space.pk],
        )
        return {row[0] for row in cursor.fetchall()}


def row_versions(space: EmbeddingSpace) -> dict[int, str]:
    """item pk → the physical address of its vector row, which every rewrite changes.

    (Timestamps cannot tell: a test runs in one transaction, where now() stands still.)
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT item_id, ctid::text FROM recommender_itemvector WHERE space_id = %s",
            [space.pk],
        )
        return dict(cursor.fetchall())


def test_every_item_gets_exactly_one_vector(encoded: Encoded) -> None:
    tenant, space = encoded.tenant, encoded.space
    assert encoded.counts["items_total"] == len(ITEMS)
    assert encoded.counts["items_encoded"] == len(ITEMS)
    assert encoded.counts["space"] == space.pk
    assert space.status == EmbeddingSpace.Status.ACTIVE
    assert space.dimension == TINY_DIM

    per_item = vectors_per_item(space)
    assert set(per_item) == set(item_pks(tenant).values())
    assert set(per_item.values()) == {1}
    assert vectorstore.vector_counts(space)["items"] == len(ITEMS)
    assert vectorstore.count_items_to_encode(space) == 0
    assert vectorstore.index_state(space)["exists"]

    vectors = stored_item_vectors(tenant, space)
    matrix = np.stack([vectors[i] for i in ITEM_IDS])
    assert matrix.shape == (len(ITEMS), TINY_DIM)
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    # Same text, same vector; different text, different vector.
    assert not np.allclose(vectors["watch-1"], vectors["pan-1"])
    hashes = dict(Item.objects.for_tenant(tenant).values_list("pk", "content_hash"))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT item_id, content_hash FROM recommender_itemvector WHERE space_id = %s",
            [space.pk],
        )
        assert dict(cursor.fetchall()) == hashes


def test_running_again_encodes_nothing(encoded: Encoded) -> None:
    before = row_versions(encoded.space)
    counts = encode_tenant(tenant=encoded.tenant)
    assert counts["space"] == encoded.space.pk
    assert counts["items_total"] == 0
    assert counts["items_encoded"] == 0
    assert counts["users_encoded"] == 0
    assert "activated_space" not in counts
    assert row_versions(encoded.space) == before


def _patch_title(api: APIClient, external_id: str, title: str) -> None:
    response = api.patch(f"/api/v1/items/{external_id}", {"title": title}, format="json")
    assert response.status_code == 200, response.content


def _batch_with_title(api: APIClient, external_id: str, title: str) -> None:
    rows = [{**row, "title": title} if row["id"] == external_id else row for row in ITEMS]
    response = api.post("/api/v1/items/batch", {"items": rows}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 0, "updated": len(ITEMS)}


@pytest.mark.parametrize("change", [_patch_title, _batch_with_title], ids=["patch", "batch"])
def test_a_changed_title_re_encodes_only_that_item(
    encoded: Encoded, change: Callable[[APIClient, str, str], None]
) -> None:
    tenant, space = encoded.tenant, encoded.space
    before = stored_item_vectors(tenant, space)
    stamps = row_versions(space)

    change(encoded.api, "pan-2", "coffee kettle")
    assert vectorstore.count_items_to_encode(space) == 1
    counts = encode_tenant(tenant=tenant)
    assert counts["items_encoded"] == 1
    assert counts["space"] == space.pk

    after = stored_item_vectors(tenant, space)
    assert not np.allclose(after["pan-2"], before["pan-2"])
    for external_id in set(ITEM_IDS) - {"pan-2"}:
        assert np.array_equal(after[external_id], before[external_id]), external_id
    changed = {pk for pk, stamp in row_versions(space).items() if stamp != stamps[pk]}
    assert changed == {item_pks(tenant)["pan-2"]}
    assert set(vectors_per_item(space).values()) == {1}


def test_changes_outside_the_text_re_encode_nothing(encoded: Encoded) -> None:
    response = encoded.api.patch(
        "/api/v1/items/pan-2", {"available": False, "attributes": {"x": 1}}, format="json"
    )
    assert response.status_code == 200, response.content
    assert encode_tenant(tenant=encoded.tenant)["items_encoded"] == 0


def test_users_with_profile_text_get_a_user_vector(encoded: Encoded) -> None:
    tenant, space = encoded.tenant, encoded.space
    assert encoded.counts["users_encoded"] == len(USERS_WITH_TEXT)
    assert user_vector_owners(space) == USERS_WITH_TEXT
    assert vectorstore.vector_counts(space)["users"] == len(USERS_WITH_TEXT)
    reader = EndUser.objects.for_tenant(tenant).get(external_id="reader")
    text_vector = stored_user_vector(space, reader.pk)
    assert text_vector.shape == (TINY_DIM,)

    response = encoded.api.patch("/api/v1/users/cold", {"profile_text": "tent"}, format="json")
    assert response.status_code == 200, response.content
    response = encoded.api.patch("/api/v1/users/reader", {"profile_text": "bike"}, format="json")
    assert response.status_code == 200, response.content
    counts = encode_tenant(tenant=tenant)
    assert counts["users_encoded"] == 2
    assert counts["items_encoded"] == 0
    assert user_vector_owners(space) == {"reader", "cold"}
    changed = stored_user_vector(space, reader.pk)
    assert not np.allclose(changed, text_vector)
    assert encode_tenant(tenant=tenant)["users_encoded"] == 0


def test_clearing_a_profile_text_drops_the_users_text_vector(encoded: Encoded) -> None:
    response = encoded.api.patch("/api/v1/users/reader", {"profile_text": ""}, format="json")
    assert response.status_code == 200, response.content
    encode_tenant(tenant=encoded.tenant)
    assert user_vector_owners(encoded.space) == set()


def use_tiny_encoder_with(tenant: Tenant, tiny_model_dir: str, **settings: str) -> None:
    """The tiny model (CPU, fp32) with other encoder settings: templates, pooling."""
    encoder = {"model": tiny_model_dir, "device": "cpu", "max_length": 64, **settings}
    config_save(tenant=tenant, data={"encoder": encoder})


def test_new_encoder_settings_build_a_new_space_that_replaces_the_old_one(
    encoded: Encoded, tiny_model_dir: str, django_capture_on_commit_callbacks: Any
) -> None:
    tenant, old = encoded.tenant, encoded.space
    old_vectors = stored_item_vectors(tenant, old)
    use_tiny_encoder_with(tenant, tiny_model_dir, pooling="cls")
    seen: list[tuple[str, int | None]] = []

    def report(progress: float, counts: Mapping[str, Any]) -> None:
        building = EmbeddingSpace.objects.for_tenant(tenant).get(pk=counts["space"])
        serving = active_space(tenant.pk)
        seen.append((building.status, serving.pk if serving else None))

    # Run the switch's after-commit work too: the old space must survive it (kept for rollback).
    with django_capture_on_commit_callbacks(execute=True):
        counts = encode_tenant(tenant=tenant, report=report)
    new = EmbeddingSpace.objects.for_tenant(tenant).get(pk=counts["space"])
    assert new.pk != old.pk
    # While it filled, the new space was building and the old one kept serving.
    assert seen[0] == (EmbeddingSpace.Status.BUILDING, old.pk)
    # Complete: the new one serves; the old one is retired, its vectors and index kept for a
    # rollback (dropped when a further space is activated).
    assert counts["activated_space"] == new.pk
    assert counts["items_encoded"] == len(ITEMS)
    assert counts["users_encoded"] == len(USERS_WITH_TEXT)
    assert seen[-1] == (EmbeddingSpace.Status.ACTIVE, new.pk)
    old.refresh_from_db()
    assert old.status == EmbeddingSpace.Status.RETIRED
    assert new.status == EmbeddingSpace.Status.ACTIVE
    assert new.activated_at is not None
    assert active_space(tenant.pk) == new
    assert new.settings["pooling"] == "cls"
    assert vectorstore.vector_counts(old) == {"items": len(ITEMS), "users": len(USERS_WITH_TEXT)}
    assert vectorstore.index_state(old)["exists"]
    assert vectorstore.index_state(new)["exists"]
    assert vectorstore.vector_counts(new) == {"items": len(ITEMS), "users": len(USERS_WITH_TEXT)}
    new_vectors = stored_item_vectors(tenant, new)
    assert not np.allclose(new_vectors["watch-1"], old_vectors["watch-1"])

    # The results now come from the new space.
    response = encoded.api.get("/api/v1/items/watch-1/similar", {"count": 3})
    assert response.status_code == 200, response.content
    assert response.json()["content_space"] == new.pk
    # Nothing left to do, and no third space.
    assert encode_tenant(tenant=tenant)["items_encoded"] == 0
    assert EmbeddingSpace.objects.for_tenant(tenant).count() == 2


def test_a_tenants_encoding_touches_no_other_tenant(
    encoded: Encoded,
    other_tenant: Tenant,
    other_api: APIClient,
    use_tiny_encoder: Callable[[Tenant], None],
) -> None:
    other_api.post("/api/v1/items/batch", {"items": ITEMS[:3]}, format="json")
    use_tiny_encoder(other_tenant)
    assert encode_tenant(tenant=encoded.tenant)["items_encoded"] == 0
    counts = encode_tenant(tenant=other_tenant)
    assert counts["items_encoded"] == 3
    other_space = active_space(other_tenant.pk)
    assert other_space is not None
    assert other_space.pk != encoded.space.pk
    assert set(vectors_per_item(other_space)) == set(item_pks(other_tenant).values())
    assert vectorstore.vector_counts(encoded.space)["items"] == len(ITEMS)


def test_templates_may_name_the_attributes_of_items_and_users(
    tenant: Tenant, catalog: APIClient, tiny_model_dir: str
) -> None:
    post = catalog.post
    response = post(
        "/api/v1/items/batch",
        {"items": [{**ITEMS[0], "attributes": {"use": "trail running"}}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    response = post(
        "/api/v1/users/batch",
        {"users": [{"id": "reader", "profile_text": "novel", "attributes": {"likes": "tea"}}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    use_tiny_encoder_with(
        tenant,
        tiny_model_dir,
        item_template="{title} {attributes.use}",
        user_template="{profile_text} {attributes.likes}",
    )
    encode_tenant(tenant=tenant)
    space = active_space(tenant.pk)
    assert space is not None
    model = encoder_for(encoder_settings(active_config(tenant)["encoder"]))
    expected_item, expected_user = model.encode(["smart watch trail running", "novel tea"])
    assert np.allclose(stored_item_vectors(tenant, space)[ITEMS[0]["id"]], expected_item, atol=1e-5)
    reader = EndUser.objects.for_tenant(tenant).get(external_id="reader")
    user_vector = stored_user_vector(space, reader.pk)
    assert np.allclose(user_vector, expected_user, atol=1e-5)


def test_an_attribute_change_re_encodes_an_item_only_when_the_template_names_attributes(
    tenant: Tenant, catalog: APIClient, tiny_model_dir: str
) -> None:
    use_tiny_encoder_with(tenant, tiny_model_dir, item_template="{title} {attributes.use}")
    encode_tenant(tenant=tenant)
    space = active_space(tenant.pk)
    assert space is not None
    assert vectorstore.count_items_to_encode(space) == 0
    before = stored_item_vectors(tenant, space)

    response = catalog.patch(
        f"/api/v1/items/{ITEM_IDS[0]}", {"attributes": {"use": "trail running"}}, format="json"
    )
    assert response.status_code == 200, response.content
    assert vectorstore.count_items_to_encode(space) == 1
    assert encode_tenant(tenant=tenant)["items_encoded"] == 1
    after = stored_item_vectors(tenant, space)
    model = encoder_for(encoder_settings(active_config(tenant)["encoder"]))
    expected = model.encode(["smart watch trail running"])[0]
    assert np.allclose(after[ITEM_IDS[0]], expected, atol=1e-5)
    assert not np.allclose(after[ITEM_IDS[0]], before[ITEM_IDS[0]])
    for external_id in ITEM_IDS[1:]:
        if external_id in before:
            assert np.array_equal(after[external_id], before[external_id]), external_id
    assert encode_tenant(tenant=tenant)["items_encoded"] == 0
