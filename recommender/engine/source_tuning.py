"""Per-tenant tuning of the sources' own settings on the validation split, before the fusion is
learned: EASE and text EASE λ (`l2`), ALS regularisation and alpha, and the history half-lives
(by days, `interactions.half_life_days`; by position, `profile.recent_half_life_events`).

Pure numpy (no Django). Coordinate-wise: one setting at a time over a log grid around its
configured value, the others held at their best so far, refitting only the sources that setting
reads (a source's own setting: that source; the position half-life: the sources that weigh
history by it; the day half-life: every source, as it reweighs the matrix). The settings that
refit fewest sources go first, and a trial starts only when its cost (the last fit of the same
sources and the first measure) fits in what is left of the budget: the budget is kept without
cutting a fit short (one trial may end past it). The measure is the fused NDCG@k of the
validation users with the configured weights; a value is kept only when it beats the best so
far, so tuning never ends below the configured settings.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recommender.engine.fusion import FusionMethod, fuse
from recommender.engine.metrics import Hits
from recommender.engine.sources.base import CandidateSource
from recommender.engine.sources.registry import SOURCE_SPECS

# (configuration path, lowest, highest). Source settings take their bounds from the registry.
HALF_LIFE_DAYS = (("interactions", "half_life_days"), 0.1, 3650.0)
HALF_LIFE_EVENTS = (("profile", "recent_half_life_events"), 0.5, 10_000.0)
SOURCE_SETTINGS = (("ease", "l2"), ("text_ease", "l2"), ("als", "regularization"), ("als", "alpha"))
# Share of training.tuning_budget_s the source settings may spend; the fusion's tuning gets the
# rest, and what they left unspent.
BUDGET_SHARE = 0.5
# Multiples of the configured value tried, nearest first. ALS factors are not tuned: their cost
# grows with the value and the stored collaborative space with it.
FACTORS = (0.25, 4.0, 0.0625, 16.0)

# One user's candidates per source: item id → score.
Proposals = list[dict[int, float]]
Refit = Callable[[Mapping[str, Any], Sequence[str]], Mapping[str, CandidateSource]]
Propose = Callable[[CandidateSource], Proposals]


@dataclass(frozen=True)
class Tunable:
    """A setting tuned: its path in the configuration, its bounds, and what reads it."""

    path: tuple[str, ...]
    low: float
    high: float

    @property
    def name(self) -> str:
        return ".".join(self.path)

    def value(self, config: Mapping[str, Any]) -> float:
        node: Any = config
        for key in self.path:
            node = node[key]
        return float(node)

    def readers(self, sources: Mapping[str, CandidateSource]) -> list[str]:
        """The fitted sources a change of this setting must refit."""
        if self.path[0] == "sources":
            return [self.path[1]] if self.path[1] in sources else []
        if self.path == HALF_LIFE_EVENTS[0]:
            return [n for n, s in sources.items() if getattr(s, "recency", None) is not None]
        return list(sources)

    def grid(self, configured: float) -> list[float]:
        """Values to try besides `configured`: its multiples inside the bounds. A setting
        configured at 0 (off) stays off."""
        if configured <= 0:
            return []
        values = [min(max(configured * f, self.low), self.high) for f in FACTORS]
        out: list[float] = []
        for value in values:
            value = round(value, 6)
            if value != configured and value not in out:
                out.append(value)
        return out


def tunables(sources: Mapping[str, CandidateSource]) -> list[Tunable]:
    """The settings worth tuning for these fitted sources."""
    out = [
        Tunable(("sources", name, key), setting.low, setting.high)
        for name, key in SOURCE_SETTINGS
        if name in sources and (setting := SOURCE_SPECS[name].settings[key])
    ]
    out += [Tunable(path, low, high) for path, low, high in (HALF_LIFE_EVENTS, HALF_LIFE_DAYS)]
    return [t for t in out if t.readers(sources)]


def with_value(config: Mapping[str, Any], path: Sequence[str], value: float) -> dict[str, Any]:
    """A deep copy of `config` with the (float) setting at `path` set to `value`."""
    out = copy.deepcopy(dict(config))
    node: Any = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = float(value)
    return out


def fused_ndcg(
    proposals: Mapping[str, Proposals],
    relevant: Sequence[frozenset[int]],
    weights: Mapping[str, float],
    *,
    method: FusionMethod,
    rrf_k: int,
    k: int,
) -> float:
    """Mean NDCG@k of the users' fused lists (user n: proposals[s][n], relevant[n])."""
    if not relevant:
        return 0.0
    orders = []
    for n in range(len(relevant)):
        candidates = {name: lists[n] for name, lists in proposals.items()}
        orders.append([f.item for f in fuse(candidates, weights, method, rrf_k)[:k]])
    return float(np.mean(Hits.build(orders, list(relevant), k).ndcg()))


