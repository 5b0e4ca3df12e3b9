"""Fusion learned per tenant: fusion weights tuned and a second-stage ranker trained on a
validation split, each adopted only when it beats weighted fusion there.

Pure numpy + Optuna + LightGBM (no Django). The caller fits the sources on the past of a
temporal split carved from the *training* events (never from the evaluation slice: see
`engine.splits.validation_split`) and hands over each user's candidates and later discoveries
as `UserCase`s. The users are divided once (seeded) into a fitting half, on which the ranker
learns, and a validation half, on which every choice is measured: tuned weights against the
configured ones, the ranker against weighted fusion with the weights kept.

Optuna's TPE sampler with its in-memory storage; the configured weights and the default ranker
settings are the first trial of each study, so tuning never ends below where it started.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna

from recommender.engine.data import Events, InteractionMatrix
from recommender.engine.exploration import fresh_slots, reserve_fresh
from recommender.engine.fusion import FusionMethod, fuse
from recommender.engine.metrics import Hits
from recommender.engine.ranker import (
    DEFAULT_PARAMS,
    Group,
    ItemStats,
    ItemVectors,
    Ranker,
    UserContext,
    features,
    fit_ranker,
)
from recommender.engine.sources.base import PAD_COL, CandidateSource
from recommender.engine.splits import HoldOut

# Users with a later discovery needed (fitting and validation halves together). Tuning on fewer
# overfits: on MovieLens-100k 20 such users chose popularity-heavy weights that scored 0.24 vs
# 0.14 there, and served NDCG@10 fell from 0.228 to 0.166 (benchmarks/quality.py).
MIN_RANKER_USERS = 50
MIN_TUNING_USERS = 50
# Share of the tuning budget spent on the fusion weights when a ranker is trained after them.
WEIGHTS_SHARE = 0.4
WEIGHT_RANGE = (0.02, 5.0)
STORED_TRIALS = 100
# A study stops after this many trials without a better value, before its budget if need be.
PATIENCE = 15


@dataclass(frozen=True)
class UserCase:
    """One validation-split user: each source's candidates (item id → score), the items they
    went on to discover, and their recent history."""

    user: int
    candidates: dict[str, dict[int, float]]
    relevant: frozenset[int]
    context: UserContext


def recent_items(events: Events, max_recent: int) -> dict[int, list[int]]:
    """Each user's positively weighted items, newest first, at most `max_recent`."""
    positive = events.select(events.weights > 0)
    order = np.lexsort((-positive.timestamps, positive.user_ids))
    users, items = positive.user_ids[order], positive.item_ids[order]
    out: dict[int, list[int]] = {}
    if not len(users):
        return out
    bounds = np.flatnonzero(np.diff(users)) + 1
    for chunk_users, chunk_items in zip(
        np.split(users, bounds), np.split(items, bounds), strict=True
    ):
        out[int(chunk_users[0])] = [int(i) for i in chunk_items[:max_recent]]
    return out


def validation_users(split: HoldOut, data: InteractionMatrix, max_users: int) -> list[int]:
    """The first `max_users` test users of `split` (by id) that `data` has a row for."""
    return sorted(u for u in split.test if u in data.user_index)[:max_users]


def source_proposals(
    source: CandidateSource, data: InteractionMatrix, users: Sequence[int], pool: int
) -> list[dict[int, float]]:
    """Each user's candidates from `source` (item id → score), in the order of `users`."""
    rows = np.array([data.user_index[u] for u in users], dtype=np.int64)
    cols, scores = source.recommend(rows, pool)
    return [
        {
            int(data.items.ids[c]): float(s)
            for c, s in zip(cols[n], scores[n], strict=True)
            if c != PAD_COL
        }
        for n in range(len(users))
    ]


