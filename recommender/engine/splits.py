"""Temporal hold-out: train on the past, test on what each user went on to discover.

Pure numpy. A single global cut-off (not a per-user one) so no model sees any event from the test
period, which is how a model trained tonight meets tomorrow's traffic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from recommender.engine.data import Events

# A user with at most this many events before the cut-off is a cold user in the slices.
COLD_USER_MAX_EVENTS = 2
# Fewer test users than this and the hold-out says too little to rank models by (see
# `holdout_problem`).
MIN_TEST_USERS = 10


@dataclass(frozen=True)
class HoldOut:
    """A temporal split.

    train: the events strictly before `cutoff` (every weight, dislikes included), for fitting;
    test: database user id → frozenset of database item ids the user should be recommended,
    only users with at least one such item; cutoff: unix seconds.
    """

    train: Events
    test: Mapping[int, frozenset[int]]
    cutoff: float


def default_cutoff(timestamps: npt.NDArray[np.float64], test_fraction: float) -> float:
    """The timestamp that leaves the newest ⌈test_fraction · n⌉ events at or after it.

    Ties at that timestamp all fall on the test side, so the test share can exceed the fraction.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError("test_fraction must be strictly between 0 and 1")
    if not len(timestamps):
        raise ValueError("cannot split an empty event set")
    n_test = max(1, math.ceil(test_fraction * len(timestamps)))
    return float(np.sort(timestamps)[len(timestamps) - n_test])


