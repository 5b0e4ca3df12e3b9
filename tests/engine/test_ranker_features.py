"""The ranker's text and last-item features: a planted case whose discoveries are near each
user's newest item (and not in their usual group) is learned only with the text features;
older rankers keep reading the columns they were trained on."""

import lightgbm
import numpy as np

from recommender.engine.data import Events, InteractionMatrix, ItemTable
from recommender.engine.fusion import fuse
from recommender.engine.fusion_learning import LearnedFusion, learn_fusion, user_cases
from recommender.engine.ranker import (
    MISSING,
    TEXT_FEATURES,
    Group,
    ItemStats,
    ItemVectors,
    Ranker,
    UserContext,
    feature_names,
    features,
    fit_ranker,
)
from recommender.engine.sources import CandidateSource, CooccurrenceSource, PopularSource
from recommender.engine.splits import HoldOut
from tests.support.planted import PlantedDataset, planted_dataset, planted_item_vectors

SOURCES = ("cooccurrence", "popular")


def _last_item_case() -> tuple[PlantedDataset, HoldOut, ItemTable, list, ItemVectors]:
    """Users who keep to one group, then view one item of another group just now: their next
    discoveries are of that other group. Items have no categories, so only the text vectors
    (which follow the groups) say which candidates are like the newest item."""
    dataset = planted_dataset(n_users=240, n_items=300, n_groups=5, events_per_user=12, seed=0)
    rng = np.random.default_rng(0)
    items = ItemTable(
        ids=dataset.items.ids,
        created=dataset.items.created,
        categories=tuple(() for _ in dataset.items.ids),
        available=dataset.items.available,
    )
    by_group = {g: dataset.items.ids[dataset.item_groups == g] for g in range(5)}
    last_items, test = [], {}
    for user, group in zip(dataset.user_ids, dataset.user_groups, strict=True):
        other = int(rng.choice([g for g in range(5) if g != group]))
        picked = rng.choice(by_group[other], size=4, replace=False)
        last_items.append(int(picked[0]))
        test[int(user)] = frozenset(int(i) for i in picked[1:])
    newest = Events(
        dataset.user_ids.astype(np.int64),
        np.array(last_items, dtype=np.int64),
        np.ones(len(last_items), dtype=np.float32),
        np.full(len(last_items), dataset.now - 60.0),
    )
    past = Events(
        np.concatenate([dataset.events.user_ids, newest.user_ids]),
        np.concatenate([dataset.events.item_ids, newest.item_ids]),
        np.concatenate([dataset.events.weights, newest.weights]),
        np.concatenate([dataset.events.timestamps, newest.timestamps]),
    )
    split = HoldOut(train=past, test=test, cutoff=dataset.now)
    data = InteractionMatrix.build(past, items, half_life_days=30.0, now=dataset.now)
    sources: dict[str, CandidateSource] = {
        "cooccurrence": CooccurrenceSource(top_n=40),
        "popular": PopularSource(),
    }
    for source in sources.values():
        source.fit(data, events=past)
    cases = user_cases(sources, data, split, pool=50, max_recent=50, max_users=1000)
    vectors = ItemVectors(dataset.items.ids, planted_item_vectors(dataset, dim=16, noise=0.3))
    return dataset, split, items, cases, vectors


def _learn(vectors: ItemVectors | None) -> LearnedFusion:
    dataset, split, items, cases, _ = _last_item_case()
    return learn_fusion(
        cases,
        sources=list(SOURCES),
        weights={"cooccurrence": 1.0, "popular": 0.1},
        method="weighted",
        rrf_k=60,
        stats=ItemStats.build(split.train, items, dataset.now),
        now=dataset.now,
        k=10,
        ranker_mode="auto",
        budget_s=0.0,
        max_trials=1,
        vectors=vectors,
    )


def test_the_ranker_learns_that_the_discoveries_are_like_the_newest_item() -> None:
    *_, vectors = _last_item_case()
    with_text = _learn(vectors).ranker_report
    without = _learn(None).ranker_report
    assert with_text["used"] is True, with_text
    # Weighted fusion follows the user's usual group; the text features find the newest one's.
    # (About 0.10 against 0.01; a third of the discoveries are among the candidates at all.)
    assert with_text["ranker_ndcg"] > with_text["weighted_ndcg"] + 0.06, with_text
    # Without the vectors the same ranker has only the usual group to go by.
    assert with_text["ranker_ndcg"] > 2 * without.get("ranker_ndcg", 0.0), (with_text, without)


def test_text_features_compare_with_the_newest_items_and_are_missing_without_vectors() -> None:
    dataset, split, items, cases, vectors = _last_item_case()
    case = cases[0]
    stats = ItemStats.build(split.train, items, dataset.now)
    fused = fuse(case.candidates, {"cooccurrence": 1.0, "popular": 0.1})
    names = feature_names(SOURCES)
    x = features(case.candidates, fused, SOURCES, stats, case.context, dataset.now, vectors)
    last = x[:, names.index("text:last")]
    best = x[:, names.index("text:max_recent")]
    assert (best >= last - 1e-6).all()
    unit, _ = vectors.rows([f.item for f in fused])
    newest, _ = vectors.rows([case.context.recent_items[0]])
    assert np.allclose(last, unit @ newest[0], atol=1e-6)
    bare = features(case.candidates, fused, SOURCES, stats, case.context, dataset.now, None)
    for name in TEXT_FEATURES:
        assert (bare[:, names.index(name)] == MISSING).all()
    alone = UserContext(recent_items=[], newest_age_days=0.0)
    empty = features(case.candidates, fused, SOURCES, stats, alone, dataset.now, vectors)
    assert (empty[:, names.index("text:mean_recent")] == MISSING).all()


def test_a_ranker_trained_on_fewer_features_reads_its_own_columns() -> None:
    rng = np.random.default_rng(0)
    names = feature_names(SOURCES)
    old_names = [n for n in names if n not in TEXT_FEATURES]
    groups = [
        Group(list(range(20)), rng.random((20, len(old_names))).astype(np.float32), labels)
        for labels in (rng.integers(0, 2, 20).astype(np.float32) for _ in range(30))
    ]
    # A model as an earlier release stored it: trained without the text columns.
    dataset = lightgbm.Dataset(
        np.concatenate([g.x for g in groups]),
        label=np.concatenate([g.labels for g in groups]),
        group=[20] * len(groups),
        feature_name=[n.replace(":", "__") for n in old_names],
    )
    booster = lightgbm.train(
        {"objective": "lambdarank", "verbose": -1, "min_data_in_leaf": 5}, dataset, 5
    )
    old = Ranker(booster.model_to_string(), SOURCES, {})
    assert not old.uses_text
    full = np.zeros((20, len(names)), dtype=np.float32)
    keep = [names.index(n) for n in old_names]
    full[:, keep] = groups[0].x
    full[:, [names.index(n) for n in TEXT_FEATURES]] = 0.5
    assert np.allclose(old.scores(full), booster.predict(groups[0].x))
    assert fit_ranker([Group(g.items, full, g.labels) for g in groups], SOURCES).features == names