def user_cases(
    sources: Mapping[str, CandidateSource],
    data: InteractionMatrix,
    split: HoldOut,
    *,
    pool: int,
    max_recent: int,
    max_users: int,
    proposals: Mapping[str, list[dict[int, float]]] | None = None,
) -> list[UserCase]:
    """The cases of at most `max_users` test users of `split` (sources fitted on split.train);
    `proposals` (per source, those users' candidates) spares computing them again."""
    users = validation_users(split, data, max_users)
    proposals = {
        name: (proposals or {}).get(name) or source_proposals(source, data, users, pool)
        for name, source in sources.items()
    }
    recent = recent_items(split.train, max_recent)
    # Each user's newest training event: the last of their run once sorted by (user, time).
    by_time = np.lexsort((split.train.timestamps, split.train.user_ids))
    ordered_users = split.train.user_ids[by_time]
    last = np.r_[np.flatnonzero(np.diff(ordered_users)), len(ordered_users) - 1]
    newest = (
        {
            int(u): float(t)
            for u, t in zip(ordered_users[last], split.train.timestamps[by_time][last], strict=True)
        }
        if len(ordered_users)
        else {}
    )
    cases = []
    for n, user in enumerate(users):
        candidates = {name: lists[n] for name, lists in proposals.items()}
        age = (split.cutoff - newest.get(user, split.cutoff)) / 86_400.0
        cases.append(
            UserCase(user, candidates, split.test[user], UserContext(recent.get(user, []), age))
        )
    return cases


@dataclass
class LearnedFusion:
    """What training keeps: tuned weights (None: the configured ones serve), the ranker (None:
    fused order serves), and the report stored on the model version."""

    weights: dict[str, float] | None
    ranker: Ranker | None
    ranker_report: dict[str, Any]
    tuning_report: dict[str, Any]
    trials: list[dict[str, Any]] = field(default_factory=list)
    # The share of each list kept for fresh items (None: not measured; the configured serves).
    fresh_share: float | None = None


def _ndcg(orders: Sequence[Sequence[int]], cases: Sequence[UserCase], k: int) -> float:
    if not cases:
        return 0.0
    return float(np.mean(Hits.build(orders, [c.relevant for c in cases], k).ndcg()))


class _Fusion:
    """Fused lists and ranker groups of a fixed set of cases."""

    def __init__(
        self,
        cases: Sequence[UserCase],
        *,
        method: FusionMethod,
        rrf_k: int,
        sources: Sequence[str],
        stats: ItemStats,
        now: float,
        k: int,
        vectors: ItemVectors | None = None,
    ) -> None:
        self.cases, self.method, self.rrf_k, self.k = list(cases), method, rrf_k, k
        self.sources, self.stats, self.now, self.vectors = list(sources), stats, now, vectors

    def ndcg(self, weights: Mapping[str, float]) -> float:
        orders = [
            [f.item for f in fuse(c.candidates, weights, self.method, self.rrf_k)[: self.k]]
            for c in self.cases
        ]
        return _ndcg(orders, self.cases, self.k)

    def groups(self, weights: Mapping[str, float]) -> list[Group]:
        out = []
        for case in self.cases:
            fused = fuse(case.candidates, weights, self.method, self.rrf_k)
            x = features(
                case.candidates,
                fused,
                self.sources,
                self.stats,
                case.context,
                self.now,
                self.vectors,
            )
            labels = np.array([f.item in case.relevant for f in fused], dtype=np.float32)
            out.append(Group([f.item for f in fused], x, labels))
        return out

    def ranker_ndcg(self, ranker: Ranker, groups: Sequence[Group]) -> float:
        return _ndcg([ranker.order(g)[: self.k] for g in groups], self.cases, self.k)


def choose_fresh_share(
    orders: Sequence[Sequence[int]],
    cases: Sequence[UserCase],
    warm_items: frozenset[int],
    *,
    most: float,
    max_loss: float,
    k: int,
) -> tuple[float, dict[str, Any]]:
    """The largest share, up to `most`, whose places for fresh items cost warm NDCG@k at most
    `max_loss` (relative) on the validation cases; and the measurements.

    `orders` are the cases' serving orders (whole pools). Fresh: candidates with no event in the
    validation split's past. Warm NDCG scores only targets that had events (a fresh item can be
    relevant, but the validation past cannot say which fresh items will be found: the cost of
    the places is what it measures, and the operator's bound decides the trade).
    """
    scored = [
        (order, c.relevant & warm_items)
        for order, c in zip(orders, cases, strict=True)
        if c.relevant & warm_items
    ]

    def warm_ndcg(share: float) -> float:
        slots = fresh_slots(share, k)
        lists = []
        for order, _ in scored:
            fresh_pool = [item for item in order if item not in warm_items]
            lists.append(reserve_fresh(order[:k], fresh_pool, set(fresh_pool), slots, k))
        if not lists:
            return 0.0
        return float(np.mean(Hits.build(lists, [r for _, r in scored], k).ndcg()))

    # One place of k at a time, from the most the configuration allows.
    shares = [n / k for n in range(fresh_slots(most, k), 0, -1)]
    base = warm_ndcg(0.0)
    measured = {"0": round(base, 4)}
    chosen = 0.0
    for share in shares:
        value = warm_ndcg(share)
        measured[f"{share:.4g}"] = round(value, 4)
        if base <= 0 or (base - value) / base <= max_loss:
            chosen = share
            break
    report = {
        "configured": most,
        "max_loss": max_loss,
        "chosen": chosen,
        "warm_ndcg": measured,
        "reason": (
            f"the largest share whose warm NDCG@{k} loss on validation is at most {max_loss:.0%}"
            if chosen > 0
            else f"every share cost warm NDCG@{k} more than {max_loss:.0%} on validation"
        ),
    }
    return chosen, report


