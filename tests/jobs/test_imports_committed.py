"""The import outside any transaction, as workers and the command run it: each chunk commits on
its own, written on a thread of its own while the next chunk is read."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from recommender.models import Interaction, Item
from recommender.services.ingest.file_imports import import_file
from recsys_platform.errors import ApplicationError
from tenants.models import Tenant
from tests.jobs.files import interactions_csv

pytestmark = pytest.mark.django_db(transaction=True)

WriteFile = Callable[[str, str], Path]


def test_chunks_commit_and_a_second_import_stores_nothing_new(
    tenant: Tenant, catalog: list[str], write_file: WriteFile
) -> None:
    path = write_file("events.csv", interactions_csv(3000))

    first = import_file(tenant=tenant, kind="interactions", path=path, chunk_rows=250)
    again = import_file(tenant=tenant, kind="interactions", path=path, chunk_rows=250)

    assert first == {"rows": 3000, "stored": 3000, "duplicates": 0, "users_created": 50}
    assert again == {"rows": 3000, "stored": 0, "duplicates": 3000, "users_created": 0}
    assert Interaction.objects.for_tenant(tenant).count() == 3000


def test_a_catalog_change_between_the_passes_stops_at_the_faulty_chunk(
    tenant: Tenant, catalog: list[str], write_file: WriteFile
) -> None:
    rows = [f"u-{n},sku-1,view\n" for n in range(500)] + [f"u-{n},sku-2,view\n" for n in range(100)]
    path = write_file("events.csv", "user,item,type\n" + "".join(rows))

    def delete_sku_2_after_validation(progress: float, counts: Any) -> None:
        if counts == {"rows": 600}:  # every row checked, nothing written yet
            Item.objects.for_tenant(tenant).filter(external_id="sku-2").delete()

    with pytest.raises(ApplicationError) as caught:
        import_file(
            tenant=tenant,
            kind="interactions",
            path=path,
            chunk_rows=100,
            report=delete_sku_2_after_validation,
        )

    assert caught.value.code == "file_changed"
    assert caught.value.details[0]["message"] == "unknown item 'sku-2'"
    # The five chunks before the faulty one were committed, the one in flight included.
    assert Interaction.objects.for_tenant(tenant).count() == 500


def test_event_ids_repeated_in_chunks_written_at_once_are_counted_once(
    tenant: Tenant, catalog: list[str], write_file: WriteFile
) -> None:
    # Four chunks, every other one in reverse order: written concurrently, two of them may
    # deadlock on each other's event_ids, and the one aborted is written again.
    forward = [f"u-{n % 7},sku-{n % 10},view,e-{n}\n" for n in range(200)]
    text = "user,item,type,event_id\n" + "".join(forward + forward[::-1] + forward + forward[::-1])

    counts = import_file(
        tenant=tenant, kind="interactions", path=write_file("e.csv", text), chunk_rows=200
    )

    assert counts == {"rows": 800, "stored": 200, "duplicates": 600, "users_created": 7}
    assert Interaction.objects.for_tenant(tenant).count() == 200
