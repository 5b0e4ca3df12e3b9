"""Planted-structure datasets for tests and benchmarks: groups a good recommender must recover.

Users and items each belong to one of `n_groups` groups. A user's events go mostly
(`in_group_share`) to items of their own group, the rest to other groups; within a group, item
popularity follows a Zipf-like skew. Items carry their group as category ("group-3") and a text
drawn from a group-specific vocabulary, so a text encoder separates the groups too. Events fall
between an item's creation and `now` (within the last `span_days`). Vectorised numpy: 100,000
items and 1,000,000 events take a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from recommender.engine.data import SECONDS_PER_DAY, Events, ItemTable
from recommender.engine.splits import temporal_split

# 2026-01-01T00:00:00Z: a fixed reference time, so generated data never depends on the clock.
DEFAULT_NOW = 1_767_225_600.0
# Ids far from positions, so code that confuses database ids with matrix positions fails.
USER_ID_OFFSET = 1_000_000
ITEM_ID_OFFSET = 5_000_000

_TOPICS = (
    "hiking tent trail backpack compass lantern",
    "guitar piano melody drum violin chord",
    "pasta tomato basil oven recipe garlic",
    "football goal stadium referee jersey striker",
    "galaxy planet telescope orbit comet nebula",
    "garden tulip soil seed shovel compost",
    "laptop keyboard monitor processor battery cable",
    "novel author chapter poetry library fiction",
    "yoga stretch breathing mat balance meditation",
    "coffee espresso bean grinder roast latte",
    "puppy leash kennel collar treat bark",
    "painting canvas brush easel pigment sketch",
    "sailing anchor harbor mast ocean captain",
    "cycling helmet pedal wheel saddle chain",
    "chess bishop knight rook pawn checkmate",
    "skincare serum lotion cleanser moisturizer sunscreen",
    "camera lens shutter tripod aperture portrait",
    "baby stroller diaper crib pacifier rattle",
    "wine vineyard cork grape cellar vintage",
    "fishing rod reel bait lure tackle",
)
_FILLER = [
    "new",
    "classic",
    "quality",
    "everyday",
    "premium",
    "simple",
    "great",
    "popular",
    "durable",
    "light",
]
_WORDS_PER_GROUP = 6


@dataclass(frozen=True)
class PlantedDataset:
    """Events and catalog with the planted groups that produced them.

    user_ids[n] has group user_groups[n]; items.ids[col] has group item_groups[col] and text
    item_texts[col]. `now` is the reference time (no event is later).
    """

    events: Events
    items: ItemTable
    user_ids: npt.NDArray[np.int64]
    user_groups: npt.NDArray[np.int64]
    item_groups: npt.NDArray[np.int64]
    item_texts: list[str]
    now: float

    def group_of_users(self, user_ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Planted group of each user id."""
        return self.user_groups[np.asarray(user_ids, dtype=np.int64) - USER_ID_OFFSET]


def group_vocabulary(group: int) -> list[str]:
    """The words that mark `group` in item texts: real words for the first 20 groups."""
    if group < len(_TOPICS):
        return _TOPICS[group].split()
    return [f"topic{group}term{n}" for n in range(_WORDS_PER_GROUP)]


def planted_dataset(
    n_users: int,
    n_items: int,
    n_groups: int,
    events_per_user: float,
    seed: int = 0,
    *,
    in_group_share: float = 0.85,
    popularity_exponent: float = 0.8,
    span_days: float = 60.0,
    catalog_age_days: float = 365.0,
    now: float = DEFAULT_NOW,
) -> PlantedDataset:
    """Generate a dataset with planted groups.

    events_per_user: mean events per user (Poisson, at least 1 each, so every user has a row);
    in_group_share: chance an event goes to the user's own group; popularity_exponent: item
    weight within a group is 1 / rank^exponent (0 = uniform); span_days: events happen within
    this many days before `now`; catalog_age_days: items are created uniformly over this span.
    """
    if not (n_groups >= 1 and n_items >= n_groups and n_users >= 1):
        raise ValueError("need n_users >= 1 and n_items >= n_groups >= 1")
    rng = np.random.default_rng(seed)
    user_groups = rng.integers(0, n_groups, size=n_users)
    # Balanced groups, shuffled over positions.
    item_groups = rng.permutation(np.arange(n_items) % n_groups)

    # Items ordered by group, in random order within it; the k-th of a group weighs 1 / k^exp.
    # Each group's probabilities sum to 1, so the running sum over all groups is "group number
    # + cumulative share within the group": searching g + u (u in [0, 1)) draws from group g.
    by_group = np.lexsort((rng.random(n_items), item_groups))
    sorted_groups = item_groups[by_group]
    group_sizes = np.bincount(item_groups, minlength=n_groups)
    group_starts = np.cumsum(group_sizes) - group_sizes
    rank = np.arange(n_items) - group_starts[sorted_groups]
    popularity = 1.0 / np.power(rank + 1.0, popularity_exponent)
    popularity /= np.bincount(sorted_groups, popularity, minlength=n_groups)[sorted_groups]
    cumulative = np.cumsum(popularity)

    counts = 1 + rng.poisson(max(events_per_user - 1.0, 0.0), size=n_users)
    event_users = np.repeat(np.arange(n_users), counts)
    n_events = len(event_users)
    own_group = rng.random(n_events) < in_group_share
    other_group = (
        user_groups[event_users] + rng.integers(1, max(n_groups, 2), n_events)
    ) % n_groups
    event_groups = np.where(own_group | (n_groups == 1), user_groups[event_users], other_group)
    draws = event_groups + rng.random(n_events)
    sorted_positions = np.clip(
        np.searchsorted(cumulative, draws, side="right"),
        group_starts[event_groups],
        group_starts[event_groups] + group_sizes[event_groups] - 1,
    )
    event_items = by_group[sorted_positions]

    created = now - rng.random(n_items) * catalog_age_days * SECONDS_PER_DAY
    starts = np.maximum(created[event_items], now - span_days * SECONDS_PER_DAY)
    timestamps = starts + rng.random(n_events) * (now - starts)
    weights = np.where(rng.random(n_events) < 0.1, 4.0, 1.0).astype(np.float32)

    item_ids = ITEM_ID_OFFSET + rng.permutation(n_items).astype(np.int64)
    user_ids = USER_ID_OFFSET + np.arange(n_users, dtype=np.int64)
    items = ItemTable(
        ids=item_ids,
        created=created,
        categories=tuple((f"group-{group}",) for group in item_groups.tolist()),
        available=np.ones(n_items, dtype=bool),
    )
    events = Events(
        user_ids=user_ids[event_users],
        item_ids=item_ids[event_items],
        weights=weights,
        timestamps=timestamps,
    )
    return PlantedDataset(
        events=events,
        items=items,
        user_ids=user_ids,
        user_groups=user_groups.astype(np.int64),
        item_groups=item_groups.astype(np.int64),
        item_texts=_texts(item_groups, rng),
        now=now,
    )


