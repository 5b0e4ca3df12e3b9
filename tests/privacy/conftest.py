"""A user with a row in every table that can hold user data, and a neighbour who must stay."""

from dataclasses import dataclass
from typing import Any, cast

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType

from recommender import vectorstore
from recommender.models import (
    EmbeddingSpace,
    EndUser,
    Item,
    ModelVersion,
    ServedList,
    UserItems,
    UserVector,
)
from tenants.models import Tenant
from tests.factories import EndUserFactory, InteractionFactory, ItemFactory


@dataclass
class People:
    gone: EndUser
    stays: EndUser


@pytest.fixture
def people(tenant: Tenant, django_user_model: Any) -> People:
    operator = django_user_model.objects.create_superuser("op", "op@example.com", "pw")
    item = cast(Item, ItemFactory(tenant=tenant, external_id="item-1"))
    space = EmbeddingSpace.objects.create(
        tenant=tenant,
        settings={"model": "tiny"},
        settings_hash="h",
        dimension=3,
        status=EmbeddingSpace.Status.ACTIVE,
    )
    vectorstore.space_create(space)  # its partitions of the vector tables
    version = ModelVersion.objects.create(
        tenant=tenant, number=1, status=ModelVersion.Status.ACTIVE, cf_space=space
    )
    users = []
    for index, name in enumerate(("gone", "stays")):
        user = cast(
            EndUser,
            EndUserFactory(tenant=tenant, external_id=name, profile_text=f"{name} likes tea"),
        )
        InteractionFactory(tenant=tenant, user=user, item=item, event_id=f"{name}-event")
        UserVector.objects.create(space=space, user=user, embedding=[1, 0, index], content_hash="h")
        UserItems.objects.create(
            version=version, source="als", user=user, item_ids=[item.pk], scores=[0.5]
        )
        ServedList.objects.create(
            tenant=tenant,
            recommendation_id=f"rec-{name}",
            endpoint="user",
            user=user,
            item_ids=[item.pk],
            model_version=version,
        )
        LogEntry.objects.create(
            user=operator,
            content_type=ContentType.objects.get_for_model(EndUser),
            object_id=str(user.pk),
            object_repr=user.external_id,
            action_flag=CHANGE,
        )
        users.append(user)
    return People(gone=users[0], stays=users[1])
