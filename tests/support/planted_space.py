"""A planted dataset's item vectors stored as a tenant's active content space, without running an
encoder (the generator's texts are word lists: its vectors already say what they mean). Used by
the serving tests and benchmarks/quality.py."""

from collections.abc import Sequence

from django.utils import timezone

from recommender import vectorstore
from recommender.models import EmbeddingSpace
from recommender.models.vectors import settings_digest
from tenants.models import Tenant
from tests.support.planted import PlantedDataset, planted_item_vectors


def store_planted_vectors(
    tenant: Tenant,
    dataset: PlantedDataset,
    item_pks: Sequence[int],
    *,
    dim: int = 32,
    model: str = "planted-test-vectors",
) -> EmbeddingSpace:
    """Store `dataset`'s group-clustered vectors for the items `item_pks` (aligned with
    `dataset.items.ids`) in a new active space with its index."""
    identity = {"model": model, "dimension": dim}
    space = EmbeddingSpace.objects.for_tenant(tenant).create(
        tenant=tenant,
        settings=identity,
        settings_hash=settings_digest(identity),
        dimension=dim,
        status=EmbeddingSpace.Status.ACTIVE,
        activated_at=timezone.now(),
    )
    vectorstore.ensure_space_index(space)
    vectors = planted_item_vectors(dataset, dim=dim)
    vectorstore.upsert_item_vectors(space, list(item_pks), ["x"] * len(item_pks), vectors)
    return space
