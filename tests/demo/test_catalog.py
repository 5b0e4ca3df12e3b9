"""The demo catalogue is large, consistent, deterministic and carries learnable structure."""

import datetime
import json
from collections import Counter

import pytest

from recommender.demo.catalog import (
    _DEPARTMENT_BY_INTEREST,
    generate_interactions,
    generate_items,
    generate_users,
)

Records = list[dict[str, object]]


@pytest.fixture(scope="module")
def dataset() -> tuple[Records, Records, Records]:
    items = generate_items()
    users = generate_users()
    return items, users, generate_interactions(items, users)


def test_ids_are_unique(dataset: tuple[Records, Records, Records]) -> None:
    items, users, events = dataset
    assert len({item["id"] for item in items}) == len(items)
    assert len({user["id"] for user in users}) == len(users)
    assert len({event["event_id"] for event in events}) == len(events)


def test_default_sizes(dataset: tuple[Records, Records, Records]) -> None:
    items, users, events = dataset
    assert len(items) >= 2000
    assert len(users) == 400
    assert 12_000 <= len(events) <= 20_000


def test_titles_are_nearly_all_distinct(dataset: tuple[Records, Records, Records]) -> None:
    items, _, _ = dataset
    assert len({item["title"] for item in items}) >= 0.95 * len(items)
    assert len({item["categories"][0] for item in items}) >= 12  # type: ignore[index]


def test_interactions_reference_existing_items_and_users(
    dataset: tuple[Records, Records, Records],
) -> None:
    items, users, events = dataset
    item_ids = {item["id"] for item in items}
    user_ids = {user["id"] for user in users}
    now = datetime.datetime(2026, 11, 28, 12, tzinfo=datetime.UTC)
    for event in events:
        assert event["item"] in item_ids
        assert event["user"] in user_ids
        moment = datetime.datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00"))
        assert now - datetime.timedelta(days=90) < moment < now


def test_event_types_follow_a_funnel(dataset: tuple[Records, Records, Records]) -> None:
    _, _, events = dataset
    counts = Counter(event["type"] for event in events)
    assert counts["view"] > counts["click"] > counts["cart"] > counts["purchase"] > 0
    ratings = [event["value"] for event in events if event["type"] == "rating"]
    assert ratings
    assert all(value in (1.0, 2.0, 3.0, 4.0, 5.0) for value in ratings)


def test_generation_is_deterministic_and_json_serialisable() -> None:
    first = (generate_items(300), generate_users(50))
    second = (generate_items(300), generate_users(50))
    assert first == second
    events = generate_interactions(*first, per_user_mean=20)
    assert events == generate_interactions(*second, per_user_mean=20)
    json.dumps([*first[0], *first[1], *events])


def test_events_concentrate_in_favourite_departments(
    dataset: tuple[Records, Records, Records],
) -> None:
    items, users, events = dataset
    department = {item["id"]: item["categories"][0] for item in items}  # type: ignore[index]
    favourites = {
        user["id"]: {
            _DEPARTMENT_BY_INTEREST[interest]
            for interest in user["attributes"]["interests"]  # type: ignore[index]
        }
        for user in users
    }
    in_favourites = sum(department[e["item"]] in favourites[e["user"]] for e in events)
    assert in_favourites / len(events) > 0.7


def test_some_items_are_much_more_popular_than_others(
    dataset: tuple[Records, Records, Records],
) -> None:
    _, _, events = dataset
    views = sorted(Counter(e["item"] for e in events if e["type"] == "view").values())
    top_share = sum(views[-len(views) // 10 :]) / sum(views)
    assert top_share > 0.3
