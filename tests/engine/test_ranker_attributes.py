"""The ranker's attribute features: the keys a catalog's items carry numbers or labels for are
picked, a number read as the candidate's value and its gap to the user's recent items, a label
as its share among them; stored rankers name the attributes they read, and planted cases that
need them are learned."""

import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from recommender.engine import item_attributes
from recommender.engine.data import Events, ItemTable
from recommender.engine.fusion import fuse
from recommender.engine.fusion_learning import UserCase, learn_fusion
from recommender.engine.ranker import (
    Group,
    ItemStats,
    UserContext,
    feature_names,
    features,
    fit_ranker,
)

NOW = 1_700_000_000.0
SOURCES = ("popular",)
NO_EVENTS = Events(
    user_ids=np.zeros(0, np.int64),
    item_ids=np.zeros(0, np.int64),
    weights=np.zeros(0, np.float32),
    timestamps=np.zeros(0),
)


def _catalog(attributes: list[dict[str, Any]]) -> ItemTable:
    n = len(attributes)
    return ItemTable(
        ids=np.arange(1, n + 1, dtype=np.int64),
        created=np.full(n, NOW - 86_400.0 * 30),
        categories=tuple(() for _ in range(n)),
        available=np.ones(n, dtype=bool),
        attributes=tuple(attributes),
    )


def _columns(x: npt.NDArray[np.float32], names: list[str]) -> dict[str, npt.NDArray[np.float32]]:
    return {name: x[:, names.index(name)] for name in names}


def test_numeric_attributes_most_items_carry_are_picked_and_read_with_their_gap() -> None:
    catalog: list[dict[str, Any]] = [
        {"price": 10, "year": 2001, "in_stock": True, "brand": "Acme", "bad key": 1.0},
        {"price": 30.5, "year": 1999, "in_stock": False, "bad key": 2.0},
        {"price": 20, "colour": 3, "bad key": 3.0},
        {"price": "cheap", "year": 2020, "bad key": 4.0},
        {"price": 1e300, "year": float("nan")},
    ]
    # Booleans and text are not numbers; "colour" is on too few items; a key that cannot be a
    # feature name is left out; the most covered come first.
    assert item_attributes.numeric_keys(catalog) == ("price", "year")
    # "brand" is on one item of five; "price" is text on one, too few to be a label.
    assert item_attributes.label_keys(catalog) == ()
    values = item_attributes.attribute_matrix(catalog, ("number:price", "number:year"))
    # A number too large for a float32 feature, or not finite, is no value.
    np.testing.assert_array_equal(values[:, 0], [10.0, 30.5, 20.0, np.nan, np.nan])
    np.testing.assert_array_equal(values[:, 1], [2001.0, 1999.0, np.nan, 2020.0, np.nan])
    stats = ItemStats.build(NO_EVENTS, _catalog(catalog), NOW)
    assert stats.attribute_keys == ("number:price", "number:year")
    proposed = {"popular": {2: 1.0, 3: 0.5, 4: 0.2}}
    fused = fuse(proposed, {"popular": 1.0})
    x = features(proposed, fused, SOURCES, stats, UserContext([1, 3], 1.0), NOW)
    cols = _columns(x, feature_names(SOURCES, stats.attribute_keys))
    # The user's recent prices are 10 and 20 (mean 15); item 4 has no number: missing.
    np.testing.assert_allclose(cols["item:attr:price"], [30.5, 20.0, np.nan])
    np.testing.assert_allclose(cols["user:attr_gap:price"], [15.5, 5.0, np.nan])
    # A catalog without attributes has no attribute columns.
    bare = ItemStats.build(NO_EVENTS, dataclasses.replace(_catalog(catalog), attributes=()), NOW)
    assert bare.attribute_keys == ()
    assert features(proposed, fused, SOURCES, bare, UserContext([1], 1.0), NOW).shape == (
        3,
        len(feature_names(SOURCES)),
    )
    # Attributes for some items only are a caller's error, not silently misaligned values.
    partial = dataclasses.replace(_catalog(catalog), attributes=tuple(catalog[:2]))
    with pytest.raises(ValueError, match="2 attribute mappings for 5 items"):
        ItemStats.build(NO_EVENTS, partial, NOW)


def test_a_stored_ranker_names_the_attribute_keys_it_reads() -> None:
    rng = np.random.default_rng(0)
    names = feature_names(SOURCES, ("number:price", "label:brand"))
    groups = []
    for _ in range(40):
        x = rng.random((12, len(names))).astype(np.float32)
        labels = (x[:, names.index("item:attr:price")] > 0.7).astype(np.float32)
        groups.append(Group(list(range(12)), x, labels))
    ranker = fit_ranker(groups, SOURCES, attribute_keys=("number:price", "label:brand"))
    assert ranker.attribute_keys == ("number:price", "label:brand")
    assert "user:attr_match:brand" in ranker.features
    assert ranker.features == names
    assert next(iter(ranker.top_features())) == "item:attr:price"


