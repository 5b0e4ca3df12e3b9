"""Shared fixtures: tenants, API clients with real keys, and a real Celery worker."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from recommender.services.serving import side_by_side
from tenants.models import ALL_SCOPES, Tenant
from tenants.ratelimit import clear_state
from tenants.scoping import tenant_scope
from tenants.services import api_key_create


@pytest.fixture(scope="session", autouse=True)
def side_by_side_connections_closed(django_db_setup: Any) -> Iterator[None]:
    """Serving's reader threads keep connections to the test database; close them before it is
    dropped."""
    yield
    side_by_side.shutdown()


@pytest.fixture(scope="session", autouse=True)
def rate_limit_state_cleared() -> None:
    """Test tenant ids restart each run while Redis keeps its buckets: start with none."""
    clear_state()


@pytest.fixture
def tenant(db: Any) -> Tenant:
    return Tenant.objects.create(slug="acme", name="Acme")


@pytest.fixture
def other_tenant(db: Any) -> Tenant:
    return Tenant.objects.create(slug="globex", name="Globex")


@pytest.fixture
def scoped(tenant: Tenant) -> Iterator[Tenant]:
    """Run the test body inside `tenant`'s scope (as a request or task would)."""
    with tenant_scope(tenant):
        yield tenant


@pytest.fixture
def make_client(db: Any) -> Callable[..., APIClient]:
    def make(tenant: Tenant, scopes: tuple[str, ...] = ALL_SCOPES) -> APIClient:
        _, raw_key = api_key_create(tenant=tenant, scopes=scopes)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        return client

    return make


@pytest.fixture
def api(make_client: Callable[..., APIClient], tenant: Tenant) -> APIClient:
    """An all-scope client of `tenant`."""
    return make_client(tenant)


@pytest.fixture
def other_api(make_client: Callable[..., APIClient], other_tenant: Tenant) -> APIClient:
    return make_client(other_tenant)


@pytest.fixture
def celery_worker(transactional_db: Any) -> Iterator[Any]:
    """A real Celery worker (thread pool) consuming both queues of the real broker."""
    from celery.contrib.testing.worker import start_worker

    from recsys_platform.celery import app

    app.control.purge()
    with start_worker(
        app, pool="threads", concurrency=1, perform_ping_check=False, shutdown_timeout=30
    ) as worker:
        yield worker


TINY_WORDS = [
    "smart",
    "watch",
    "heart",
    "rate",
    "gps",
    "running",
    "shoe",
    "shoes",
    "trail",
    "kettle",
    "skillet",
    "cast",
    "iron",
    "pan",
    "coffee",
    "tea",
    "book",
    "novel",
    "yoga",
    "mat",
    "tent",
    "camping",
    "bike",
    "helmet",
    "cream",
    "serum",
    "toy",
    "puzzle",
    "garden",
    "seed",
    "item",
    "product",
    "shared",
    "only",
    "a",
    "b",
    "user",
]


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A tiny BERT saved like a hub model, so the real `from_pretrained` path loads it."""
    import torch
    from transformers import (  # type: ignore[attr-defined]
        BertConfig,
        BertModel,
        BertTokenizerFast,
    )

    folder = tmp_path_factory.mktemp("tiny-bert-model")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *dict.fromkeys(TINY_WORDS)]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    # transformers 5 takes `vocab=` (it ignores `vocab_file=`, leaving every word [UNK]).
    BertTokenizerFast(vocab=str(folder / "vocab.txt")).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(folder)
    return str(folder)


@pytest.fixture
def use_tiny_encoder(tiny_model_dir: str) -> Callable[[Tenant], None]:
    """Point a tenant's configuration at the tiny model (CPU, fp32)."""
    from recommender.services.config import config_save

    def configure(tenant: Tenant) -> None:
        config_save(
            tenant=tenant,
            data={"encoder": {"model": tiny_model_dir, "device": "cpu", "max_length": 64}},
        )

    return configure
