"""Benchmark datasets: tenants with large catalogues and their vectors, loaded fast and reused.

Import this module before anything of Django: it points RECSYS_DATA_DIR at the benchmarks' own
data folder (unless set) and sets Django up.

    tenants = retrieval_dataset(items=100_000, tenants=2, reuse=True)

Each benchmark tenant (`bench-t0`, `bench-t1`, ...) gets:
- items (`load_items`): `sku-000000`... written with one COPY, text from the demo shop's grammar;
- vectors (`load_item_vectors`): written straight into the tenant's embedding space without
  running the encoder (encoding 200,000 texts with MiniLM takes ~25 min on 2 cores), then the
  space's HNSW index is built once over all of them (`build_space_index`).
Users and interactions get functions of their own next to these when a benchmark needs them.

The vectors. Uniform random vectors would make approximate search unrealistically hard (no
structure, every distance alike) and well-separated blobs trivially easy. Instead: C = items / 20
distinct product texts from the demo catalogue grammar are encoded with the real encoder
(all-MiniLM-L6-v2, the tenant's active encoder settings; cached on disk) and serve as cluster
centres; every item is a centre (drawn uniformly, so cluster sizes vary, Poisson around 20) plus
isotropic Gaussian noise of norm s, s ~ U(0.3, 0.9) per item, normalised. A centre's items are
its product's variants: same description, the title with a variant label. Measured on 500 items
at 100,000 (and alike at 20,000): nearest neighbour cosine 0.82 on average, 10th neighbour 0.73
(10th percentile 0.65), 96% of the top 10 share the query's centre; the centres' own nearest
neighbour is at 0.83, as generated shop texts are alike. Item content hashes are the real ones
of their text and the vectors carry the same hash, so the encoder's sweep finds nothing to
(re-)encode.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recsys_platform.settings")
os.environ.setdefault("RECSYS_DATA_DIR", str(ROOT / ".data-bench"))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from psycopg.types.json import Jsonb  # noqa: E402

from recommender import vectorstore  # noqa: E402
from recommender.demo.catalog import generate_items  # noqa: E402
from recommender.engine.config_schema import render_template  # noqa: E402
from recommender.models.vectors import EmbeddingSpace  # noqa: E402
from recommender.services.config import active_config  # noqa: E402
from recommender.services.encoding.encoders import encoder_for, encoder_settings  # noqa: E402
from recommender.services.encoding.spaces import space_activate, space_identity, target_space  # noqa: E402
from recommender.services.ingest.rows import item_content_hash  # noqa: E402
from tenants.models import ApiKey, Tenant  # noqa: E402
from tenants.services import api_key_create, tenant_get_or_create  # noqa: E402

ITEMS_PER_CENTRE = 20
MIN_CENTRES = 500
NOISE_RANGE = (0.3, 0.9)
UNAVAILABLE_SHARE = 0.03
VECTOR_CHUNK = 5_000
INDEX_MAINTENANCE_WORK_MEM = "1GB"
KEY_NAME = "benchmark"
VARIANTS = (
    "Black", "White", "Navy", "Grey", "Sand", "Olive", "Red", "Blue", "Small", "Medium",
    "Large", "XL", "2-Pack", "Bundle", "Gift Edition", "Travel Size", "Refill", "Limited Edition",
    "2025 Model", "Starter Kit",
)  # fmt: skip

Log = Callable[[str], None]


def _log(message: str) -> None:
    print(f"[data] {message}", flush=True)


@dataclass
class BenchTenant:
    """A loaded benchmark tenant: its row, a fresh API key (all scopes) and its active space."""

    tenant: Tenant
    api_key: str
    space: EmbeddingSpace
    items: int


def tenant_slug(index: int) -> str:
    return f"bench-t{index}"


def data_dir() -> Path:
    return Path(settings.RECSYS_DATA_DIR)


# --------------------------------------------------------------------------- tenants and keys


def fresh_api_key(tenant: Tenant) -> str:
    """A new key with every scope; earlier benchmark keys of the tenant are deleted (a secret is
    shown only once, so a reused tenant needs a new one per run)."""
    ApiKey.objects.filter(tenant=tenant, name=KEY_NAME).delete()
    _, raw_key = api_key_create(tenant=tenant, name=KEY_NAME)
    return raw_key


def reset_tenant_catalogue(tenant: Tenant) -> None:
    """Delete a benchmark tenant's spaces, vectors, events, users and items with set-based SQL
    (the ORM's emulated cascade would load 100,000s of rows); small rows go with the tenant.
    Trained versions and served lists go first: they point at spaces, users and items."""
    reset_trained(tenant)
    for space in EmbeddingSpace.objects.for_tenant(tenant):
        vectorstore.drop_space(space)
        space.delete()
    with connection.cursor() as cursor:
        for table in ("recommender_interaction", "recommender_enduser", "recommender_item"):
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])


def reset_trained(tenant: Tenant) -> None:
    """Delete a tenant's model versions with their artifacts, and its served lists."""
    with connection.cursor() as cursor:
        for table in (
            "recommender_itemneighbours",
            "recommender_itemranking",
            "recommender_useritems",
            "recommender_rankermodel",
        ):
            cursor.execute(
                f"DELETE FROM {table} WHERE version_id IN"
                " (SELECT id FROM recommender_modelversion WHERE tenant_id = %s)",
                [tenant.pk],
            )
        for table in ("recommender_servedlist", "recommender_modelversion"):
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])


