"""Reads of tenant-owned rows. Every function runs inside the caller's tenant scope, so another
tenant's id raises the same NotFoundError as an id that does not exist."""

import uuid

from django.db.models import QuerySet

from recommender.models import EndUser, Item, Job
from recsys_platform.errors import NotFoundError


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
