"""The learned fusion: the ranker finds what weighted fusion cannot express, tuning stays on
the validation split carved before the evaluation cut-off, and small data fall back, saying so."""

import numpy as np
import pytest

from recommender.engine.data import Events, InteractionMatrix
from recommender.engine.fusion_learning import LearnedFusion, UserCase, learn_fusion, user_cases
from recommender.engine.ranker import ItemStats, feature_names
from recommender.engine.sources import (
    CandidateSource,
    ContentSource,
    CooccurrenceSource,
    PopularSource,
)
from recommender.engine.splits import (
    HoldOut,
    per_user_validation_split,
    temporal_split,
    validation_split,
)
from tests.support.planted import PlantedDataset, planted_dataset, planted_item_vectors

SOURCES = ("content", "cooccurrence", "popular")
WEIGHTS = {"content": 0.5, "cooccurrence": 1.0, "popular": 0.1}


def _fresh_items_case(
    n_users: int = 240, seed: int = 0
) -> tuple[PlantedDataset, HoldOut, InteractionMatrix, dict[str, CandidateSource]]:
    """Planted groups where a fifth of the items have no past events and every user's next
    discoveries are fresh items of their own group: the right answer needs the no-events flag,
    since weighted fusion ranks warm items that several sources propose first."""
    dataset = planted_dataset(
        n_users=n_users, n_items=300, n_groups=5, events_per_user=12, seed=seed
    )
    rng = np.random.default_rng(seed)
    fresh = np.zeros(len(dataset.items), dtype=bool)
    fresh[rng.choice(len(dataset.items), size=60, replace=False)] = True
    fresh_ids = set(dataset.items.ids[fresh].tolist())
    past = dataset.events.select(~np.isin(dataset.events.item_ids, list(fresh_ids)))
    by_group: dict[int, list[int]] = {}
    for item, group, is_fresh in zip(dataset.items.ids, dataset.item_groups, fresh, strict=True):
        if is_fresh:
            by_group.setdefault(int(group), []).append(int(item))
    test = {
        int(u): frozenset(rng.choice(by_group[int(g)], size=3, replace=False).tolist())
        for u, g in zip(dataset.user_ids, dataset.user_groups, strict=True)
    }
    split = HoldOut(train=past, test=test, cutoff=dataset.now)
    data = InteractionMatrix.build(past, dataset.items, half_life_days=30.0, now=dataset.now)
    sources: dict[str, CandidateSource] = {
        "content": ContentSource(item_vectors=planted_item_vectors(dataset, dim=16, noise=0.3)),
        "cooccurrence": CooccurrenceSource(top_n=30),
        "popular": PopularSource(),
    }
    for source in sources.values():
        source.fit(data, events=past)
    return dataset, split, data, sources


def _learn(
    cases: list[UserCase],
    dataset: PlantedDataset,
    past: Events,
    *,
    budget_s: float = 0.0,
    ranker_mode: str = "auto",
    max_trials: int = 8,
) -> LearnedFusion:
    return learn_fusion(
        cases,
        sources=list(SOURCES),
        weights=WEIGHTS,
        method="weighted",
        rrf_k=60,
        stats=ItemStats.build(past, dataset.items, dataset.now),
        now=dataset.now,
        k=10,
        ranker_mode=ranker_mode,
        budget_s=budget_s,
        max_trials=max_trials,
    )


def test_the_ranker_beats_weighted_fusion_where_the_answer_needs_the_no_events_flag() -> None:
    dataset, split, data, sources = _fresh_items_case()
    cases = user_cases(sources, data, split, pool=50, max_recent=50, max_users=1000)
    assert len(cases) == 240
    learned = _learn(cases, dataset, split.train)
    report = learned.ranker_report
    assert report["used"] is True, report
    assert learned.ranker is not None
    # Weighted fusion puts warm items proposed by several sources first; the ranker learns that
    # the discoveries are items without events.
    assert report["ranker_ndcg"] > 2 * report["weighted_ndcg"] + 0.05, report
    assert report["reason"].startswith("ranker NDCG@10")
    assert learned.ranker.sources == list(SOURCES)
    assert "item:no_events" in feature_names(SOURCES)


