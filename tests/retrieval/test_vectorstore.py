"""pgvector neighbours against exact brute force: filters, the per-space index, tenant separation.

Spaces are built directly (no encoder) from random unit vectors of 16 dimensions, so the right
answer is a numpy argsort away. For a few hundred rows the planner rightly prefers an exact scan
to the HNSW index (with ef_search at 100 the index reads a good share of the space anyway), so
the index tests share two committed 2000-row spaces with fresh statistics (what autovacuum gathers
after a bulk load), built once for the module, and read each plan to be sure the index answered.
Each test's own changes (availability) are rolled back with its transaction.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from django.db import connection

from recommender import vectorstore
from recommender.engine.config_schema import validate_config
from recommender.models import Item
from recommender.models.vectors import EmbeddingSpace
from recommender.services.encoding.spaces import target_space
from tenants.models import Tenant

DIM = 16
SMALL = 300
INDEXED = 2000
K = 10

Vectors = npt.NDArray[np.float32]


@dataclass
class Space:
    """A space, its items' pks and their vectors (row i belongs to ids[i])."""

    space: EmbeddingSpace
    ids: list[int]
    vectors: Vectors

    def brute_force(self, query: Vectors, k: int, allowed: set[int] | None = None) -> list[int]:
        """Exact top-k ids by cosine over `allowed` (every item when None)."""
        return [pk for pk, _ in self.scored(query, k, allowed)]

    def scored(
        self, query: Vectors, k: int, allowed: set[int] | None = None
    ) -> list[tuple[int, float]]:
        sims = self.vectors @ (query / np.linalg.norm(query))
        order = np.argsort(-sims, kind="stable")
        kept = [i for i in order if allowed is None or self.ids[i] in allowed]
        return [(self.ids[i], float(sims[i])) for i in kept[:k]]


def unit_rows(rng: np.random.Generator, n: int) -> Vectors:
    rows = rng.standard_normal((n, DIM))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def build_space(tenant: Tenant, vectors: Vectors) -> Space:
    """A space of `tenant` with one item per row of `vectors`, statistics up to date."""
    items = Item.objects.unscoped().bulk_create(
        Item(tenant=tenant, external_id=f"sku-{i}", title=f"t{i}") for i in range(len(vectors))
    )
    ids = [item.pk for item in items]
    space = target_space(
        tenant_id=tenant.pk, encoder_config=validate_config({})["encoder"], dimension=DIM
    )
    vectorstore.upsert_item_vectors(space, ids, ["h"] * len(ids), vectors)
    analyze()
    return Space(space, ids, vectors)


def analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE recommender_itemvector")
        cursor.execute("ANALYZE recommender_item")


def make_unavailable(pks: set[int]) -> None:
    Item.objects.unscoped().filter(pk__in=pks).update(available=False)
    analyze()


def ids_of(neighbours: list[vectorstore.Neighbour]) -> list[int]:
    return [n.item_id for n in neighbours]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(scope="module")
def twin_spaces(django_db_setup: Any, django_db_blocker: Any) -> Iterator[tuple[Space, Space]]:
    """Two tenants' spaces holding the same 2000 vectors under the same external ids, committed."""
    vectors = unit_rows(np.random.default_rng(99), INDEXED)
    with django_db_blocker.unblock():
        tenants = [Tenant.objects.create(slug=f"vectors-{side}", name=side) for side in "ab"]
        spaces = (build_space(tenants[0], vectors), build_space(tenants[1], vectors))
    yield spaces
    with django_db_blocker.unblock():
        for data in spaces:
            vectorstore.drop_space(data.space)
        Tenant.objects.filter(pk__in=[t.pk for t in tenants]).delete()


@pytest.fixture
def indexed(db: Any, twin_spaces: tuple[Space, Space]) -> Space:
    return twin_spaces[0]


def test_the_first_space_is_active_with_its_own_partition_and_index(
    tenant: Tenant, rng: np.random.Generator
) -> None:
    data = build_space(tenant, unit_rows(rng, SMALL))
    space = data.space
    assert space.status == EmbeddingSpace.Status.ACTIVE
    assert space.dimension == DIM
    assert vectorstore.index_state(space)["exists"]
    assert vectorstore.index_state(space)["valid"]
    assert vectorstore.vector_counts(space) == {"items": SMALL, "users": 0}
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [space.index_name])
        (definition,) = cursor.fetchone()
    assert "USING hnsw" in definition
    assert "vector_cosine_ops" in definition
    assert f"vector({DIM})" in definition
    # On the space's own partition, which holds its rows only: no partial predicate needed.
    assert f" ON public.recommender_itemvector_p{space.pk} " in definition
    assert "WHERE" not in definition
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class c WHERE c.relname = %s",
            [f"recommender_itemvector_p{space.pk}"],
        )
        (bound,) = cursor.fetchone()
    assert bound == f"FOR VALUES IN ('{space.pk}')"


def check_against_brute_force(data: Space, queries: Vectors, *, planned: bool) -> None:
    if planned:
        plan = vectorstore.explain_nearest(data.space, queries[0], k=K)
        assert data.space.index_name in plan, plan
    for query in queries:
        expected = data.scored(query, K)
        got = vectorstore.nearest_items(data.space, query, k=K)
        assert ids_of(got) == [pk for pk, _ in expected]
        assert [n.similarity for n in got] == pytest.approx([s for _, s in expected], abs=1e-5)
        exact = vectorstore.exact_nearest_items(data.space, query, k=K)
        assert ids_of(exact) == ids_of(got)


