"""Tuning of the sources' own settings: a planted drift of taste that a shorter half-life
serves better is found, only the sources a setting reads are refitted, the configured settings
are the floor, and a budget too small for a refit tries nothing and says so."""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from recommender.engine.config_schema import default_config
from recommender.engine.data import Events, InteractionMatrix, ItemTable
from recommender.engine.fusion_learning import source_proposals
from recommender.engine.source_tuning import SourceTuning, tune_sources, with_value
from recommender.engine.sources import SOURCE_SPECS, CandidateSource, TrainingInputs

DAY = 86_400.0
NOW = 1_700_000_000.0
N_GROUPS, PER_GROUP, N_USERS = 4, 40, 160


def _drifting_taste(seed: int = 0) -> tuple[Events, ItemTable, dict[int, frozenset[int]]]:
    """Users who spent two months on one group of items and moved to another in the last days:
    their next discoveries are in the new group. The configured 30-day half-life still weighs
    the old months as much as the new days; a shorter one follows the move."""
    rng = np.random.default_rng(seed)
    n_items = N_GROUPS * PER_GROUP
    items = ItemTable(
        ids=np.arange(1, n_items + 1, dtype=np.int64),
        created=np.full(n_items, NOW - 400 * DAY),
        categories=tuple(() for _ in range(n_items)),
        available=np.ones(n_items, dtype=bool),
    )
    group_items = [items.ids[g * PER_GROUP : (g + 1) * PER_GROUP] for g in range(N_GROUPS)]
    rows: list[tuple[int, int, float]] = []
    test: dict[int, frozenset[int]] = {}
    for user in range(1, N_USERS + 1):
        old, new = rng.choice(N_GROUPS, size=2, replace=False)
        for item in rng.choice(group_items[old], size=14, replace=False):
            rows.append((user, int(item), NOW - rng.uniform(20, 80) * DAY))
        picked = rng.choice(group_items[new], size=7, replace=False)
        for item in picked[:4]:
            rows.append((user, int(item), NOW - rng.uniform(0, 3) * DAY))
        test[user] = frozenset(int(i) for i in picked[4:])
    users, item_ids, times = zip(*rows, strict=True)
    events = Events(
        np.array(users, dtype=np.int64),
        np.array(item_ids, dtype=np.int64),
        np.ones(len(users), dtype=np.float32),
        np.array(times),
    )
    return events, items, test


def _config() -> dict[str, Any]:
    config = default_config()
    for name in config["sources"]:
        config["sources"][name]["weight"] = 0.0
    config["sources"]["ease"]["weight"] = 1.0
    config["sources"]["popular"]["weight"] = 0.1
    return config


def _tune(budget_s: float = 600.0, max_trials: int = 40) -> tuple[SourceTuning, list[list[str]]]:
    events, items, test = _drifting_taste()
    refits: list[list[str]] = []

    def fit(settings: Mapping[str, Any], names: Sequence[str]) -> dict[str, CandidateSource]:
        data = InteractionMatrix.build(
            events,
            items,
            half_life_days=float(settings["interactions"]["half_life_days"]),
            now=NOW,
        )
        out = {}
        for name in names:
            source = SOURCE_SPECS[name].build(
                settings["sources"][name], TrainingInputs(config=settings)
            )
            assert source is not None
            source.fit(data, events=events)
            out[name] = source
        return out

    config = _config()
    fitted = fit(config, ["ease", "popular"])
    data = InteractionMatrix.build(events, items, half_life_days=30.0, now=NOW)
    users = sorted(test)

    def refit(settings: Mapping[str, Any], names: Sequence[str]) -> dict[str, CandidateSource]:
        refits.append(list(names))
        return fit(settings, names)

    tuned = tune_sources(
        config,
        fitted=fitted,
        refit=refit,
        propose=lambda source: source_proposals(source, data, users, 50),
        relevant=[test[u] for u in users],
        weights={"ease": 1.0, "popular": 0.1},
        method="weighted",
        rrf_k=60,
        k=10,
        budget_s=budget_s,
        max_trials=max_trials,
    )
    return tuned, refits


def test_a_shorter_half_life_that_follows_a_drift_of_taste_is_found_and_applied() -> None:
    tuned, refits = _tune()
    report = tuned.report
    assert report["configured"]["interactions.half_life_days"] == 30.0
    assert report["used"] is True, report
    # A shorter position half-life puts the new days' items first among the seeds (the
    # setting refitting fewest sources that follows the move: tried before the day half-life).
    assert tuned.applied["profile.recent_half_life_events"] < 10.0, report
    assert report["best_ndcg"] > report["configured_ndcg"] + 0.02, report
    for name, value in tuned.applied.items():
        node = tuned.config
        for part in name.split(".")[:-1]:
            node = node[part]
        assert node[name.split(".")[-1]] == value
    # The sources handed back are the ones fitted with the chosen settings.
    recency = getattr(tuned.sources["ease"], "recency", None)
    assert recency is not None
    assert recency.half_life_events == tuned.applied["profile.recent_half_life_events"]
    assert report["trials"] == len(tuned.trials) == len(refits)
    assert {t["stage"] for t in tuned.trials} == {"sources"}


def test_only_the_sources_a_setting_reads_are_refitted() -> None:
    tuned, refits = _tune()
    tried = [next(iter(t["params"])) for t in tuned.trials]
    for name, names in zip(tried, refits, strict=True):
        if name == "sources.ease.l2":
            assert names == ["ease"]
        elif name == "profile.recent_half_life_events":
            # Popularity does not weigh a user's history by position.
            assert names == ["ease"]
        else:
            assert name == "interactions.half_life_days"
            assert names == ["ease", "popular"]
    assert set(tried) == {
        "sources.ease.l2",
        "profile.recent_half_life_events",
        "interactions.half_life_days",
    }


def test_the_trial_cap_and_a_budget_too_small_for_a_refit_keep_the_configured_settings() -> None:
    tuned, refits = _tune(max_trials=2)
    assert len(refits) == 2
    assert tuned.report["trials"] == 2
    assert any("trials were spent" in why for why in tuned.report["not_finished"].values())
    starved, refits = _tune(budget_s=0.0)
    assert refits == []
    assert starved.report["trials"] == 0
    assert starved.report["used"] is False
    assert starved.applied == {}
    assert starved.report["best"] == starved.report["configured"]
    assert all(
        why.startswith("a trial takes about") for why in starved.report["not_finished"].values()
    )


def test_with_value_copies_the_configuration() -> None:
    config = _config()
    changed = with_value(config, ["interactions", "half_life_days"], 7.5)
    assert changed["interactions"]["half_life_days"] == 7.5
    assert config["interactions"]["half_life_days"] == 30.0
