"""factory_boy factories. Tenant-owned rows are created with an explicit tenant."""

from typing import Any

import factory
from django.utils import timezone

from recommender.models import EndUser, Interaction, Item
from tenants.models import Tenant


class TenantOwnedFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        # The scoped manager refuses to run without a tenant; factories name it explicitly.
        return model_class.objects.unscoped().create(*args, **kwargs)


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.title())


class ItemFactory(TenantOwnedFactory):
    class Meta:
        model = Item

    external_id = factory.Sequence(lambda n: f"sku-{n}")
    title = factory.Sequence(lambda n: f"Product {n}")
    description = "A product."
    categories = factory.LazyFunction(lambda: ["misc"])


class EndUserFactory(TenantOwnedFactory):
    class Meta:
        model = EndUser

    external_id = factory.Sequence(lambda n: f"u-{n}")


class InteractionFactory(TenantOwnedFactory):
    class Meta:
        model = Interaction

    type = "view"
    value = 1.0
    timestamp = factory.LazyFunction(timezone.now)
