"""The file import service against the real database: formats, validation, idempotency, progress."""

import datetime
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from recommender.models import EndUser, Interaction, Item
from recommender.services.ingest.batches import items_upsert_batch
from recommender.services.ingest.file_imports import import_file
from recsys_platform.errors import ApplicationError
from tenants.models import Tenant
from tests.jobs.files import interactions_csv

WriteFile = Callable[[str, str], Path]

ITEMS_CSV = (
    "id,title,description,categories,attributes,available\n"
    'sku-1,Trail Runner,"Light, fast",shoes|running,"{""brand"": ""Acme"", ""price"": 89.0}",true\n'
    "sku-2,Rain Jacket,,jackets,,0\n"
)
ITEMS_JSONL = (
    '{"id": "sku-1", "title": "Trail Runner", "description": "Light, fast", '
    '"categories": ["shoes", "running"], "attributes": {"brand": "Acme", "price": 89.0}}\n'
    "\n"
    '{"id": "sku-2", "title": "Rain Jacket", "categories": ["jackets"], "available": false}\n'
)


def _lines(*rows: dict[str, Any]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "text"), [("items.csv", ITEMS_CSV), ("items.jsonl", ITEMS_JSONL)])
def test_items_import_converts_and_stores_every_field(
    tenant: Tenant, write_file: WriteFile, name: str, text: str
) -> None:
    counts = import_file(tenant=tenant, kind="items", path=write_file(name, text))

    assert counts == {"rows": 2, "created": 2, "updated": 0}
    runner = Item.objects.for_tenant(tenant).get(external_id="sku-1")
    assert (runner.title, runner.description) == ("Trail Runner", "Light, fast")
    assert runner.categories == ["shoes", "running"]
    assert runner.attributes == {"brand": "Acme", "price": 89.0}
    assert runner.available is True
    assert len(runner.content_hash) == 64
    jacket = Item.objects.for_tenant(tenant).get(external_id="sku-2")
    assert (jacket.available, jacket.description, jacket.attributes) == (False, "", {})


@pytest.mark.django_db
def test_a_later_row_of_the_same_id_updates_within_and_across_chunks(
    tenant: Tenant, write_file: WriteFile
) -> None:
    text = "id,title\nsku-1,first\nsku-1,second\nsku-2,other\nsku-1,third\n"
    counts = import_file(
        tenant=tenant, kind="items", path=write_file("dupes.csv", text), chunk_rows=2
    )

    assert counts == {"rows": 4, "created": 2, "updated": 2}
    assert Item.objects.for_tenant(tenant).get(external_id="sku-1").title == "third"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "users.csv",
            'id,attributes,profile_text\nu-1,"{""age_band"": ""25-34""}",I like trails\nu-2,,\n',
        ),
        (
            "users.ndjson",
            _lines(
                {"id": "u-1", "attributes": {"age_band": "25-34"}, "profile_text": "I like trails"},
                {"id": "u-2"},
            ),
        ),
    ],
)
def test_users_import(tenant: Tenant, write_file: WriteFile, name: str, text: str) -> None:
    counts = import_file(tenant=tenant, kind="users", path=write_file(name, text))

    assert counts == {"rows": 2, "created": 2, "updated": 0}
    user = EndUser.objects.for_tenant(tenant).get(external_id="u-1")
    assert (user.attributes, user.profile_text) == ({"age_band": "25-34"}, "I like trails")
    assert EndUser.objects.for_tenant(tenant).get(external_id="u-2").profile_text == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "events.csv",
            "user,item,type,value,timestamp,event_id,recommendation_id\n"
            "u-1,sku-1,purchase,2.5,2026-11-28T10:00:00Z,e-1,rec-9\n"
            "u-2,sku-2,view,,2026-11-28T11:00:00+01:00,,\n",
        ),
        (
            "events.jsonl",
            _lines(
                {
                    "user": "u-1",
                    "item": "sku-1",
                    "type": "purchase",
                    "value": 2.5,
                    "timestamp": "2026-11-28T10:00:00Z",
                    "event_id": "e-1",
                    "recommendation_id": "rec-9",
                },
                {
                    "user": "u-2",
                    "item": "sku-2",
                    "type": "view",
                    "timestamp": "2026-11-28T11:00:00+01:00",
                },
            ),
        ),
    ],
)
def test_interactions_import(
    tenant: Tenant, catalog: list[str], write_file: WriteFile, name: str, text: str
) -> None:
    counts = import_file(tenant=tenant, kind="interactions", path=write_file(name, text))

    assert counts == {"rows": 2, "stored": 2, "duplicates": 0, "users_created": 2}
    events = Interaction.objects.for_tenant(tenant).select_related("user", "item")
    purchase = events.get(event_id="e-1")
    assert (purchase.user.external_id, purchase.item.external_id) == ("u-1", "sku-1")
    assert (purchase.type, purchase.value, purchase.recommendation_id) == ("purchase", 2.5, "rec-9")
    assert purchase.timestamp == datetime.datetime(2026, 11, 28, 10, tzinfo=datetime.UTC)
    view = events.get(user__external_id="u-2")
    assert view.value == 1.0  # the API's default
    assert view.timestamp == datetime.datetime(2026, 11, 28, 10, tzinfo=datetime.UTC)
    # No event_id in the file: a deterministic one, from the file's digest and the row.
    assert view.event_id is not None
    assert view.event_id.startswith("import:")
    assert view.event_id.endswith(":2")


