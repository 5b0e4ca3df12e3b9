"""Configuration drafts, activation's consequences (named, then started), rollback, and the
encoding sweep noticing a stale space."""

from recommender.engine.config_changes import activation_consequences, config_diff
from recommender.engine.config_schema import validate_config
from recommender.models import Job, RecommenderConfig
from recommender.services.config import config_save
from recommender.services.config_activation import (
    config_activate,
    config_consequences,
    config_rollback,
)
from recommender.services.encoding.queue import encoding_sweep
from recommender.services.encoding.spaces import target_space
from tenants.models import Tenant


def test_diff_and_consequences_name_the_changed_settings() -> None:
    before = validate_config({})
    after = validate_config({"encoder": {"item_template": "{title}"}, "rules": {"mmr_lambda": 0.5}})
    assert [c.path for c in config_diff(before, after)] == [
        "encoder.item_template",
        "rules.mmr_lambda",
    ]
    consequences = activation_consequences(before, after)
    assert consequences.reencode == ["encoder.item_template"]
    assert consequences.retrain == []
    assert activation_consequences(before, validate_config({"training": {"k": 20}})).retrain == [
        "training.k"
    ]


def test_a_draft_is_not_active_until_activated_and_rollback_restores(tenant: Tenant) -> None:
    first = config_save(tenant=tenant, data={})
    target_space(tenant_id=tenant.pk, encoder_config=validate_config({})["encoder"], dimension=8)
    draft = config_save(
        tenant=tenant, data={"encoder": {"item_template": "{title}"}}, activate=False
    )
    draft.refresh_from_db()
    assert (draft.is_active, draft.activated_at, draft.state) == (False, None, "draft")
    assert config_consequences(config=draft).reencode == ["encoder.item_template"]

    _, jobs = config_activate(config=draft)
    assert [job.kind for job in jobs] == [Job.Kind.ENCODE]  # no events: no training
    assert RecommenderConfig.objects.for_tenant(tenant).get(is_active=True).pk == draft.pk

    restored, _ = config_rollback(tenant=tenant)
    assert restored.pk == first.pk
    assert RecommenderConfig.objects.for_tenant(tenant).get(is_active=True).pk == first.pk


def test_the_sweep_queues_encoding_when_the_template_changed(tenant: Tenant) -> None:
    config_save(tenant=tenant, data={})
    target_space(tenant_id=tenant.pk, encoder_config=validate_config({})["encoder"], dimension=8)
    assert encoding_sweep() == []  # no items, nothing stale
    config_save(tenant=tenant, data={"encoder": {"item_template": "{title}"}})
    assert encoding_sweep() == [tenant.pk]
