"""The planted-structure generator: the structure is really there, and reproducible."""

import numpy as np
import pytest

from recommender.engine.data import SECONDS_PER_DAY, InteractionMatrix
from tests.support.planted import (
    DEFAULT_NOW,
    PlantedDataset,
    group_vocabulary,
    planted_dataset,
    planted_item_vectors,
)


@pytest.fixture(scope="module")
def planted() -> PlantedDataset:
    return planted_dataset(2000, 500, 5, 30, seed=11)


def _event_cols(planted: PlantedDataset) -> np.ndarray:
    order = np.argsort(planted.items.ids)
    positions = np.searchsorted(planted.items.ids[order], planted.events.item_ids)
    cols = order[positions]
    assert (planted.items.ids[cols] == planted.events.item_ids).all()
    return cols


def test_shapes_and_alignment(planted: PlantedDataset) -> None:
    assert len(planted.items) == len(planted.item_groups) == len(planted.item_texts) == 500
    assert len(planted.user_ids) == len(planted.user_groups) == 2000
    assert len(np.unique(planted.items.ids)) == 500
    assert set(planted.item_groups.tolist()) == set(range(5))
    assert np.bincount(planted.item_groups).tolist() == [100] * 5
    assert planted.items.categories == tuple(
        (f"group-{group}",) for group in planted.item_groups.tolist()
    )
    # Every user has events, and the mean is close to what was asked for.
    assert set(np.unique(planted.events.user_ids).tolist()) == set(planted.user_ids.tolist())
    assert 28 < len(planted.events) / 2000 < 32


def test_users_mostly_pick_their_own_group(planted: PlantedDataset) -> None:
    cols = _event_cols(planted)
    users = planted.group_of_users(planted.events.user_ids)
    share = (planted.item_groups[cols] == users).mean()
    assert 0.83 < share < 0.87


def test_popularity_is_skewed_within_groups(planted: PlantedDataset) -> None:
    counts = np.sort(np.bincount(_event_cols(planted), minlength=500))[::-1]
    assert counts[:50].sum() > 0.3 * counts.sum()  # top 10% of items
    uniform = planted_dataset(2000, 500, 5, 30, seed=11, popularity_exponent=0.0)
    flat = np.sort(np.bincount(_event_cols(uniform), minlength=500))[::-1]
    assert flat[:50].sum() < 0.15 * flat.sum()


def test_events_fall_between_creation_and_now(planted: PlantedDataset) -> None:
    cols = _event_cols(planted)
    times = planted.events.timestamps
    assert planted.now == DEFAULT_NOW
    assert (times <= planted.now).all()
    assert (times >= planted.now - 60 * SECONDS_PER_DAY).all()
    assert (times >= planted.items.created[cols]).all()
    assert (planted.items.created >= planted.now - 365 * SECONDS_PER_DAY).all()


def test_texts_use_their_groups_vocabulary(planted: PlantedDataset) -> None:
    vocabularies = [set(group_vocabulary(group)) for group in range(5)]
    for text, group in zip(planted.item_texts[:100], planted.item_groups[:100], strict=True):
        words = set(text.lower().replace(".", " ").split())
        assert words & vocabularies[group]
        assert not any(words & vocabularies[other] for other in range(5) if other != group)


def test_same_seed_same_data_other_seed_other_data() -> None:
    first = planted_dataset(50, 30, 3, 5, seed=2)
    again = planted_dataset(50, 30, 3, 5, seed=2)
    other = planted_dataset(50, 30, 3, 5, seed=3)
    np.testing.assert_array_equal(first.events.item_ids, again.events.item_ids)
    np.testing.assert_array_equal(first.events.timestamps, again.events.timestamps)
    assert first.item_texts == again.item_texts
    assert not np.array_equal(first.item_groups, other.item_groups)


def test_item_vectors_separate_the_groups(planted: PlantedDataset) -> None:
    vectors = planted_item_vectors(planted, dim=16)
    assert vectors.shape == (500, 16)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    similarity = vectors @ vectors.T
    same = planted.item_groups[:, None] == planted.item_groups[None, :]
    assert similarity[same].mean() > similarity[~same].mean() + 0.3


def test_builds_a_matrix_with_every_user_and_item(planted: PlantedDataset) -> None:
    matrix = InteractionMatrix.build(planted.events, planted.items, now=planted.now)
    assert matrix.n_users == 2000
    assert matrix.n_items == 500
    np.testing.assert_array_equal(matrix.user_ids, planted.user_ids)


def test_refuses_impossible_shapes() -> None:
    with pytest.raises(ValueError, match="n_groups"):
        planted_dataset(10, 3, 5, 2)