@pytest.mark.django_db
def test_bad_rows_store_nothing_and_are_named(
    tenant: Tenant, catalog: list[str], write_file: WriteFile
) -> None:
    text = (
        "user,item,type,value\n"
        "u-1,sku-1,view,1\n"
        "u-2,sku-2,view,1\n"
        "u-3,sku-404,view,1\n"  # row 3: unknown item
        "u-4,sku-3,view,1\n"
        "u-5,sku-4,view,lots\n"  # row 5: not a number
        "u-6,sku-5,teleport,1\n"  # row 6: unknown type
    )
    # Chunks of two: the first chunks are valid, and still nothing may be written.
    with pytest.raises(ApplicationError) as caught:
        import_file(
            tenant=tenant, kind="interactions", path=write_file("bad.csv", text), chunk_rows=2
        )

    error = caught.value
    assert error.code == "validation_error"
    assert "3 rows are invalid" in error.message
    assert "CSV data rows" in error.message
    assert [(d["row"], d["line"], d["field"]) for d in error.details] == [
        (3, 4, "item"),
        (5, 6, "value"),
        (6, 7, "type"),
    ]
    assert error.details[0]["message"] == "unknown item 'sku-404'"
    assert not Interaction.objects.for_tenant(tenant).exists()
    assert not EndUser.objects.for_tenant(tenant).exists()


@pytest.mark.django_db
def test_jsonl_errors_are_numbered_by_line(tenant: Tenant, write_file: WriteFile) -> None:
    text = '{"id": "sku-1"}\n\n{"id": "sku-2", \n[1, 2]\n{"id": "sku-3", "colour": "red"}\n'
    with pytest.raises(ApplicationError) as caught:
        import_file(tenant=tenant, kind="items", path=write_file("bad.jsonl", text))

    assert "line numbers" in caught.value.message
    assert [(d["row"], d["field"]) for d in caught.value.details] == [
        (3, None),
        (4, None),
        (5, "colour"),
    ]
    assert caught.value.details[0]["message"].startswith("invalid JSON")
    assert caught.value.details[1]["message"] == "each row must be a JSON object"
    assert not Item.objects.for_tenant(tenant).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("csv_row", "wire_row"),
    [
        ("sku-1,maybe", {"id": "sku-1", "available": "maybe"}),
        (" sku-1,true", {"id": " sku-1", "available": True}),
    ],
)
def test_csv_faults_read_exactly_as_the_apis(
    tenant: Tenant, write_file: WriteFile, csv_row: str, wire_row: dict[str, Any]
) -> None:
    with pytest.raises(ApplicationError) as from_file:
        import_file(
            tenant=tenant, kind="items", path=write_file("i.csv", f"id,available\n{csv_row}\n")
        )
    with pytest.raises(ApplicationError) as from_api:
        items_upsert_batch(tenant=tenant, payload={"items": [wire_row]})

    file_fault = from_file.value.details[0]
    api_fault = from_api.value.details[0]
    assert (file_fault["field"], file_fault["message"]) == (
        api_fault["field"],
        api_fault["message"],
    )


