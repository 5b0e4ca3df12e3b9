"""Train/serve parity of the ranker's features: a served request's rows equal the rows
training builds for the same user and candidates from the training data (the text features
included: serving reads the vectors from the content space, training from its load)."""

import time

import numpy as np
import pytest

from recommender.engine.filters import parse_filter
from recommender.engine.fusion import fuse
from recommender.engine.ranker import (
    TEXT_FEATURES,
    Group,
    ItemStats,
    ItemVectors,
    UserContext,
    feature_names,
    features,
    fit_ranker,
)
from recommender.engine.sources import enabled_sources
from recommender.services.encoding.spaces import active_space
from recommender.services.serving.candidates import user_candidates
from recommender.services.serving.history import user_history
from recommender.services.serving.ranking import LoadedRanker, serving_features
from recommender.services.serving.state import serving_for_user
from recommender.services.training.data import load_content_vectors, load_events, load_items
from tenants.scoping import tenant_scope
from tests.serving.conftest import Planted

pytestmark = pytest.mark.django_db


def test_served_feature_rows_equal_the_rows_training_builds(planted: Planted) -> None:
    tenant = planted.tenant
    with tenant_scope(tenant):
        user = next(iter(planted.user_group))
        serving, user_pk = serving_for_user(tenant, user)
        assert user_pk is not None
        sources = enabled_sources(serving.config)
        history = user_history(user_id=user_pk, serving=serving, exclude_types=None)
        candidates = user_candidates(
            serving=serving,
            user_id=user_pk,
            history=history,
            pool=40,
            item_filter=parse_filter([]),
            sources=sources,
        )
        fused = fuse(candidates.scores, dict.fromkeys(sources, 1.0))
        # Training's view of the same tenant: its items, statistics and content vectors.
        items = load_items(tenant_id=tenant.pk)
        events = load_events(tenant_id=tenant.pk, interactions=serving.config["interactions"])
        vectors = load_content_vectors(active_space(tenant.pk), items)
        assert vectors is not None
        stats = ItemStats.build(events, items, time.time())
        rng = np.random.default_rng(0)
        width = len(feature_names(sources))
        groups = [
            Group(list(range(10)), rng.random((10, width)).astype(np.float32), labels)
            for labels in (rng.integers(0, 2, 10).astype(np.float32) for _ in range(20))
        ]
        loaded = LoadedRanker(fit_ranker(groups, sources), stats)
        assert loaded.ranker.uses_text
        served = serving_features(serving, loaded, candidates, fused, history)
    recent = history.reading.recent
    context = UserContext(
        recent_items=[item for item, _, _ in recent],
        newest_age_days=min((age for _, _, age in recent), default=0.0),
    )
    trained = features(
        candidates.scores,
        fused,
        sources,
        stats,
        context,
        time.time(),
        ItemVectors(items.ids, vectors),
    )
    names = feature_names(sources)
    text = [names.index(n) for n in TEXT_FEATURES]
    other = [n for n in range(len(names)) if n not in text]
    # The text columns are real similarities here, not the missing marker.
    assert (served[:, text] > -1).any()
    assert np.allclose(served[:, text], trained[:, text], atol=1e-5)
    # Item ages move with the clock between the two calls: compare to a few decimals.
    assert np.allclose(served[:, other], trained[:, other], atol=1e-3)
