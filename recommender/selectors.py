"""Reads of tenant-owned rows. Every function runs inside the caller's tenant scope, so another
tenant's id raises the same NotFoundError as an id that does not exist."""

import uuid
from typing import Any

from django.db.models import QuerySet

from recommender.models import EndUser, Experiment, Item, Job
from recsys_platform.errors import NotFoundError
from tenants.models import Tenant


def access_item_by_external_id(external_id: str) -> Item:
    item = Item.objects.filter(external_id=external_id).first()
    if item is None:
        raise NotFoundError(f"No item with id {external_id!r}.")
    return item


def unknown_user(external_id: str) -> NotFoundError:
    return NotFoundError(f"No user with id {external_id!r}.")


def access_user_by_external_id(external_id: str) -> EndUser:
    user = EndUser.objects.filter(external_id=external_id).first()
    if user is None:
        raise unknown_user(external_id)
    return user


def access_job_by_id(job_id: str) -> Job:
    try:
        parsed = uuid.UUID(job_id)
    except ValueError:
        raise NotFoundError(f"No job with id {job_id!r}.") from None
    job = Job.objects.filter(pk=parsed).first()
    if job is None:
        raise NotFoundError(f"No job with id {job_id!r}.")
    return job


def item_list() -> QuerySet[Item]:
    return Item.objects.all()


def user_list() -> QuerySet[EndUser]:
    return EndUser.objects.all()


def job_list() -> QuerySet[Job]:
    return Job.objects.all()


def items_named(tenant: Tenant, external_ids: list[str]) -> dict[str, tuple[int, str]]:
    """{external id: (id, title or id)} of those of the tenant's items named; the others (also
    another tenant's) are left out."""
    rows = Item.objects.for_tenant(tenant).filter(external_id__in=external_ids)
    return {
        external_id: (pk, title or external_id)
        for pk, external_id, title in rows.values_list("pk", "external_id", "title")
    }


def items_described(tenant: Tenant, external_ids: list[str]) -> dict[str, dict[str, Any]]:
    """{external id: {"title", "categories"}} of those of the tenant's items named, for pages
    that show lists of ids; another tenant's ids are left out."""
    rows = Item.objects.for_tenant(tenant).filter(external_id__in=external_ids)
    return {
        external_id: {"title": title or external_id, "categories": categories}
        for external_id, title, categories in rows.values_list("external_id", "title", "categories")
    }


def experiment_list() -> QuerySet[Experiment]:
    return Experiment.objects.order_by("-created_at", "-id")


def access_experiment_by_id(experiment_id: str) -> Experiment:
    """An experiment of the tenant in scope by its numeric id; anything else is not found."""
    experiment = (
        Experiment.objects.filter(pk=int(experiment_id)).first()
        if experiment_id.isascii() and experiment_id.isdigit() and len(experiment_id) < 19
        else None
    )
    if experiment is None:
        raise NotFoundError(f"No experiment with id {experiment_id!r}.")
    return experiment