@pytest.mark.django_db
def test_a_bad_header_is_refused_before_any_row(tenant: Tenant, write_file: WriteFile) -> None:
    with pytest.raises(ApplicationError) as caught:
        import_file(tenant=tenant, kind="items", path=write_file("i.csv", "sku,colour\n1,red\n"))

    assert caught.value.code == "invalid_file"
    assert {d["message"] for d in caught.value.details} == {
        "unknown column 'sku'",
        "unknown column 'colour'",
        "required column 'id' is missing",
    }


@pytest.mark.django_db
def test_the_format_is_sniffed_without_a_known_extension(
    tenant: Tenant, write_file: WriteFile
) -> None:
    counts = import_file(tenant=tenant, kind="items", path=write_file("export.txt", ITEMS_JSONL))
    assert counts["created"] == 2


@pytest.mark.django_db
def test_reimporting_the_same_interactions_stores_nothing_new(
    tenant: Tenant, catalog: list[str], write_file: WriteFile
) -> None:
    path = write_file("events.csv", interactions_csv(500))

    first = import_file(tenant=tenant, kind="interactions", path=path, chunk_rows=100)
    again = import_file(tenant=tenant, kind="interactions", path=path, chunk_rows=100)

    assert first == {"rows": 500, "stored": 500, "duplicates": 0, "users_created": 50}
    assert again == {"rows": 500, "stored": 0, "duplicates": 500, "users_created": 0}
    assert Interaction.objects.for_tenant(tenant).count() == 500


@pytest.mark.django_db
def test_repeated_event_ids_across_chunks_are_duplicates(
    tenant: Tenant, catalog: list[str], write_file: WriteFile
) -> None:
    text = "user,item,type,event_id\n" + "".join(f"u-1,sku-1,view,e-{n % 3}\n" for n in range(7))
    counts = import_file(
        tenant=tenant, kind="interactions", path=write_file("e.csv", text), chunk_rows=2
    )

    assert counts == {"rows": 7, "stored": 3, "duplicates": 4, "users_created": 1}


@pytest.mark.django_db
def test_progress_follows_bytes_over_both_passes(
    tenant: Tenant, catalog: list[str], write_file: WriteFile
) -> None:
    # Larger than the read buffer, so that bytes read advance between chunks.
    path = write_file("events.csv", interactions_csv(20_000))
    seen: list[tuple[float, dict[str, Any]]] = []

    counts = import_file(
        tenant=tenant,
        kind="interactions",
        path=path,
        chunk_rows=1000,
        report=lambda progress, counts: seen.append((progress, dict(counts))),
    )

    values = [progress for progress, _ in seen]
    assert values == sorted(values)
    assert values[-1] == 1.0
    assert seen[-1][1] == counts
    assert any(0 < v < 0.5 for v in values)  # validating
    assert any(0.5 < v < 1 for v in values)  # writing
    writing = [c["stored"] for v, c in seen if v > 0.5 and "stored" in c]
    assert writing == sorted(writing)
    assert writing[0] < counts["stored"]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "text"), [("h.csv", "id,title\n"), ("e.jsonl", "\n\n")])
def test_a_file_without_rows_is_refused(
    tenant: Tenant, write_file: WriteFile, name: str, text: str
) -> None:
    with pytest.raises(ApplicationError) as caught:
        import_file(tenant=tenant, kind="items", path=write_file(name, text))
    assert caught.value.code == "empty_file"
