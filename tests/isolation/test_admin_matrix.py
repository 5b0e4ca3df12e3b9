"""Every admin view of tenant data x {own tenant's row, another tenant's row, a missing id}.

A staff operator of tenant A reaches B's rows exactly as it reaches ids that do not exist: the
change page answers the same way (Django's "does not exist" redirect), the changelist omits them.
"""

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from recommender.engine.config_schema import validate_config
from recommender.models import (
    EmbeddingSpace,
    EndUser,
    Experiment,
    Interaction,
    Item,
    Job,
    ModelVersion,
    RecommenderConfig,
)
from recommender.services.config import config_save
from recommender.services.encoding.spaces import target_space
from recommender.services.experiments.lifecycle import VariantSpec, experiment_create
from tenants.models import ApiKey, Operator, Tenant
from tenants.services import api_key_create


def _item(tenant: Tenant) -> Model:
    return Item.objects.create(tenant=tenant, external_id="shared-id", title=f"{tenant.slug} item")


def _user(tenant: Tenant) -> Model:
    return EndUser.objects.create(tenant=tenant, external_id="shared-user")


def _interaction(tenant: Tenant) -> Model:
    return Interaction.objects.create(
        tenant=tenant,
        user=_user(tenant),
        item=_item(tenant),
        type="view",
        timestamp=timezone.now(),
        event_id=f"{tenant.slug}-event",
    )


def _job(tenant: Tenant) -> Model:
    return Job.objects.create(tenant=tenant, kind=Job.Kind.IMPORT_ITEMS)


def _api_key(tenant: Tenant) -> Model:
    return api_key_create(tenant=tenant, name=f"{tenant.slug} key")[0]


def _tenant(tenant: Tenant) -> Model:
    return tenant


def _config(tenant: Tenant) -> Model:
    return config_save(tenant=tenant, data={})


def _model_version(tenant: Tenant) -> Model:
    return ModelVersion.objects.create(
        tenant=tenant, number=1, status=ModelVersion.Status.READY, metrics={"of": tenant.slug}
    )


def _space(tenant: Tenant) -> Model:
    encoder = validate_config({})["encoder"]
    return target_space(tenant_id=tenant.pk, encoder_config=encoder, dimension=8)


def _experiment(tenant: Tenant) -> Model:
    variants = [
        VariantSpec(name, config_save(tenant=tenant, data={}, activate=False), 1)
        for name in ("A", "B")
    ]
    return experiment_create(tenant=tenant, name=f"{tenant.slug} test", variants=variants)


CREATORS: dict[type[Model], Callable[[Tenant], Model]] = {
    Tenant: _tenant,
    ApiKey: _api_key,
    Item: _item,
    EndUser: _user,
    Interaction: _interaction,
    Job: _job,
    RecommenderConfig: _config,
    EmbeddingSpace: _space,
    ModelVersion: _model_version,
    Experiment: _experiment,
}
# Admin models that hold no tenant data (operators: superusers only, tested below).
NOT_TENANT_DATA = {"auth", "django_celery_beat"}
NOT_TENANT_MODELS: set[type[Model]] = {Operator}


def test_every_admin_model_of_our_apps_is_in_the_matrix() -> None:
    ours = {
        model
        for model in admin.site._registry
        if model._meta.app_label not in NOT_TENANT_DATA and model not in NOT_TENANT_MODELS
    }
    assert ours == set(CREATORS), "add new admin models to CREATORS"


def _missing_pk(model: type[Model]) -> str:
    return str(uuid.uuid4()) if model._meta.pk.get_internal_type() == "UUIDField" else "999999999"


@pytest.fixture
def operator_client(db: Any, tenant: Tenant) -> Client:
    user = User.objects.create_user("operator", password="pw-operator-1", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["tenants", "recommender"])
    )
    tenant.operators.add(user)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", list(CREATORS), ids=lambda m: m.__name__)
