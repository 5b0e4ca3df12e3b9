"""A row's tenant is fixed: the model refuses a move, the database refuses a move and an event
whose item or user belongs to another tenant (migration 0012)."""

from typing import Any

import pytest
from django.db import IntegrityError, InternalError, transaction
from django.utils import timezone

from recommender.models import EndUser, Interaction, Item
from tenants.managers import TenantChangeError
from tenants.models import Tenant


def test_model_save_refuses_to_move_an_item(tenant: Tenant, other_tenant: Tenant) -> None:
    item = Item.objects.create(tenant=tenant, external_id="sku-1")
    loaded = Item.objects.for_tenant(tenant).get(pk=item.pk)
    loaded.tenant = other_tenant
    with pytest.raises(TenantChangeError):
        loaded.save()
    assert Item.objects.for_tenant(tenant).filter(pk=item.pk).exists()


@pytest.mark.parametrize("model", [Item, EndUser])
def test_database_refuses_to_move_a_row(model: Any, tenant: Tenant, other_tenant: Tenant) -> None:
    row = model.objects.create(tenant=tenant, external_id="x-1")
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        model.objects.unscoped().filter(pk=row.pk).update(tenant=other_tenant)
    assert model.objects.for_tenant(tenant).filter(pk=row.pk).exists()


@pytest.mark.parametrize("foreign", ["item", "user"])
def test_database_refuses_an_event_pointing_at_another_tenants_row(
    foreign: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    owners = {"item": other_tenant if foreign == "item" else tenant}
    owners["user"] = other_tenant if foreign == "user" else tenant
    item = Item.objects.create(tenant=owners["item"], external_id="sku-1")
    user = EndUser.objects.create(tenant=owners["user"], external_id="u-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        # The composite keys are checked at once (not deferred to commit like Django's own).
        Interaction.objects.create(
            tenant=tenant, user=user, item=item, type="view", timestamp=timezone.now()
        )
    assert not Interaction.objects.for_tenant(tenant).exists()