@dataclass
class SourceTuning:
    """The settings chosen (`config`: the configuration with them), the sources fitted with
    them, what changed (`applied`: path → value) and the report stored on the version."""

    config: dict[str, Any]
    sources: dict[str, CandidateSource]
    applied: dict[str, float]
    report: dict[str, Any]
    trials: list[dict[str, Any]] = field(default_factory=list)
    # Each source's candidates for the validation users, from `sources` (the fusion reuses them).
    proposals: dict[str, Proposals] = field(default_factory=dict)


def tune_sources(
    config: Mapping[str, Any],
    *,
    fitted: Mapping[str, CandidateSource],
    refit: Refit,
    propose: Propose,
    relevant: Sequence[frozenset[int]],
    weights: Mapping[str, float],
    method: FusionMethod,
    rrf_k: int,
    k: int,
    budget_s: float,
    max_trials: int,
) -> SourceTuning:
    """Tune the settings `tunables(fitted)` within `budget_s` seconds and `max_trials` trials.

    `fitted` are the sources fitted with `config` on the validation split's past; `refit(config,
    names)` fits those sources again under another configuration; `propose(source)` gives each
    validation user's candidates (in the order of `relevant`).
    """
    started = time.perf_counter()
    current = copy.deepcopy(dict(config))
    sources = dict(fitted)
    mark = time.perf_counter()
    proposals = {name: propose(source) for name, source in sources.items()}
    propose_s = (time.perf_counter() - mark) / max(len(sources), 1)

    def measure(props: Mapping[str, Proposals]) -> float:
        return fused_ndcg(props, relevant, weights, method=method, rrf_k=rrf_k, k=k)

    mark = time.perf_counter()
    baseline = best = measure(proposals)
    measure_s = time.perf_counter() - mark
    settings = tunables(sources)
    configured = {t.name: t.value(config) for t in settings}

    def cost(tunable: Tunable) -> float:
        names = tunable.readers(sources)
        return sum(sources[n].fit_seconds for n in names) + propose_s * len(names) + measure_s

    trials: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    # Fewest sources to refit first (a fixed order, not the measured costs: the same data
    # tune the same way whatever the machine's load).
    for tunable in sorted(settings, key=lambda t: len(t.readers(sources))):
        for value in tunable.grid(tunable.value(current)):
            left = budget_s - (time.perf_counter() - started)
            if len(trials) >= max_trials:
                skipped.setdefault(tunable.name, f"the {max_trials} trials were spent")
                break
            if cost(tunable) > left:
                skipped.setdefault(
                    tunable.name,
                    f"a trial takes about {cost(tunable):.1f} s, {max(left, 0):.1f} s were left",
                )
                break
            names = tunable.readers(sources)
            trial_config = with_value(current, tunable.path, value)
            try:
                refitted = refit(trial_config, names)
            except ValueError as exc:
                trials.append(
                    {"stage": "sources", "params": {tunable.name: value}, "error": str(exc)}
                )
                continue
            if set(refitted) != set(names):
                error = f"{sorted(set(names) - set(refitted))} could not be fitted"
                trials.append({"stage": "sources", "params": {tunable.name: value}, "error": error})
                continue
            trial_props = {**proposals, **{n: propose(s) for n, s in refitted.items()}}
            score = measure(trial_props)
            trials.append(
                {"stage": "sources", "value": round(score, 4), "params": {tunable.name: value}}
            )
            if score > best:
                best, current, proposals = score, trial_config, trial_props
                sources.update(refitted)
    chosen = {t.name: t.value(current) for t in settings}
    applied = {name: value for name, value in chosen.items() if value != configured[name]}
    report: dict[str, Any] = {
        "budget_s": round(budget_s, 3),
        "configured": configured,
        "configured_ndcg": round(baseline, 4),
        "best": chosen,
        "best_ndcg": round(best, 4),
        "used": bool(applied),
        "applied": applied,
        "trials": len(trials),
        "spent_s": round(time.perf_counter() - started, 3),
    }
    if skipped:
        report["not_finished"] = skipped
    return SourceTuning(current, sources, applied, report, trials, proposals)
