"""The MIPS transform: cosine order over transformed factors is the inner-product order."""

import numpy as np

from recommender.engine.sources.als import ALSSource, mips_items, mips_query


def test_cosine_over_transformed_factors_ranks_as_the_inner_product() -> None:
    rng = np.random.default_rng(0)
    items = rng.standard_normal((500, 16)) * rng.uniform(0.1, 3.0, (500, 1))
    transformed = mips_items(items)
    norms = np.linalg.norm(transformed, axis=1)
    assert np.allclose(norms, norms.max(), rtol=1e-5)  # every item has the same norm
    for _ in range(10):
        user = rng.standard_normal(16)
        query = mips_query(user)
        assert query[-1] == 0.0
        cosine = (transformed @ query) / (norms * np.linalg.norm(query))
        inner = items @ user
        assert list(np.argsort(-cosine)[:50]) == list(np.argsort(-inner)[:50])
        assert np.allclose(transformed @ query, inner, atol=1e-4)


def _fitted_als_like(users: np.ndarray, items: np.ndarray) -> ALSSource:
    """An ALSSource holding given factors (top_items reads nothing else)."""
    source = ALSSource()
    source._user_factors = users.astype(np.float32)
    source._item_factors = items.astype(np.float32)
    return source


def test_each_users_top_items_are_the_brute_force_top_scored_as_the_index_scores_them() -> None:
    rng = np.random.default_rng(1)
    items = rng.standard_normal((300, 8)) * rng.uniform(0.1, 3.0, (300, 1))
    items[[7, 42]] = 0.0  # never interacted with: no factor, never listed
    users = rng.standard_normal((25, 8))
    cols, scores = _fitted_als_like(users, items).top_items(20, batch=7)
    assert cols.shape == scores.shape == (25, 20)
    transformed = mips_items(items)
    for row, user in enumerate(users):
        inner = items @ user
        inner[[7, 42]] = -np.inf
        assert list(cols[row]) == list(np.argsort(-inner)[:20])
        query = mips_query(user)
        cosine = (transformed[cols[row]] @ query) / (
            np.linalg.norm(transformed[cols[row]], axis=1) * np.linalg.norm(query)
        )
        assert np.allclose(scores[row], cosine, atol=1e-5)


def test_top_items_lists_shrink_to_the_items_that_have_a_factor() -> None:
    rng = np.random.default_rng(2)
    items = rng.standard_normal((6, 4))
    items[[1, 4]] = 0.0
    cols, scores = _fitted_als_like(rng.standard_normal((3, 4)), items).top_items(10)
    assert cols.shape == (3, 4)
    assert all(sorted(row) == [0, 2, 3, 5] for row in cols.tolist())
    assert (np.diff(scores, axis=1) <= 1e-6).all()  # best first
