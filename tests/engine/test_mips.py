"""The MIPS transform: cosine order over transformed factors is the inner-product order."""

import numpy as np

from recommender.engine.sources.als import mips_items, mips_query


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