def temporal_split(
    events: Events,
    *,
    cutoff: float | None = None,
    test_fraction: float = 0.1,
    min_train_events: int = 1,
) -> HoldOut:
    """Split `events` at one time `cutoff` (default: `default_cutoff(…, test_fraction)`).

    train = events with timestamp < cutoff. test[u] = items i where
    - u has ≥ `min_train_events` training events of any weight (a model needs history to rank
      for u; users without it belong to a cold-start evaluation, not this one),
    - the summed weight of u's events on i at or after the cut-off is positive (a view followed
      by a dislike is not a success), and
    - u had no training event on i. Recommenders exclude items a user has already seen, so a
      re-interaction can never be predicted; keeping it would cap every model's recall below 1
      by the same unreachable amount and reward nothing.
    Users left with no test items are dropped. Pass events already restricted to the catalog
    being evaluated, or test items the models cannot rank will count as misses.
    """
    if min_train_events < 1:
        raise ValueError("min_train_events must be at least 1")
    if cutoff is None:
        cutoff = default_cutoff(events.timestamps, test_fraction)
    before = events.timestamps < cutoff
    train = events.select(before)
    after = events.select(~before)

    train_users, train_counts = np.unique(train.user_ids, return_counts=True)
    eligible = train_users[train_counts >= min_train_events]
    after = after.select(np.isin(after.user_ids, eligible))

    # Encode (user, item) as one int64 over dense codes so set operations stay vectorised.
    user_codes = np.unique(np.concatenate([train.user_ids, after.user_ids]))
    item_codes = np.unique(np.concatenate([train.item_ids, after.item_ids]))

    def pair_keys(part: Events) -> npt.NDArray[np.int64]:
        users = np.searchsorted(user_codes, part.user_ids).astype(np.int64)
        items = np.searchsorted(item_codes, part.item_ids).astype(np.int64)
        return users * len(item_codes) + items

    keys, inverse = np.unique(pair_keys(after), return_inverse=True)
    totals = np.bincount(inverse, weights=after.weights.astype(np.float64), minlength=len(keys))
    keys = keys[(totals > 0) & ~np.isin(keys, pair_keys(train))]

    test: dict[int, frozenset[int]] = {}
    if not len(keys):
        return HoldOut(train=train, test=test, cutoff=float(cutoff))
    # keys are sorted, so each user's items are one contiguous run.
    users, starts = np.unique(keys // len(item_codes), return_index=True)
    for user, items in zip(users, np.split(keys % len(item_codes), starts[1:]), strict=True):
        test[int(user_codes[user])] = frozenset(int(i) for i in item_codes[items])
    return HoldOut(train=train, test=test, cutoff=float(cutoff))


def validation_split(holdout: HoldOut, *, test_fraction: float) -> HoldOut:
    """A temporal split of `holdout.train` alone, for tuning and the learned fusion: every event
    either side of it is older than `holdout.cutoff`, so nothing chosen on it has seen the
    evaluation slice."""
    return temporal_split(holdout.train, test_fraction=test_fraction)


def per_user_validation_split(holdout: HoldOut, *, test_fraction: float) -> HoldOut:
    """A split of `holdout.train` alone where each user's newest ⌈test_fraction · n⌉ events
    (n: their training events; at least one, and at least one left to fit on) are their
    validation targets, for tenants whose validation cut-off falls on too few users (a dense
    tenant whose last days belong to a handful of them). Every event either side is older than
    `holdout.cutoff`, so nothing chosen on it has seen the evaluation slice; but one user's
    targets may be older than another's fitting events, which the temporal split avoids.

    `cutoff` stays `holdout.cutoff`: the statistics and ages are read as of the evaluation cut.
    Targets follow `temporal_split`'s rules: positive summed weight, not seen before by the user.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError("test_fraction must be strictly between 0 and 1")
    events = holdout.train
    order = np.lexsort((events.timestamps, events.user_ids))
    users = events.user_ids[order]
    held = np.zeros(len(events), dtype=bool)
    if len(users):
        starts = np.r_[0, np.flatnonzero(np.diff(users)) + 1]
        ends = np.r_[starts[1:], len(users)]
        for start, end in zip(starts, ends, strict=True):
            n = int(end - start)
            if n < 2:
                continue
            take = min(max(1, math.ceil(test_fraction * n)), n - 1)
            held[order[end - take : end]] = True
    train, after = events.select(~held), events.select(held)
    fitted = set(zip(train.user_ids.tolist(), train.item_ids.tolist(), strict=True))
    totals: dict[tuple[int, int], float] = {}
    for user, item, weight in zip(
        after.user_ids.tolist(), after.item_ids.tolist(), after.weights.tolist(), strict=True
    ):
        totals[(user, item)] = totals.get((user, item), 0.0) + weight
    test: dict[int, set[int]] = {}
    for (user, item), total in totals.items():
        if total > 0 and (user, item) not in fitted:
            test.setdefault(user, set()).add(item)
    return HoldOut(
        train=train,
        test={user: frozenset(items) for user, items in sorted(test.items())},
        cutoff=holdout.cutoff,
    )


def sample_users(holdout: HoldOut, max_users: int, seed: int) -> HoldOut:
    """The same split with at most `max_users` test users, drawn without replacement.

    Deterministic for a given (test user set, seed) whatever the dict order; `train` is kept
    whole because models should still fit on every user's history.
    """
    if max_users < 0:
        raise ValueError("max_users must not be negative")
    if len(holdout.test) <= max_users:
        return holdout
    users = np.array(sorted(holdout.test), dtype=np.int64)
    chosen = np.sort(np.random.default_rng(seed).choice(users, size=max_users, replace=False))
    return HoldOut(
        train=holdout.train,
        test={int(u): holdout.test[int(u)] for u in chosen},
        cutoff=holdout.cutoff,
    )


@dataclass(frozen=True)
class Slices:
    """The parts of a hold-out that evaluation reports apart (`evaluation.SLICE_NAMES`).

    cold_users: database ids of test users with at most `COLD_USER_MAX_EVENTS` training events
    (of any weight; every test user has at least one, see `temporal_split`); the other test users
    are the warm ones. cold_items: database ids of test targets that had no training event at
    all, so only text or popularity can have ranked them.
    """

    cold_users: frozenset[int]
    cold_items: frozenset[int]


def holdout_slices(holdout: HoldOut, *, cold_user_max_events: int = COLD_USER_MAX_EVENTS) -> Slices:
    """Which test users are cold and which test targets are cold items, from `holdout.train`."""
    users, counts = np.unique(holdout.train.user_ids, return_counts=True)
    events_of = dict(zip(users.tolist(), counts.tolist(), strict=True))
    cold_users = frozenset(
        user for user in holdout.test if events_of.get(user, 0) <= cold_user_max_events
    )
    targets = set().union(*holdout.test.values()) if holdout.test else set()
    seen = set(np.unique(holdout.train.item_ids).tolist())
    return Slices(cold_users=cold_users, cold_items=frozenset(targets - seen))


def holdout_problem(holdout: HoldOut, *, min_test_users: int = MIN_TEST_USERS) -> str | None:
    """Why the hold-out cannot rank models, or None when it can: no event before the cut-off
    (nothing to fit on), or fewer than `min_test_users` users with a later discovery (a mean
    over a handful of users moves more between two trainings than models differ)."""
    if not len(holdout.train):
        return "no interaction falls before the evaluation cut-off"
    if len(holdout.test) < min_test_users:
        return (
            f"{len(holdout.test)} users discovered items after the evaluation cut-off; "
            f"at least {min_test_users} are needed"
        )
    return None