def _price_band_cases(n_users: int, seed: int) -> tuple[list[UserCase], ItemTable]:
    """Each user buys within a price band of their own; what they discover next is in it too.
    Popularity proposes the discoveries among random items with scores that say nothing, and
    items have neither categories nor vectors: only the price, read against the user's own
    prices, tells the discoveries apart."""
    rng = np.random.default_rng(seed)
    prices = rng.uniform(1, 100, size=400)
    items = _catalog([{"price": float(p)} for p in prices])
    cases = []
    for user in range(n_users):
        band = [int(i) for i in items.ids[np.abs(prices - rng.uniform(10, 90)) < 4]]
        if len(band) < 10:
            continue
        chosen = rng.choice(band, size=9, replace=False).tolist()
        history, relevant = chosen[:6], chosen[6:]
        others = rng.choice(
            [i for i in items.ids.tolist() if i not in chosen], size=37, replace=False
        ).tolist()
        proposed = {"popular": {int(i): float(rng.random()) for i in [*relevant, *others]}}
        cases.append(UserCase(user, proposed, frozenset(relevant), UserContext(history, 1.0)))
    return cases, items


def test_the_ranker_learns_a_users_price_band_from_the_attribute_gap() -> None:
    cases, items = _price_band_cases(n_users=260, seed=0)
    assert len(cases) >= 200

    def learn(catalog: ItemTable) -> dict[str, Any]:
        return learn_fusion(
            cases,
            sources=list(SOURCES),
            weights={"popular": 1.0},
            method="weighted",
            rrf_k=60,
            stats=ItemStats.build(NO_EVENTS, catalog, NOW),
            now=NOW,
            k=10,
            ranker_mode="auto",
            budget_s=0.0,
            max_trials=0,
        ).ranker_report

    report = learn(items)
    assert report["used"] is True, report
    assert report["ranker_ndcg"] > report["weighted_ndcg"] + 0.3, report
    assert next(iter(report["top_features"])) == "user:attr_gap:price", report["top_features"]
    # The same catalog without its attributes: nothing to learn the band from.
    bare = learn(dataclasses.replace(items, attributes=()))
    assert report["ranker_ndcg"] > bare.get("ranker_ndcg", 0.0) + 0.3, (report, bare)


def test_labels_most_items_carry_are_read_as_their_share_among_the_recent_items() -> None:
    catalog: list[dict[str, Any]] = [
        {"brand": "Acme", "colour": "red", "sku": "a1", "mood": "x"},
        {"brand": "Zeta", "colour": "red", "sku": "a2"},
        {"brand": "Acme", "colour": "red", "sku": "a3"},
        {"brand": "Acme", "sku": "a4"},
    ]
    # One value only ("colour") says nothing, nor does an identifier ("sku", one per item);
    # "mood" is on too few items.
    assert item_attributes.label_keys(catalog) == ("brand",)
    stats = ItemStats.build(NO_EVENTS, _catalog(catalog), NOW)
    assert stats.attribute_keys == ("label:brand",)
    proposed = {"popular": {2: 1.0, 3: 0.5, 5: 0.2}}
    fused = fuse(proposed, {"popular": 1.0})
    # Recent: items 1 (Acme), 2 (Zeta), 4 (Acme).
    x = features(proposed, fused, SOURCES, stats, UserContext([1, 2, 4], 1.0), NOW)
    cols = _columns(x, feature_names(SOURCES, stats.attribute_keys))
    # Item 2 is Zeta (1 of 3 recent), item 3 Acme (2 of 3), item 5 unknown: missing.
    np.testing.assert_allclose(cols["user:attr_match:brand"], [1 / 3, 2 / 3, np.nan])


def test_the_ranker_learns_brand_loyalty_from_the_label_share() -> None:
    """Each user keeps to one of 20 brands; popularity proposes their discoveries among random
    items with scores that say nothing; no categories, no vectors, no numbers."""
    rng = np.random.default_rng(0)
    brands = rng.integers(0, 20, size=400)
    items = _catalog([{"brand": f"b{b}"} for b in brands])
    cases = []
    for user in range(240):
        own = [int(i) for i in items.ids[brands == rng.integers(0, 20)]]
        chosen = rng.choice(own, size=9, replace=False).tolist()
        history, relevant = chosen[:6], chosen[6:]
        others = rng.choice(
            [i for i in items.ids.tolist() if i not in chosen], size=37, replace=False
        ).tolist()
        proposed = {"popular": {int(i): float(rng.random()) for i in [*relevant, *others]}}
        cases.append(UserCase(user, proposed, frozenset(relevant), UserContext(history, 1.0)))

    def learn(catalog: ItemTable) -> dict[str, Any]:
        return learn_fusion(
            cases,
            sources=list(SOURCES),
            weights={"popular": 1.0},
            method="weighted",
            rrf_k=60,
            stats=ItemStats.build(NO_EVENTS, catalog, NOW),
            now=NOW,
            k=10,
            ranker_mode="auto",
            budget_s=0.0,
            max_trials=0,
        ).ranker_report

    report = learn(items)
    assert report["used"] is True, report
    assert report["ranker_ndcg"] > report["weighted_ndcg"] + 0.3, report
    assert next(iter(report["top_features"])) == "user:attr_match:brand", report["top_features"]
    bare = learn(dataclasses.replace(items, attributes=()))
    assert report["ranker_ndcg"] > bare.get("ranker_ndcg", 0.0) + 0.3, (report, bare)
