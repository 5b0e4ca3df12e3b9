"""A user whose latest session switches taste gets recommendations that follow it."""

from collections import Counter

import pytest
from rest_framework.test import APIClient

from tests.serving.conftest import Planted, configure

pytestmark = pytest.mark.django_db


def _share_of_group(api: APIClient, planted: Planted, user: str, group: int) -> float:
    response = api.get(f"/api/v1/users/{user}/recommendations?count=10")
    assert response.status_code == 200, response.content
    groups = Counter(planted.group_of(entry["id"]) for entry in response.json()["items"])
    return groups[group] / 10


def test_recommendations_follow_the_latest_session(planted: Planted, api: APIClient) -> None:
    user, old_group = next(iter(planted.user_group.items()))
    new_group = (old_group + 1) % 6
    latest = [key for key, g in planted.item_group.items() if g == new_group][:8]
    # One session now (the batch's default timestamp), after weeks of the old taste.
    response = api.post(
        "/api/v1/interactions/batch",
        {"interactions": [{"user": user, "item": item, "type": "view"} for item in latest]},
        format="json",
    )
    assert response.status_code == 200, response.content
    with_recency = _share_of_group(api, planted, user, new_group)
    configure(
        planted.tenant,
        sources={"als": {"factors": 16, "iterations": 8}},
        training={"eval_users": 300, "neighbours": 30},
        profile={"recent_half_life_events": 0, "session_gap_minutes": 0},
    )
    without = _share_of_group(api, planted, user, new_group)
    assert with_recency >= 0.6
    assert with_recency > without
