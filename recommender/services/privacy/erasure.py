"""Erasing one end user: every row the registry (user_data) names, in one transaction."""

from django.db import transaction

from recommender.models import EndUser
from recommender.selectors import access_user_by_external_id
from recommender.services.privacy.user_data import USER_DATA


@transaction.atomic
def user_erase_rows(user: EndUser) -> dict[str, int]:
    """Delete `user` and every row of theirs the registry names; return rows per model."""
    deleted: dict[str, int] = {}
    for entry in USER_DATA:
        count, _ = entry.rows(user).delete()
        deleted[entry.model._meta.label] = count
    return deleted


@transaction.atomic
def user_erase(*, external_id: str) -> dict[str, int]:
    """Delete the user and all their data (events, vectors and factors, ALS lists, served lists,
    admin log lines); return rows deleted per model. Serving keeps no per-user cache, so there is
    nothing else to drop. Raises not_found for an unknown (or another tenant's) user."""
    return user_erase_rows(access_user_by_external_id(external_id))
