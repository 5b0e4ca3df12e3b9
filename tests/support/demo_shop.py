"""A small tenant that looks like the demo shop: the demo catalogue's titles, descriptions and
categories, its users and funnel-shaped events ending now, content vectors clustered by category
(no encoder run) and a trained model version. The browser journeys and their screenshots use it,
so the operator guide shows the pages as an operator of the demo tenant sees them."""

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass

import numpy as np
from django.utils import timezone

from recommender import candidate_store, vectorstore
from recommender.demo.catalog import generate_interactions, generate_items, generate_users
from recommender.models import (
    EmbeddingSpace,
    EndUser,
    ExperimentVariant,
    Interaction,
    Item,
    Job,
    ModelVersion,
    ServedList,
)
from recommender.models.vectors import settings_digest
from recommender.services.config import config_save
from recommender.services.serving import lists
from recommender.services.training.train import train_tenant
from tenants.models import Tenant
from tenants.scoping import tenant_scope

VECTOR_DIM = 16


@dataclass
class DemoShop:
    tenant: Tenant
    version: ModelVersion
    # The user with the most events, and the item with the most: what the journeys open.
    busy_user: str
    busy_item: str


def _direction(label: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(label.encode()).digest()[:4], "little")
    return np.random.default_rng(seed).standard_normal(VECTOR_DIM)