def _study(seed: int) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))


def _stop_when_stale(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
    if trial.number - study.best_trial.number >= PATIENCE:
        study.stop()


def learn_fusion(
    cases: Sequence[UserCase],
    *,
    sources: Sequence[str],
    weights: Mapping[str, float],
    method: FusionMethod,
    rrf_k: int,
    stats: ItemStats,
    now: float,
    k: int,
    ranker_mode: str,
    budget_s: float,
    max_trials: int,
    fresh_share: float = 0.0,
    fresh_max_loss: float = 0.0,
    seed: int = 0,
    vectors: ItemVectors | None = None,
) -> LearnedFusion:
    """Tune the weights (with a budget), then train and validate the ranker (when "auto").

    `sources` are the enabled sources the cases hold, `weights` their configured weights,
    `stats` item statistics as of `now` (the split's cut-off), `vectors` the items' content
    vectors for the text features (None: no encoder has run). Stops at `budget_s` seconds of
    tuning or `max_trials` trials per study, whichever comes first.
    """
    started = time.perf_counter()
    order = np.random.default_rng(seed).permutation(len(cases))
    fitting = [cases[n] for n in order[: len(cases) // 2]]
    validation = [cases[n] for n in order[len(cases) // 2 :]]
    on_fit, on_val = (
        _Fusion(
            part,
            method=method,
            rrf_k=rrf_k,
            sources=sources,
            stats=stats,
            now=now,
            k=k,
            vectors=vectors,
        )
        for part in (fitting, validation)
    )
    configured = {name: float(weights[name]) for name in sources}
    baseline = on_val.ndcg(configured)
    trials: list[dict[str, Any]] = []
    tuning: dict[str, Any] = {
        "budget_s": budget_s,
        "validation_users": len(validation),
        "fitting_users": len(fitting),
        "configured_ndcg": round(baseline, 4),
    }
    tuned_weights: dict[str, float] | None = None
    chosen = configured
    tune = False
    if budget_s <= 0 or max_trials <= 0:
        tuning["skipped"] = "tuning is off (training.tuning_budget_s = 0)"
    elif len(cases) < MIN_TUNING_USERS:
        tuning["skipped"] = f"too few users for tuning: {len(cases)} < {MIN_TUNING_USERS}"
    else:
        tune = True
        if len(sources) < 2:
            tuning["weights"] = {"used": False, "skipped": "one source: no weights to tune"}
    ranker_wanted = ranker_mode == "auto" and len(cases) >= MIN_RANKER_USERS
    if tune and len(sources) >= 2:
        share = WEIGHTS_SHARE if ranker_wanted else 1.0
        study = _study(seed)
        low, high = WEIGHT_RANGE
        study.enqueue_trial({name: min(max(w, low), high) for name, w in configured.items()})

        def weights_objective(trial: optuna.Trial) -> float:
            values = {name: trial.suggest_float(name, *WEIGHT_RANGE, log=True) for name in sources}
            return on_val.ndcg(values)

        study.optimize(
            weights_objective,
            n_trials=max_trials,
            timeout=budget_s * share,
            callbacks=[_stop_when_stale],
        )
        trials += [
            {"stage": "weights", "value": round(float(t.value or 0.0), 4), "params": t.params}
            for t in study.trials
        ]
        if study.best_value > baseline:
            tuned_weights = {name: round(float(v), 4) for name, v in study.best_params.items()}
            chosen = tuned_weights
        tuning["weights"] = {
            "best": {name: round(float(v), 4) for name, v in study.best_params.items()},
            "best_ndcg": round(float(study.best_value), 4),
            "used": tuned_weights is not None,
        }
    weighted = on_val.ndcg(chosen)

    ranker: Ranker | None = None
    report: dict[str, Any] = {
        "mode": ranker_mode,
        "used": False,
        "weighted_ndcg": round(weighted, 4),
    }
    if ranker_mode != "auto":
        report["reason"] = "the ranker is off (fusion.ranker = off)"
    elif len(cases) < MIN_RANKER_USERS:
        report["reason"] = f"too few users for a ranker: {len(cases)} < {MIN_RANKER_USERS}"
    else:
        mark = time.perf_counter()
        fit_groups, val_groups = on_fit.groups(chosen), on_val.groups(chosen)
        report["features_s"] = round(time.perf_counter() - mark, 3)
        best: tuple[float, Ranker] | None = None
        try:
            mark = time.perf_counter()
            candidate = fit_ranker(fit_groups, sources, attribute_keys=stats.attribute_keys)
            report["fit_s"] = round(time.perf_counter() - mark, 3)
            best = (on_val.ranker_ndcg(candidate, val_groups), candidate)
            left = budget_s - (time.perf_counter() - started)
            if tune and left > 0:
                study = _study(seed)
                study.enqueue_trial(DEFAULT_PARAMS)

                def ranker_objective(trial: optuna.Trial) -> float:
                    nonlocal best
                    params = {
                        "num_leaves": trial.suggest_int("num_leaves", 4, 31),
                        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.3, log=True),
                        "n_estimators": trial.suggest_int("n_estimators", 20, 200),
                        "min_data_in_leaf": trial.suggest_int("min_data_in_leaf", 5, 60),
                    }
                    model = fit_ranker(
                        fit_groups, sources, params, attribute_keys=stats.attribute_keys
                    )
                    value = on_val.ranker_ndcg(model, val_groups)
                    if best is None or value > best[0]:
                        best = (value, model)
                    return value

                # The default settings were measured above: the study starts from its values.
                study.optimize(
                    ranker_objective,
                    n_trials=max_trials,
                    timeout=left,
                    callbacks=[_stop_when_stale],
                )
                trials += [
                    {"stage": "ranker", "value": round(float(t.value or 0), 4), "params": t.params}
                    for t in study.trials
                ]
                tuning["ranker"] = {
                    "best": best[1].params if best else {},
                    "best_ndcg": round(best[0], 4) if best else None,
                }
        except ValueError as exc:
            report["reason"] = f"the ranker could not be trained: {exc}"
        if best is not None:
            value, model = best
            report["ranker_ndcg"] = round(value, 4)
            report["top_features"] = model.top_features()
            report["params"] = model.params
            mark = time.perf_counter()
            for group in val_groups:
                model.scores(group.x)
            report["predict_ms_per_user"] = round(
                1000 * (time.perf_counter() - mark) / max(len(val_groups), 1), 3
            )
            if value > weighted:
                ranker = model
                report["used"] = True
                report["reason"] = f"ranker NDCG@{k} {value:.4f} > weighted {weighted:.4f}"
            else:
                report["reason"] = (
                    f"ranker NDCG@{k} {value:.4f} does not beat weighted {weighted:.4f}: "
                    "weighted fusion serves"
                )
    # Measured only where tuning runs (None: not measured; serving then keeps no places).
    chosen_share: float | None = None
    if tune and fresh_share <= 0:
        tuning["fresh"] = {"configured": fresh_share, "chosen": 0.0, "reason": "off"}
        chosen_share = 0.0
    elif tune:
        if ranker is not None:
            orders = [ranker.order(g) for g in on_val.groups(chosen)]
        else:
            orders = [
                [f.item for f in fuse(c.candidates, chosen, method, rrf_k)] for c in validation
            ]
        warm = frozenset(int(i) for i in stats.ids[stats.events > 0])
        chosen_share, tuning["fresh"] = choose_fresh_share(
            orders, validation, warm, most=fresh_share, max_loss=fresh_max_loss, k=k
        )
    tuning["trials"] = len(trials)
    tuning["spent_s"] = round(time.perf_counter() - started, 3)
    return LearnedFusion(
        tuned_weights, ranker, report, tuning, trials[:STORED_TRIALS], fresh_share=chosen_share
    )
