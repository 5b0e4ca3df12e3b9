"""The demo tenant: a shop catalog, users and events, loaded once through the ingest services."""

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model

from recommender.demo.catalog import generate_interactions, generate_items, generate_users
from recommender.models import Item
from recommender.services.ingest.batches import (
    interactions_store_batch,
    items_upsert_batch,
    users_upsert_batch,
)
from tenants.models import ApiKey, Tenant
from tenants.services import api_key_authenticate, api_key_create, tenant_get_or_create

DEMO_SLUG = "demo"
ADMIN_USERNAME = "admin"


@dataclass
class DemoSetup:
    tenant: Tenant
    loaded: dict[str, int]
    admin_username: str
    admin_password: str
    api_key: str


def _batches(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    size = settings.RECSYS_MAX_BATCH_ROWS
    return [rows[start : start + size] for start in range(0, len(rows), size)]


def _load(tenant: Tenant, progress: Callable[[str], None]) -> dict[str, int]:
    items = generate_items()
    users = generate_users()
    events = generate_interactions(items, users)
    for batch in _batches(items):
        items_upsert_batch(tenant=tenant, payload={"items": batch})
    for batch in _batches(users):
        users_upsert_batch(tenant=tenant, payload={"users": batch})
    done = 0
    for batch in _batches(events):
        interactions_store_batch(tenant=tenant, payload={"interactions": batch})
        done += len(batch)
        progress(f"events {done}/{len(events)}")
    return {"items": len(items), "users": len(users), "interactions": len(events)}


def _credentials_file() -> Path:
    return Path(settings.RECSYS_DATA_DIR) / "demo_credentials.json"


def _stored_credentials() -> dict[str, str]:
    try:
        return dict(json.loads(_credentials_file().read_text()))
    except (FileNotFoundError, ValueError):
        return {}


def _store_credentials(values: dict[str, str]) -> None:
    path = _credentials_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values, indent=2))
    path.chmod(0o600)  # holds a live API key and the admin password


def demo_setup(*, progress: Callable[[str], None] = lambda _: None) -> DemoSetup:
    """Create the demo tenant and its data once; ensure an admin login and a working API key.

    Re-running loads nothing new and reuses the stored key and password (kept in the data folder,
    readable by its owner only) while they still work.
    """
    tenant, _ = tenant_get_or_create(slug=DEMO_SLUG, name="Demo Shop")
    loaded: dict[str, int] = {}
    if not Item.objects.for_tenant(tenant).exists():
        loaded = _load(tenant, progress)

    stored = _stored_credentials()
    password = stored.get("admin_password") or secrets.token_urlsafe(12)
    user_model = get_user_model()
    admin_user = user_model.objects.filter(username=ADMIN_USERNAME).first()
    if admin_user is None:
        user_model.objects.create_superuser(ADMIN_USERNAME, "admin@localhost", password)
    elif not admin_user.check_password(password):
        # The admin exists with a password we did not store (set by hand): do not reset it.
        password = "(unchanged: set by hand)"  # noqa: S105  (a message, not a secret)

    raw_key = stored.get("api_key", "")
    key: ApiKey | None = api_key_authenticate(raw_key=raw_key) if raw_key else None
    if key is None or key.tenant_id != tenant.pk:
        _, raw_key = api_key_create(tenant=tenant, name="demo")
    _store_credentials({"admin_password": password, "api_key": raw_key})
    return DemoSetup(
        tenant=tenant,
        loaded=loaded,
        admin_username=ADMIN_USERNAME,
        admin_password=password,
        api_key=raw_key,
    )