def test_tuning_runs_within_its_trials_and_never_ends_below_the_configured_weights() -> None:
    dataset, split, data, sources = _fresh_items_case(n_users=120)
    cases = user_cases(sources, data, split, pool=50, max_recent=50, max_users=1000)
    learned = _learn(cases, dataset, split.train, budget_s=20.0, ranker_mode="off", max_trials=6)
    tuning = learned.tuning_report
    assert tuning["trials"] == 6
    assert [t["stage"] for t in learned.trials] == ["weights"] * 6
    # The configured weights are the first trial, so the best is at least as good as they are.
    assert learned.trials[0]["params"] == {"content": 0.5, "cooccurrence": 1.0, "popular": 0.1}
    assert tuning["weights"]["best_ndcg"] >= tuning["configured_ndcg"]
    assert tuning["spent_s"] < 20.0
    assert learned.ranker is None
    assert learned.ranker_report["reason"] == "the ranker is off (fusion.ranker = off)"


def test_too_few_users_fall_back_to_weighted_fusion_and_say_so() -> None:
    dataset, split, data, sources = _fresh_items_case()
    cases = user_cases(sources, data, split, pool=50, max_recent=50, max_users=12)
    learned = _learn(cases, dataset, split.train, budget_s=5.0)
    assert learned.ranker is None
    assert learned.weights is None
    assert learned.ranker_report["used"] is False
    assert learned.ranker_report["reason"] == "too few users for a ranker: 12 < 50"
    assert learned.tuning_report["skipped"] == "too few users for tuning: 12 < 50"
    assert learned.trials == []


@pytest.mark.parametrize("per_user", [False, True])
@pytest.mark.parametrize("fraction", [0.1, 0.25])
def test_the_validation_split_never_reads_the_evaluation_slice(
    fraction: float, per_user: bool
) -> None:
    dataset = planted_dataset(n_users=200, n_items=150, n_groups=4, events_per_user=15, seed=3)
    events = dataset.events
    holdout = temporal_split(events, test_fraction=fraction)
    carve = per_user_validation_split if per_user else validation_split
    split = carve(holdout, test_fraction=fraction)
    evaluation = events.select(events.timestamps >= holdout.cutoff)
    assert len(evaluation) > 0
    # Every event the tuning side sees, fitted on or labelled with, precedes the evaluation cut.
    assert split.cutoff <= holdout.cutoff
    assert split.train.timestamps.max() < holdout.cutoff
    seen = events.select(events.timestamps < holdout.cutoff)
    assert len(split.train) < len(seen)
    seen_pairs = set(zip(seen.user_ids.tolist(), seen.item_ids.tolist(), strict=True))
    for user, items in split.test.items():
        assert {(user, item) for item in items} <= seen_pairs
    # And no evaluation event (user, item, time) is among the events it was built from.
    evaluation_rows = set(
        zip(
            evaluation.user_ids.tolist(),
            evaluation.item_ids.tolist(),
            evaluation.timestamps,
            strict=True,
        )
    )
    tuning_rows = set(
        zip(
            split.train.user_ids.tolist(),
            split.train.item_ids.tolist(),
            split.train.timestamps,
            strict=True,
        )
    )
    assert not evaluation_rows & tuning_rows


def test_a_dense_tenant_whose_last_days_are_a_few_users_gets_a_per_user_validation_split() -> None:
    """A global validation cut-off on such a tenant finds a handful of users; each user's newest
    events find them all, every target new to its user and every user left events to fit on."""
    dataset = planted_dataset(n_users=200, n_items=150, n_groups=4, events_per_user=15, seed=3)
    events = dataset.events
    # The newest fifth of the events all belong to 40 users (as MovieLens-100k's last months).
    late = np.isin(events.user_ids, dataset.user_ids[:40])
    shifted = events.timestamps + np.where(late, 90 * 86_400.0, 0.0)
    dense = Events(events.user_ids, events.item_ids, events.weights, shifted)
    holdout = temporal_split(dense, test_fraction=0.1)
    temporal = validation_split(holdout, test_fraction=0.1)
    per_user = per_user_validation_split(holdout, test_fraction=0.1)
    assert len(temporal.test) < 50
    assert len(per_user.test) > 150
    fitted = set(
        zip(per_user.train.user_ids.tolist(), per_user.train.item_ids.tolist(), strict=True)
    )
    for user, items in per_user.test.items():
        assert not {(user, item) for item in items} & fitted
        assert user in set(per_user.train.user_ids.tolist())
    assert len(per_user.train) + sum(len(i) for i in per_user.test.values()) <= len(holdout.train)