def test_a_small_space_answers_exactly(tenant: Tenant, rng: np.random.Generator) -> None:
    data = build_space(tenant, unit_rows(rng, SMALL))
    check_against_brute_force(data, unit_rows(rng, 8), planned=False)


def test_the_index_answers_exactly_what_brute_force_finds(
    indexed: Space, rng: np.random.Generator
) -> None:
    check_against_brute_force(indexed, unit_rows(rng, 8), planned=True)


def test_a_stored_vector_finds_itself_first(indexed: Space) -> None:
    for row in (0, 17, INDEXED - 1):
        got = vectorstore.nearest_items(indexed.space, indexed.vectors[row], k=3)
        assert got[0].item_id == indexed.ids[row]
        assert got[0].similarity == pytest.approx(1.0, abs=1e-5)
        assert got[0].similarity > got[1].similarity >= got[2].similarity


def test_filters_keep_the_count_and_match_brute_force_over_the_allowed_items(
    indexed: Space, rng: np.random.Generator
) -> None:
    ids = indexed.ids
    unavailable = {int(i) for i in rng.choice(ids, size=INDEXED // 3, replace=False)}
    make_unavailable(unavailable)
    for query in unit_rows(rng, 6):
        # Exclude the best five allowed items (what a post-filter would lose) and a few more.
        allowed = set(ids) - unavailable
        exclude = [
            *indexed.brute_force(query, 5, allowed),
            *(int(i) for i in rng.choice(ids, size=20, replace=False)),
        ]
        allowed -= set(exclude)
        plan = vectorstore.explain_nearest(indexed.space, query, k=K, exclude_item_ids=exclude)
        assert indexed.space.index_name in plan, plan

        got = vectorstore.nearest_items(indexed.space, query, k=K, exclude_item_ids=exclude)
        assert len(got) == K
        assert ids_of(got) == indexed.brute_force(query, K, allowed)
        assert not set(ids_of(got)) & (unavailable | set(exclude))
        exact = vectorstore.exact_nearest_items(indexed.space, query, k=K, exclude_item_ids=exclude)
        assert ids_of(exact) == ids_of(got)

        # Without the availability filter, unavailable items compete again.
        unfiltered = vectorstore.nearest_items(
            indexed.space, query, k=K, exclude_item_ids=exclude, only_available=False
        )
        assert ids_of(unfiltered) == indexed.brute_force(query, K, set(ids) - set(exclude))
        assert set(ids_of(unfiltered)) & unavailable


def test_filters_that_reject_the_whole_first_index_pass_still_fill_the_count(
    indexed: Space, rng: np.random.Generator
) -> None:
    """The 300 closest items are filtered out: one pass of ef_search=100 candidates finds nothing,
    so only pgvector's iterative scan can return the 10 asked for."""
    ids = indexed.ids
    make_unavailable({int(i) for i in rng.choice(ids, size=INDEXED // 3, replace=False)})
    allowed = {item.pk for item in Item.objects.unscoped().filter(pk__in=ids, available=True)}
    for query in unit_rows(rng, 3):
        closest = indexed.brute_force(query, 300)
        exclude = [pk for pk in closest if pk in allowed]
        plan = vectorstore.explain_nearest(indexed.space, query, k=K, exclude_item_ids=exclude)
        assert indexed.space.index_name in plan, plan

        got = vectorstore.nearest_items(indexed.space, query, k=K, exclude_item_ids=exclude)
        assert len(got) == K
        assert ids_of(got) == indexed.brute_force(query, K, allowed - set(exclude))


def test_asking_for_more_than_is_allowed_returns_every_allowed_item_once(
    indexed: Space, rng: np.random.Generator
) -> None:
    ids = indexed.ids
    unavailable = set(ids[: INDEXED - 40])
    make_unavailable(unavailable)
    exclude = ids[-5:]
    query = unit_rows(rng, 1)[0]
    got = vectorstore.nearest_items(indexed.space, query, k=100, exclude_item_ids=exclude)
    assert sorted(ids_of(got)) == sorted(set(ids) - unavailable - set(exclude))
    assert ids_of(got) == indexed.brute_force(query, 100, set(ids) - unavailable - set(exclude))


def test_two_tenants_with_identical_vectors_never_see_each_others_items(
    db: Any, twin_spaces: tuple[Space, Space]
) -> None:
    a, b = twin_spaces
    assert a.space.tenant_id != b.space.tenant_id
    assert a.space.index_name != b.space.index_name
    assert not set(a.ids) & set(b.ids)

    for row in (0, 777, INDEXED - 1):
        query = a.vectors[row]
        for own, foreign in ((a, b), (b, a)):
            plan = vectorstore.explain_nearest(own.space, query, k=K)
            assert own.space.index_name in plan, plan
            assert foreign.space.index_name not in plan
            # Through the index (k=10) and by the planner's exact scans (k=100, and exact).
            for found in (
                vectorstore.nearest_items(own.space, query, k=K, only_available=False),
                vectorstore.nearest_items(own.space, query, k=100, only_available=False),
                vectorstore.exact_nearest_items(own.space, query, k=100, only_available=False),
            ):
                # Each of B's twins ties with A's item: a leak would show up right beside it.
                assert ids_of(found) == own.brute_force(query, len(found))
                assert len(found) in (K, 100)
                assert not set(ids_of(found)) & set(foreign.ids)
                assert found[0].item_id == own.ids[row]