def test_operator_reaches_other_tenants_rows_as_missing_ids(
    model: type[Model], operator_client: Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    own = CREATORS[model](tenant)
    foreign = CREATORS[model](other_tenant)
    opts = model._meta
    change = f"admin:{opts.app_label}_{opts.model_name}_change"

    own_page = operator_client.get(reverse(change, args=[own.pk]))
    assert own_page.status_code == 200

    foreign_page = operator_client.get(reverse(change, args=[foreign.pk]))
    missing_page = operator_client.get(reverse(change, args=[_missing_pk(model)]))
    assert foreign_page.status_code == missing_page.status_code
    assert foreign_page.status_code in (302, 404)
    assert foreign_page.get("Location") == missing_page.get("Location")

    listing = operator_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert listing.status_code == 200
    shown = {row.pk for row in listing.context["cl"].result_list}
    assert own.pk in shown
    assert foreign.pk not in shown
    assert other_tenant.slug not in listing.content.decode()  # not even in a filter


def test_superuser_sees_every_tenant(db: Any, tenant: Tenant, other_tenant: Tenant) -> None:
    boss = User.objects.create_superuser("boss", "boss@example.com", "pw-boss-1")
    client = Client()
    client.force_login(boss)
    _item(tenant)
    _item(other_tenant)
    listing = client.get(reverse("admin:recommender_item_changelist"))
    assert {row.tenant_id for row in listing.context["cl"].result_list} == {
        tenant.pk,
        other_tenant.pk,
    }


def test_experiment_results_page_of_another_tenant_is_missing(
    operator_client: Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    own, foreign = _experiment(tenant), _experiment(other_tenant)
    url = "admin:recommender_experiment_results"
    page = operator_client.get(reverse(url, args=[own.pk]))
    assert page.status_code == 200
    assert f"{tenant.slug} test" in page.content.decode()
    for pk in (foreign.pk, 999999999):
        assert operator_client.get(reverse(url, args=[pk])).status_code == 404
        assert operator_client.post(reverse(url, args=[pk]), {"start": "1"}).status_code == 404
    assert Experiment.objects.for_tenant(other_tenant).get().status == "draft"


# Every detail-page button (unfold actions_detail) of a tenant-owned admin.
DETAIL_ACTIONS: list[tuple[type[Model], str]] = [
    (Tenant, "dashboard"),
    (Tenant, "train_now"),
    (Tenant, "reencode"),
    (Tenant, "preview"),
    (Tenant, "import_file"),
    (Tenant, "new_config"),
    (Tenant, "issue_key"),
    (ApiKey, "revoke_key"),
    (RecommenderConfig, "activate"),
    (RecommenderConfig, "preview"),
    (RecommenderConfig, "new_from_this"),
    (RecommenderConfig, "diff_with_active"),
    (RecommenderConfig, "rollback"),
    (ModelVersion, "serve_again"),
]


def test_every_detail_action_is_in_the_matrix() -> None:
    declared = {
        (model, name)
        for model, model_admin in admin.site._registry.items()
        for name in getattr(model_admin, "actions_detail", ()) or ()
    }
    assert declared == set(DETAIL_ACTIONS), "add new detail actions to DETAIL_ACTIONS"


@pytest.mark.parametrize(
    ("model", "name"), DETAIL_ACTIONS, ids=lambda v: v if isinstance(v, str) else v.__name__
)
def test_detail_actions_answer_other_tenants_rows_as_missing_ids(
    model: type[Model], name: str, operator_client: Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    own = CREATORS[model](tenant)
    foreign = CREATORS[model](other_tenant)
    opts = model._meta
    url_name = f"admin:{opts.app_label}_{opts.model_name}_{name}"
    own_page = operator_client.get(reverse(url_name, args=[own.pk]))
    assert own_page.status_code in (200, 302)
    for pk in (foreign.pk, _missing_pk(model)):
        # GET and POST alike: a button never acts on another tenant's row.
        assert operator_client.get(reverse(url_name, args=[pk])).status_code == 404
        assert operator_client.post(reverse(url_name, args=[pk])).status_code == 404


# Every change page with panels of its own (a custom change form): a marker each panel renders.
PANELS: dict[type[Model], tuple[str, ...]] = {
    Item: ('id="item-vectors"', 'id="item-similar"', 'id="item-events"'),
    EndUser: ('id="user-recommendations"', 'id="user-events"'),
    EmbeddingSpace: ("Item vectors:", "HNSW index:"),
}


def _with_event(tenant: Tenant, row: Model) -> None:
    """An event of the tenant on the row (an item or user) or on a new item and user."""
    Interaction.objects.create(
        tenant=tenant,
        user=row if isinstance(row, EndUser) else _user(tenant),
        item=row if isinstance(row, Item) else _item(tenant),
        type="view",
        timestamp=timezone.now(),
        event_id=f"{tenant.slug}-event",
    )


def test_every_change_page_with_panels_is_in_the_matrix() -> None:
    declared = {
        model
        for model, model_admin in admin.site._registry.items()
        if getattr(model_admin, "change_form_template", None)
    }
    assert declared == set(PANELS), "add new change-page panels to PANELS"


@pytest.mark.parametrize("model", list(PANELS), ids=lambda m: m.__name__)
def test_panels_show_only_the_operators_tenant(
    model: type[Model], operator_client: Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    # The other tenant's rows carry the same external ids: a panel that looked them up without
    # the tenant would show the other tenant's title or events.
    own, foreign = CREATORS[model](tenant), CREATORS[model](other_tenant)
    _with_event(tenant, own)
    _with_event(other_tenant, foreign)
    opts = model._meta
    change = f"admin:{opts.app_label}_{opts.model_name}_change"
    page = operator_client.get(reverse(change, args=[own.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    for marker in PANELS[model]:
        assert marker in html
    assert f"{other_tenant.slug} item" not in html
    if "panels" in page.context:
        assert len(page.context["panels"]["events"]) == 1  # not the other tenant's event
    foreign_page = operator_client.get(reverse(change, args=[foreign.pk]))
    missing_page = operator_client.get(reverse(change, args=[_missing_pk(model)]))
    assert (foreign_page.status_code, foreign_page.get("Location")) == (
        missing_page.status_code,
        missing_page.get("Location"),
    )
    assert "panels" not in (foreign_page.context or {})


def test_operators_are_managed_by_superusers_only(
    operator_client: Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    boss = User.objects.create_superuser("boss", "boss@example.com", "pw-boss-1")
    listing = reverse("admin:tenants_operator_changelist")
    assert operator_client.get(listing).status_code == 403
    boss_page = reverse("admin:tenants_operator_change", args=[boss.pk])
    assert operator_client.get(boss_page).status_code == 403
    assert operator_client.post(boss_page, {"is_superuser": "on"}).status_code == 403
    assert operator_client.post(reverse("admin:tenants_operator_add"), {}).status_code == 403
    boss_client = Client()
    boss_client.force_login(boss)
    page = boss_client.get(listing)
    assert page.status_code == 200
    assert "operator" in {row.username for row in page.context["cl"].result_list}