def _category_vectors(items: list[Item]) -> np.ndarray:
    """Item vectors near their department's and sub-category's directions (so content
    neighbours share categories), unit length, float32."""
    rng = np.random.default_rng(7)
    rows = []
    for item in items:
        department, sub = [*item.categories, "", ""][:2]
        vector = 2 * _direction(department) + _direction(sub)
        rows.append(vector + 0.3 * rng.standard_normal(VECTOR_DIM))
    matrix = np.asarray(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def load_demo_shop(
    *, slug: str = "demo", name: str = "Demo Shop", n_items: int = 120, n_users: int = 40
) -> DemoShop:
    tenant = Tenant.objects.create(slug=slug, name=name)
    raw_items = generate_items(n_items)
    items = Item.objects.for_tenant(tenant).bulk_create(
        [
            Item(
                tenant=tenant,
                external_id=str(row["id"]),
                title=str(row["title"]),
                description=str(row["description"]),
                categories=list(row["categories"]),  # type: ignore[call-overload]
                attributes=dict(row["attributes"]),  # type: ignore[call-overload]
                available=bool(row["available"]),
            )
            for row in raw_items
        ]
    )
    raw_users = generate_users(n_users)
    users = EndUser.objects.for_tenant(tenant).bulk_create(
        [
            EndUser(
                tenant=tenant,
                external_id=str(row["id"]),
                attributes=dict(row["attributes"]),  # type: ignore[call-overload]
                profile_text=str(row.get("profile_text", "")),
            )
            for row in raw_users
        ]
    )
    item_pk = {item.external_id: item.pk for item in items}
    user_pk = {user.external_id: user.pk for user in users}
    events = generate_interactions(raw_items, raw_users, per_user_mean=30, now=timezone.now())
    Interaction.objects.for_tenant(tenant).bulk_create(
        [
            Interaction(
                tenant=tenant,
                user_id=user_pk[str(row["user"])],
                item_id=item_pk[str(row["item"])],
                type=str(row["type"]),
                value=float(row["value"]),  # type: ignore[arg-type]
                timestamp=dt.datetime.fromisoformat(str(row["timestamp"])),
                event_id=str(row["event_id"]),
            )
            for row in events
        ]
    )
    identity = {"model": "demo-category-vectors", "dimension": VECTOR_DIM}
    space = EmbeddingSpace.objects.for_tenant(tenant).create(
        tenant=tenant,
        settings=identity,
        settings_hash=settings_digest(identity),
        dimension=VECTOR_DIM,
        status=EmbeddingSpace.Status.ACTIVE,
        activated_at=timezone.now(),
    )
    vectorstore.ensure_space_index(space)
    stored = Item.objects.for_tenant(tenant).order_by("pk")
    vectorstore.upsert_item_vectors(
        space,
        [item.pk for item in stored],
        [item.content_hash for item in stored],
        _category_vectors(list(stored)),
    )
    config_save(
        tenant=tenant,
        data={
            "sources": {"als": {"factors": 8, "iterations": 5}},
            "fusion": {"ranker": "off"},
            "training": {"eval_users": 40, "neighbours": 20, "tuning_budget_s": 0},
        },
        note="demo settings",
    )
    train_tenant(tenant=tenant)
    version = train_tenant(tenant=tenant)  # two versions: the dashboard draws a line of metrics
    _served_history(tenant, version)
    _job_history(tenant)
    counts: dict[str, int] = {}
    busiest_item: dict[str, int] = {}
    for row in events:
        counts[str(row["user"])] = counts.get(str(row["user"]), 0) + 1
        busiest_item[str(row["item"])] = busiest_item.get(str(row["item"]), 0) + 1
    return DemoShop(
        tenant=tenant,
        version=version,
        busy_user=max(counts, key=lambda u: counts[u]),
        busy_item=max(busiest_item, key=lambda i: busiest_item[i]),
    )


def _user_lists(tenant: Tenant) -> dict[int, list[int]]:
    """{user id: the item ids of the list the API would serve them now}."""
    with tenant_scope(tenant):
        users = list(EndUser.objects.for_tenant(tenant).order_by("pk"))
        served = {
            user.pk: lists.recommend_for_user(
                tenant=tenant, user_id=user.external_id, params=[("count", "5")], log=False
            )
            for user in users
        }
    pks = dict(Item.objects.for_tenant(tenant).values_list("external_id", "pk"))
    return {user: [pks[entry["id"]] for entry in body["items"]] for user, body in served.items()}


def _served_history(tenant: Tenant, version: ModelVersion, days: int = 14) -> None:
    """A fortnight of served lists (each user's list once a day) with attributed clicks on a
    sixth of them, a purchase on a quarter of those: the dashboard's traffic and rate charts."""
    today = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    per_user = _user_lists(tenant)
    for day in range(days, 0, -1):
        moment = today - dt.timedelta(days=day)
        made = ServedList.objects.for_tenant(tenant).bulk_create(
            [
                ServedList(
                    tenant=tenant,
                    recommendation_id=uuid.uuid4().hex,
                    endpoint="recommendations",
                    user_id=user,
                    item_ids=shown,
                    model_version=version,
                    config_version=1,
                )
                for user, shown in per_user.items()
                if shown
            ]
        )
        ServedList.objects.for_tenant(tenant).filter(pk__in=[m.pk for m in made]).update(
            created_at=moment
        )
        events = []
        for n, served in enumerate(made):
            kinds = ["click", "purchase"] if (n + day) % 24 == 0 else ["click"]
            if (n + day) % 6:
                continue
            events += [
                Interaction(
                    tenant=tenant,
                    user_id=served.user_id,
                    item_id=served.item_ids[0],
                    type=kind,
                    timestamp=moment + dt.timedelta(minutes=5),
                    recommendation_id=served.recommendation_id,
                )
                for kind in kinds
            ]
        Interaction.objects.for_tenant(tenant).bulk_create(events)


def _job_history(tenant: Tenant) -> None:
    """Last week's jobs: an encoding and a training that succeeded, an import that failed."""
    now = timezone.now()
    for kind, status, age_h, seconds, error in (
        (Job.Kind.ENCODE, Job.Status.SUCCEEDED, 50, 14.2, ""),
        (Job.Kind.IMPORT_INTERACTIONS, Job.Status.FAILED, 30, 1.3, IMPORT_ERROR),
        (Job.Kind.TRAIN, Job.Status.SUCCEEDED, 20, 9.6, ""),
    ):
        started = now - dt.timedelta(hours=age_h)
        job = Job.objects.for_tenant(tenant).create(tenant=tenant, kind=kind)
        Job.objects.for_tenant(tenant).filter(pk=job.pk).update(
            status=status,
            progress=1.0 if status == Job.Status.SUCCEEDED else 0.4,
            created_at=started - dt.timedelta(seconds=2),
            started_at=started,
            finished_at=started + dt.timedelta(seconds=seconds),
            error=error,
        )


IMPORT_ERROR = (
    "3 rows are invalid: row 17, line 18 [timestamp]: 'yesterday' is not an ISO 8601 time;"
    " row 40, line 41 [item]: unknown item 'sku-99999'; row 41, line 42 [type]: missing"
)


def simulate_experiment_traffic(
    shop: DemoShop, *, lists_per_user: int = 10, click_every: dict[str, int]
) -> int:
    """Served lists of a running experiment, as the API would log them, and clicks on them:
    each user gets their variant's real list (`recommend_for_user`) `lists_per_user` times,
    and every `click_every[variant]`-th list of that variant gets a click on its first item
    (purchases on every third clicked one). Returns the number of lists."""
    tenant = shop.tenant
    logged = 0
    seen: dict[str, int] = {}
    for user in EndUser.objects.for_tenant(tenant).order_by("external_id"):
        with tenant_scope(tenant):
            served = lists.recommend_for_user(
                tenant=tenant, user_id=user.external_id, params=[("count", "5")], log=False
            )
        variant = served["experiment"]["variant"]
        variant_id = ExperimentVariant.objects.get(
            experiment_id=served["experiment"]["id"], name=variant
        ).pk
        item_pks = dict(
            Item.objects.for_tenant(tenant)
            .filter(external_id__in=[entry["id"] for entry in served["items"]])
            .values_list("external_id", "pk")
        )
        shown = [item_pks[entry["id"]] for entry in served["items"]]
        for _ in range(lists_per_user):
            recommendation_id = uuid.uuid4().hex
            candidate_store.log_served_list(
                tenant_id=tenant.pk,
                recommendation_id=recommendation_id,
                endpoint="recommendations",
                user_id=user.pk,
                item_ids=shown,
                version_id=shop.version.pk,
                config_version=served["config_version"],
                variant_id=variant_id,
            )
            logged += 1
            seen[variant] = seen.get(variant, 0) + 1
            if seen[variant] % click_every[variant]:
                continue
            kinds = (
                ["click", "purchase"]
                if seen[variant] % (3 * click_every[variant]) == 0
                else ["click"]
            )
            for kind in kinds:
                Interaction.objects.for_tenant(tenant).create(
                    tenant=tenant,
                    user=user,
                    item_id=shown[0],
                    type=kind,
                    timestamp=timezone.now(),
                    recommendation_id=recommendation_id,
                )
    return logged
