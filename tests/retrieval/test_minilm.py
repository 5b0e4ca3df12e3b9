"""The packaged all-MiniLM-L6-v2 (the default configuration) on a catalog where the right answer
is obvious to a person: rankings, not scores, are asserted.

The model loads once for the module; everything is checked inside one test, after one encode.
"""

from typing import Any

import pytest
from rest_framework.test import APIClient

from recommender.engine.encoders import PACKAGED_MINILM
from recommender.services.config import active_config
from recommender.services.encoding.encode import encode_tenant
from recommender.services.encoding.spaces import active_space
from tenants.models import Tenant

pytestmark = pytest.mark.slow

CATALOG: dict[str, list[tuple[str, str]]] = {
    "watches": [
        ("Smartwatch Pro 5", "A smart watch with heart rate monitor, GPS and sleep tracking."),
        ("FitBand Charge", "Fitness tracker wristband that counts steps and monitors your pulse."),
        ("Sport Watch GPS", "Multisport GPS watch with training load and smartphone alerts."),
        ("Kids Smart Watch", "Smartwatch for children with calling and location tracking."),
        ("Hybrid Smartwatch", "Analog watch face with smart notifications and activity tracking."),
        ("Activity Tracker Mini", "Slim fitness band for steps, calories and heart rate."),
    ],
    "kitchen": [
        ("Cast Iron Skillet", "Pre-seasoned 12 inch cast iron frying pan for searing and baking."),
        ("Chef's Knife", "8 inch stainless steel kitchen knife for chopping vegetables."),
        ("Nonstick Saucepan", "Two quart saucepan with lid for sauces and soups."),
        ("Electric Kettle", "Stainless steel kettle that boils water for tea in minutes."),
        ("Bamboo Cutting Board", "Large wooden chopping board for the kitchen."),
        ("Mixing Bowl Set", "Set of five stainless steel bowls for baking and food prep."),
    ],
    "running": [
        ("Trail Running Shoe", "Grippy running shoes for muddy mountain trails."),
        ("Road Racer Sneakers", "Lightweight running sneakers for marathon racing on asphalt."),
        ("Cushioned Running Shoe", "Soft, cushioned jogging shoes for long daily runs."),
        ("Waterproof Trail Runners", "Waterproof trail running shoes that keep feet dry."),
        ("Track Spikes", "Spiked sprinting shoes for track and field running."),
        ("Minimalist Runner", "Barefoot-feel running shoe with a zero-drop sole."),
    ],
    "books": [
        ("The Great Gatsby", "A classic American novel by F. Scott Fitzgerald."),
        ("Pride and Prejudice", "Jane Austen's romantic novel of manners."),
        ("A Brief History of Time", "Stephen Hawking's book about cosmology and black holes."),
    ],
}


def category_of(item_id: str) -> str:
    return item_id.rsplit("-", 1)[0]


def load(api: APIClient) -> None:
    rows = [
        {
            "id": f"{category}-{n}",
            "title": title,
            "description": description,
            "categories": [category],
        }
        for category, entries in CATALOG.items()
        for n, (title, description) in enumerate(entries)
    ]
    response = api.post("/api/v1/items/batch", {"items": rows}, format="json")
    assert response.status_code == 200, response.content


def ranking(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [entry["id"] for entry in response.json()["items"]]


def test_minilm_ranks_what_a_person_would_expect(tenant: Tenant, api: APIClient) -> None:
    assert active_config(tenant)["encoder"]["model"] == PACKAGED_MINILM
    load(api)
    counts = encode_tenant(tenant=tenant)
    total = sum(len(entries) for entries in CATALOG.values())
    assert counts["items_encoded"] == total
    space = active_space(tenant.pk)
    assert space is not None
    assert space.dimension == 384

    # "smart watch": every watch or tracker above every piece of kitchenware.
    ranks = ranking(
        api.post("/api/v1/search", {"query": "smart watch", "count": total}, format="json")
    )
    assert len(ranks) == total
    watches = [i for i, item_id in enumerate(ranks) if category_of(item_id) == "watches"]
    kitchen = [i for i, item_id in enumerate(ranks) if category_of(item_id) == "kitchen"]
    assert max(watches) < min(kitchen), ranks
    # And the six watches are the top six.
    assert {category_of(item_id) for item_id in ranks[:6]} == {"watches"}, ranks

    # Similar to a running shoe: running shoes.
    for shoe in ("running-0", "running-2"):
        top = ranking(api.get(f"/api/v1/items/{shoe}/similar", {"count": 5}))
        assert shoe not in top
        assert {category_of(item_id) for item_id in top} == {"running"}, (shoe, top)

    # Similar to a novel: the other books first.
    top = ranking(api.get("/api/v1/items/books-0/similar", {"count": 2}))
    assert {category_of(item_id) for item_id in top} == {"books"}, top

    # Kitchen searches find kitchen things.
    top = ranking(
        api.post(
            "/api/v1/search", {"query": "pots and pans for cooking", "count": 3}, format="json"
        )
    )
    assert {category_of(item_id) for item_id in top} == {"kitchen"}, top

    # A user who bought kitchenware is recommended kitchenware (never what they bought).
    events = [
        {"user": "cook", "item": item_id, "type": "purchase", "event_id": f"cook-{item_id}"}
        for item_id in ("kitchen-0", "kitchen-2")
    ]
    response = api.post("/api/v1/interactions/batch", {"interactions": events}, format="json")
    assert response.status_code == 200, response.content
    top = ranking(api.get("/api/v1/users/cook/recommendations", {"count": 3}))
    assert not {"kitchen-0", "kitchen-2"} & set(top)
    assert {category_of(item_id) for item_id in top} == {"kitchen"}, top

    # A user known only by a profile text about running.
    response = api.post(
        "/api/v1/users/batch",
        {"users": [{"id": "runner", "profile_text": "I jog every morning and race marathons."}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert encode_tenant(tenant=tenant)["users_encoded"] == 1
    response = api.get("/api/v1/users/runner/recommendations", {"count": 3})
    assert response.json()["content_space"] is not None
    assert {category_of(item_id) for item_id in ranking(response)} == {"running"}