# --------------------------------------------------------------------------- items


def centre_products(count: int, seed: int = 101) -> list[dict[str, Any]]:
    """`count` distinct products of the demo shop's grammar (title, description, categories)."""
    return [dict(item) for item in generate_items(count, seed=seed)]


def centre_count(items: int) -> int:
    return max(MIN_CENTRES, items // ITEMS_PER_CENTRE)


def _variant_title(product: dict[str, Any], variant: int) -> str:
    return f"{product['title']} ({VARIANTS[variant % len(VARIANTS)]})"


def item_plan(
    items: int, centres: int, tenant_index: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """Per item: its centre, its noise norm and whether it is available (deterministic)."""
    rng = np.random.default_rng(10_000 + tenant_index)
    assignment = rng.integers(0, centres, items)
    noise = rng.uniform(*NOISE_RANGE, items).astype(np.float32)
    available = rng.random(items) >= UNAVAILABLE_SHARE
    return assignment, noise, available


def load_items(
    tenant: Tenant,
    products: list[dict[str, Any]],
    assignment: npt.NDArray[np.int64],
    available: npt.NDArray[np.bool_],
) -> list[str]:
    """COPY one item per entry of `assignment` (`sku-000000`, ...) into the tenant's catalogue.

    Returns the items' content hashes in order: the platform's own `item_content_hash`, so
    their vectors can carry the same hash. (COPY rather than `items_upsert_batch`: the service
    would also queue an encode job per batch, which a benchmark must not leave behind.)
    """
    now = datetime.datetime.now(datetime.UTC)
    hashes: list[str] = []
    connection.ensure_connection()
    raw = connection.connection
    with (
        transaction.atomic(),
        raw.cursor() as cursor,
        cursor.copy(
            "COPY recommender_item (tenant_id, external_id, title, description, categories,"
            " attributes, available, content_hash, created_at, updated_at) FROM STDIN"
        ) as copy,
    ):
        for index, centre in enumerate(assignment.tolist()):
            product = products[centre]
            title = _variant_title(product, index)
            categories = [str(c) for c in product["categories"]]
            content_hash = item_content_hash(title, str(product["description"]), categories)
            hashes.append(content_hash)
            attributes = {**product["attributes"], "variant": VARIANTS[index % len(VARIANTS)]}
            copy.write_row(
                (
                    tenant.pk,
                    f"sku-{index:06d}",
                    title,
                    product["description"],
                    categories,
                    Jsonb(attributes),
                    bool(available[index]),
                    content_hash,
                    now,
                    now,
                )
            )
    return hashes


def item_ids(tenant: Tenant) -> list[int]:
    """Primary keys of the tenant's items in `sku-NNNNNN` order."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM recommender_item WHERE tenant_id = %s ORDER BY external_id",
            [tenant.pk],
        )
        return [int(row[0]) for row in cursor.fetchall()]


# --------------------------------------------------------------------------- vectors


def encoder_config(tenant: Tenant) -> dict[str, Any]:
    return dict(active_config(tenant)["encoder"])


def centre_vectors(
    products: list[dict[str, Any]], config: dict[str, Any], log: Log = _log
) -> npt.NDArray[np.float32]:
    """The products' real embeddings with the tenant's encoder (cached under the data folder)."""
    texts = [render_template(config["item_template"], product) for product in products]
    key = hashlib.sha256(
        json.dumps([space_identity(config), texts], sort_keys=True).encode()
    ).hexdigest()[:16]
    cache = data_dir() / "bench-cache" / f"centres-{len(texts)}-{key}.npy"
    if cache.exists():
        return np.load(cache)
    started = time.perf_counter()
    log(f"encoding {len(texts):,} centre texts with {config['model']} (cached afterwards)...")
    vectors = encoder_for(encoder_settings(config)).encode(texts)
    log(f"encoded in {time.perf_counter() - started:.0f} s")
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, vectors)
    return vectors


def item_vectors(
    centres: npt.NDArray[np.float32],
    assignment: npt.NDArray[np.int64],
    noise: npt.NDArray[np.float32],
    seed: int,
) -> npt.NDArray[np.float32]:
    """centre + Gaussian noise of norm ~`noise` per item, normalised (see the module doc)."""
    rng = np.random.default_rng(seed)
    dim = centres.shape[1]
    out = np.empty((len(assignment), dim), dtype=np.float32)
    for start in range(0, len(assignment), 10_000):
        stop = min(start + 10_000, len(assignment))
        block = rng.standard_normal((stop - start, dim), dtype=np.float32)
        block *= (noise[start:stop] / np.sqrt(dim))[:, None]
        block += centres[assignment[start:stop]]
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:stop] = block
    return out


def benchmark_space(tenant: Tenant, config: dict[str, Any], dimension: int) -> EmbeddingSpace:
    """The tenant's space for its active encoder settings (created and activated if needed)."""
    space = target_space(tenant_id=tenant.pk, encoder_config=config, dimension=dimension)
    if space.status != EmbeddingSpace.Status.ACTIVE:
        space_activate(space=space)
    return space


def load_item_vectors(
    space: EmbeddingSpace,
    ids: list[int],
    hashes: list[str],
    vectors: npt.NDArray[np.float32],
    log: Log = _log,
) -> None:
    """Write vectors in chunks with the platform's own upsert, with the space's index dropped
    (rebuilt once by `build_space_index`: far faster than growing the graph row by row)."""
    vectorstore.drop_space(space)  # its index, and any vectors of an earlier partial load
    vectorstore.space_create(space, attach=False)  # attached with its index by build_space_index
    started = time.perf_counter()
    for start in range(0, len(ids), VECTOR_CHUNK):
        stop = start + VECTOR_CHUNK
        with transaction.atomic():
            vectorstore.upsert_item_vectors(
                space, ids[start:stop], hashes[start:stop], vectors[start:stop]
            )
    log(f"  {len(ids):,} vectors written in {time.perf_counter() - started:.0f} s")


def build_space_index(space: EmbeddingSpace, log: Log = _log) -> float:
    """Build the space's HNSW index with enough maintenance memory for the graph; seconds taken."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"SET maintenance_work_mem = '{INDEX_MAINTENANCE_WORK_MEM}'")
        try:
            vectorstore.ensure_space_index(space)
        finally:
            cursor.execute("RESET maintenance_work_mem")
        cursor.execute("ANALYZE recommender_item")
        cursor.execute("ANALYZE recommender_itemvector")
    elapsed = time.perf_counter() - started
    log(f"  HNSW index {space.index_name} built in {elapsed:.0f} s")
    return elapsed


# --------------------------------------------------------------------------- the whole dataset


def _is_loaded(tenant: Tenant, items: int, config: dict[str, Any]) -> EmbeddingSpace | None:
    """The tenant's active space when catalogue, vectors and index are complete for `config`."""
    space = (
        EmbeddingSpace.objects.for_tenant(tenant)
        .filter(status=EmbeddingSpace.Status.ACTIVE, purpose=EmbeddingSpace.Purpose.CONTENT)
        .first()
    )
    if space is None or space.settings != space_identity(config):
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM recommender_item WHERE tenant_id = %s", [tenant.pk])
        item_count = int(cursor.fetchone()[0])
    state = vectorstore.index_state(space)
    if item_count != items or vectorstore.vector_counts(space)["items"] != items:
        return None
    if not (state["exists"] and state["valid"]) or vectorstore.count_items_to_encode(space):
        return None
    return space


def retrieval_dataset(
    *, items: int, tenants: int, reuse: bool, log: Log = _log
) -> tuple[list[BenchTenant], dict[str, Any]]:
    """`tenants` tenants of `items` items each, with vectors and built indexes.

    With `reuse`, a tenant already holding exactly this catalogue is kept as it is. Returns the
    tenants and a description of the dataset (with load timings) for the results file.
    """
    call_command("migrate", verbosity=0)
    centres_n = centre_count(items)
    products = centre_products(centres_n)
    description: dict[str, Any] = {
        "tenants": tenants,
        "items_per_tenant": items,
        "centres": centres_n,
        "noise_norm_range": list(NOISE_RANGE),
        "unavailable_share": UNAVAILABLE_SHARE,
        "vectors": (
            f"{centres_n:,} distinct demo-shop product texts encoded with the tenant's encoder "
            f"are cluster centres; each item = a random centre + isotropic Gaussian noise of norm "
            f"U{NOISE_RANGE}, normalised; {UNAVAILABLE_SHARE:.0%} of items unavailable"
        ),
        "load": {},
    }
    loaded: list[BenchTenant] = []
    for index in range(tenants):
        tenant, _ = tenant_get_or_create(slug=tenant_slug(index))
        config = encoder_config(tenant)
        space = _is_loaded(tenant, items, config) if reuse else None
        if space is not None:
            log(f"{tenant.slug}: reusing {items:,} items, vectors and index")
            description["load"][tenant.slug] = "reused"
        else:
            log(f"{tenant.slug}: loading {items:,} items and vectors")
            timings: dict[str, float] = {}
            started = time.perf_counter()
            reset_tenant_catalogue(tenant)
            assignment, noise, available = item_plan(items, centres_n, index)
            hashes = load_items(tenant, products, assignment, available)
            timings["items_copy_s"] = round(time.perf_counter() - started, 1)
            log(f"  {items:,} items copied in {timings['items_copy_s']:.0f} s")
            centres = centre_vectors(products, config, log)
            space = benchmark_space(tenant, config, int(centres.shape[1]))
            vectors = item_vectors(centres, assignment, noise, seed=20_000 + index)
            started = time.perf_counter()
            load_item_vectors(space, item_ids(tenant), hashes, vectors, log)
            timings["vectors_upsert_s"] = round(time.perf_counter() - started, 1)
            timings["hnsw_build_s"] = round(build_space_index(space, log), 1)
            description["load"][tenant.slug] = timings
            if vectorstore.count_items_to_encode(space):
                raise SystemExit(f"{tenant.slug}: items left to encode after loading")
        loaded.append(BenchTenant(tenant, fresh_api_key(tenant), space, items))
    return loaded, description
