"""The item and end-user pages of the console: events, vector state, similar items and
recommendations with titles, served by the same services as the API and never logged."""

import numpy as np
import pytest
from django.contrib.auth.models import Permission, User
from django.db.models import Count
from django.test import Client
from django.urls import reverse

from recommender import vectorstore
from recommender.models import EmbeddingSpace, EndUser, Interaction, Item, Job, ServedList
from tests.serving.conftest import VECTOR_DIM, Planted

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(planted: Planted) -> Client:
    user = User.objects.create_user("operator", password="pw-operator-1", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["tenants", "recommender"])
    )
    planted.tenant.operators.add(user)
    client = Client()
    client.force_login(user)
    return client


def _titles(planted: Planted) -> dict[str, str]:
    rows = Item.objects.for_tenant(planted.tenant).values_list("external_id", "title")
    return dict(rows)


def _served_lists(planted: Planted) -> int:
    return ServedList.objects.for_tenant(planted.tenant).count()


def test_the_item_page_shows_events_vectors_and_similar_items_with_titles(
    planted: Planted, operator: Client
) -> None:
    busiest = (
        Interaction.objects.for_tenant(planted.tenant)
        .values("item")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    assert busiest is not None
    item = Item.objects.for_tenant(planted.tenant).get(pk=busiest["item"])
    served_before = _served_lists(planted)
    page = operator.get(reverse("admin:recommender_item_change", args=[item.pk]))
    assert page.status_code == 200
    panels = page.context["panels"]

    events = Interaction.objects.for_tenant(planted.tenant).filter(item=item)
    assert len(panels["events"]) == min(events.count(), 20)
    newest = events.order_by("-timestamp").select_related("user").first()
    assert newest is not None
    assert panels["events"][0]["user"] == newest.user.external_id
    assert panels["events"][0]["timestamp"] == newest.timestamp

    similar = panels["similar"]
    assert similar["recommendation_id"] is None
    assert len(similar["items"]) == 10
    titles = _titles(planted)
    assert all(entry["title"] == titles[entry["id"]] for entry in similar["items"])
    assert all(entry["explanation"]["text"] for entry in similar["items"])
    assert item.external_id not in {entry["id"] for entry in similar["items"]}
    html = page.content.decode()
    assert titles[similar["items"][0]["id"]] in html
    assert 'id="item-vectors"' in html
    assert _served_lists(planted) == served_before  # the console's lists are not logged


def test_the_vector_panel_tells_missing_stale_and_current_vectors(
    planted: Planted, operator: Client
) -> None:
    space = EmbeddingSpace.objects.for_tenant(planted.tenant).get(
        purpose="content", status="active"
    )
    fresh = Item.objects.for_tenant(planted.tenant).create(
        tenant=planted.tenant, external_id="new-1", title="Brand new", content_hash="h-new"
    )

    def vectors() -> dict[str, object]:
        page = operator.get(reverse("admin:recommender_item_change", args=[fresh.pk]))
        assert page.status_code == 200
        result: dict[str, object] = page.context["panels"]["vectors"]
        return result

    def state() -> str:
        spaces = vectors()["spaces"]
        assert isinstance(spaces, list)
        return next(row["state"] for row in spaces if row["space"] == space)

    assert state() == "missing"
    assert vectors()["active_covers"] is False
    assert vectors()["encode_pending"] is True
    assert vectors()["encode_job"] is None

    vector = np.ones((1, VECTOR_DIM), dtype=np.float32)
    vectorstore.upsert_item_vectors(space, [fresh.pk], ["older-text"], vector)
    assert state() == "stale"
    assert vectors()["encode_pending"] is True
    job = Job.objects.for_tenant(planted.tenant).create(tenant=planted.tenant, kind="encode")
    assert vectors()["encode_job"] == job

    vectorstore.upsert_item_vectors(space, [fresh.pk], ["h-new"], vector)
    assert state() == "current"
    assert vectors()["active_covers"] is True
    assert vectors()["encode_pending"] is False


def test_an_item_not_encoded_yet_says_why_it_has_no_similar_items(
    planted: Planted, operator: Client
) -> None:
    fresh = Item.objects.for_tenant(planted.tenant).create(
        tenant=planted.tenant, external_id="new-2", title="Not encoded"
    )
    page = operator.get(reverse("admin:recommender_item_change", args=[fresh.pk]))
    assert page.status_code == 200
    assert "not encoded yet" in page.context["panels"]["similar"]["error"]
    assert "not encoded yet" in page.content.decode()


def test_the_user_page_shows_events_and_recommendations_with_titles(
    planted: Planted, operator: Client
) -> None:
    external_id = next(iter(planted.user_group))
    user = EndUser.objects.for_tenant(planted.tenant).get(external_id=external_id)
    served_before = _served_lists(planted)
    page = operator.get(reverse("admin:recommender_enduser_change", args=[user.pk]))
    assert page.status_code == 200
    panels = page.context["panels"]
    titles = _titles(planted)

    assert panels["events"]
    assert all(event["title"] == titles[event["id"]] for event in panels["events"])
    listed = panels["recommendations"]
    assert listed["recommendation_id"] is None
    assert len(listed["items"]) == 10
    assert all(entry["title"] == titles[entry["id"]] for entry in listed["items"])
    assert all(entry["explanation"]["text"] for entry in listed["items"])
    assert all(entry["categories"] for entry in listed["items"])
    html = page.content.decode()
    assert 'id="user-recommendations"' in html
    assert listed["items"][0]["explanation"]["text"] in html
    assert _served_lists(planted) == served_before