def _texts(item_groups: npt.NDArray[np.int64], rng: np.random.Generator) -> list[str]:
    """ "<Word> <word> <n>. <8 words, about 70% from the group's vocabulary, the rest filler>"."""
    n_groups = int(item_groups.max()) + 1 if len(item_groups) else 0
    vocabularies = [group_vocabulary(group) for group in range(n_groups)]
    picks = rng.integers(0, _WORDS_PER_GROUP, size=(len(item_groups), 10))
    fillers = rng.integers(0, len(_FILLER), size=(len(item_groups), 10))
    use_filler = rng.random((len(item_groups), 10)) < 0.3
    use_filler[:, :2] = False  # the title always names the topic
    texts = []
    for n, group in enumerate(item_groups.tolist()):
        vocabulary = vocabularies[group]
        words = [
            _FILLER[filler] if plain else vocabulary[pick]
            for pick, filler, plain in zip(picks[n], fillers[n], use_filler[n], strict=True)
        ]
        texts.append(f"{words[0].title()} {words[1]} {n}. {' '.join(words[2:])}.")
    return texts


def planted_item_vectors(
    dataset: PlantedDataset, dim: int = 32, noise: float = 0.5, seed: int = 0
) -> npt.NDArray[np.float32]:
    """(n_items, dim) float32 unit vectors: the item's group centroid plus Gaussian noise.

    A stand-in for encoded texts when a test needs content vectors without a model.
    """
    rng = np.random.default_rng(seed)
    n_groups = int(dataset.item_groups.max()) + 1
    centroids = rng.standard_normal((n_groups, dim))
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    vectors = centroids[dataset.item_groups]
    vectors += noise * rng.standard_normal(vectors.shape) / np.sqrt(dim)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32)


@dataclass(frozen=True)
class ColdItemSplit:
    """A temporal split in which a share of the items lost every training event.

    train: the events before the cut-off, without any event on `cold_items`; warm_test /
    cold_test: user id → the held-out items that are warm / cold (users with none left out);
    cold_items: database ids of the items made cold.
    """

    train: Events
    warm_test: dict[int, frozenset[int]]
    cold_test: dict[int, frozenset[int]]
    cold_items: npt.NDArray[np.int64]


def cold_item_split(
    dataset: PlantedDataset, cold_share: float, *, test_fraction: float = 0.2, seed: int = 0
) -> ColdItemSplit:
    """`temporal_split` of the dataset's events, then `cold_share` of the items (drawn at
    random) have their training events removed, as items added after the model was trained."""
    holdout = temporal_split(dataset.events, test_fraction=test_fraction)
    rng = np.random.default_rng(seed)
    n_cold = round(cold_share * len(dataset.items))
    cold = np.sort(rng.choice(dataset.items.ids, size=n_cold, replace=False))
    train = holdout.train.select(~np.isin(holdout.train.item_ids, cold))
    cold_set = frozenset(cold.tolist())
    warm_test, cold_test = {}, {}
    for user, items in holdout.test.items():
        if items - cold_set:
            warm_test[user] = items - cold_set
        if items & cold_set:
            cold_test[user] = items & cold_set
    return ColdItemSplit(train=train, warm_test=warm_test, cold_test=cold_test, cold_items=cold)
