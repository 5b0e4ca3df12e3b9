"""When training is queued: a first model after encoding, then on each tenant's schedule."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from recommender.models import Job, ModelVersion
from recommender.services.training.queue import first_model_request, training_due, training_sweep
from recommender.tasks import SWEEP_TRAINING_TASK
from tenants.models import Tenant
from tests.factories import EndUserFactory, ItemFactory
from tests.factories import InteractionFactory as _InteractionFactory
from tests.serving.conftest import configure

pytestmark = pytest.mark.django_db


def InteractionFactory(tenant: Tenant) -> Any:
    return _InteractionFactory(
        tenant=tenant, user=EndUserFactory(tenant=tenant), item=ItemFactory(tenant=tenant)
    )


def _train_jobs(tenant: Tenant) -> int:
    return Job.objects.for_tenant(tenant).filter(kind=Job.Kind.TRAIN).count()


def test_a_first_model_is_queued_once_for_a_tenant_with_events(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    assert first_model_request(tenant=tenant) is None  # no events yet
    InteractionFactory(tenant=tenant)
    job = first_model_request(tenant=tenant)
    assert job is not None
    assert job.kind == Job.Kind.TRAIN
    assert first_model_request(tenant=tenant) is None  # one is queued already
    assert _train_jobs(tenant) == 1
    assert _train_jobs(other_tenant) == 0


def test_no_first_model_when_a_version_exists(tenant: Tenant) -> None:
    InteractionFactory(tenant=tenant)
    ModelVersion.objects.create(tenant=tenant, number=1, status=ModelVersion.Status.FAILED)
    assert first_model_request(tenant=tenant) is None


def test_retraining_is_due_after_the_interval_when_events_arrived(tenant: Tenant) -> None:
    event = InteractionFactory(tenant=tenant)
    events = type(event).objects.for_tenant(tenant).filter(pk=event.pk)
    events.update(received_at=timezone.now() - dt.timedelta(hours=30))
    assert training_due(tenant)  # events, no active version
    version = ModelVersion.objects.create(
        tenant=tenant, number=1, status=ModelVersion.Status.ACTIVE, trained_at=timezone.now()
    )
    assert not training_due(tenant)  # trained just now
    version.trained_at = timezone.now() - dt.timedelta(hours=25)
    version.save()
    assert not training_due(tenant)  # no event since
    events.update(received_at=timezone.now())
    assert training_due(tenant)
    configure(tenant, training={"retrain_every_hours": 0})
    assert not training_due(tenant)


def test_the_sweep_queues_due_tenants_once(tenant: Tenant, other_tenant: Tenant) -> None:
    InteractionFactory(tenant=tenant)
    assert training_sweep() == [tenant.pk]
    assert training_sweep() == []  # the queued job covers it
    assert _train_jobs(tenant) == 1
    assert _train_jobs(other_tenant) == 0


def test_the_sweep_is_scheduled_hourly() -> None:
    task = PeriodicTask.objects.get(task=SWEEP_TRAINING_TASK)
    assert task.interval is not None
    assert (task.interval.every, task.interval.period) == (1, "hours")
    assert task.enabled
