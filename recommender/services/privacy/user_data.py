"""Where an end user's data lives: every model holding rows of one user, and how to find them.

Erasure and export both walk this registry, so a new table with a user reference must be added
here (tests/privacy/test_user_erasure.py fails for a model with a reference to EndUser that the
registry does not name).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, QuerySet

from recommender.models import EndUser, Interaction, ServedList, UserItems, UserVector


@dataclass(frozen=True)
class UserRows:
    model: type[Model]
    rows: Callable[[EndUser], QuerySet[Model]]


def _admin_log(user: EndUser) -> QuerySet[Model]:
    # Operators' edits in the admin keep the user's external id in object_repr.
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(EndUser), object_id=str(user.pk)
    )


# Children first: erasure deletes in this order, so nothing is left to a SET_NULL.
USER_DATA: tuple[UserRows, ...] = (
    # ServedList.user is SET_NULL (attribution survives a user's deletion elsewhere), so its
    # rows are deleted explicitly here rather than orphaned.
    UserRows(ServedList, lambda user: ServedList.objects.unscoped().filter(user=user)),
    UserRows(Interaction, lambda user: Interaction.objects.unscoped().filter(user=user)),
    UserRows(UserVector, lambda user: UserVector.objects.filter(user=user)),  # text vectors
    UserRows(UserItems, lambda user: UserItems.objects.filter(user=user)),  # ALS top lists
    UserRows(LogEntry, _admin_log),
    UserRows(EndUser, lambda user: EndUser.objects.unscoped().filter(pk=user.pk)),
)
