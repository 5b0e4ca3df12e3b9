"""DELETE /users/{id} leaves no row of the user anywhere: checked against every model Django knows
and every table in the database, so a table added later cannot be forgotten."""

from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import ForeignKey, Model, OneToOneField
from django.urls import reverse
from rest_framework.test import APIClient

from recommender.models import EndUser
from recommender.services.privacy.user_data import USER_DATA
from tests.api.support import assert_error
from tests.privacy.conftest import People

REGISTERED = {entry.model for entry in USER_DATA}


def user_references(model: type[Model]) -> list[str]:
    return [
        field.name
        for field in model._meta.concrete_fields
        if isinstance(field, (ForeignKey, OneToOneField)) and field.related_model is EndUser
    ]


def test_the_registry_names_every_model_that_references_a_user() -> None:
    unknown = [
        model._meta.label
        for model in apps.get_models()
        if user_references(model) and model not in REGISTERED
    ]
    assert unknown == [], f"add these to recommender.services.privacy.user_data: {unknown}"
    assert EndUser in REGISTERED


def test_every_foreign_key_to_users_in_the_database_belongs_to_a_registered_model(db: Any) -> None:
    # Raw tables (vectors, artifacts) and constraints made by hand, not only Django's models.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT DISTINCT c.conrelid::regclass::text FROM pg_constraint c
            WHERE c.contype = 'f' AND c.confrelid = %s::regclass
            """,
            [EndUser._meta.db_table],
        )
        referencing = {row[0].strip('"') for row in cursor.fetchall()}
    assert referencing <= {model._meta.db_table for model in REGISTERED}, referencing


def _tables_with_user_id_not_of_a_model() -> list[str]:
    model_tables = {model._meta.db_table for model in apps.get_models(include_auto_created=True)}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND column_name = 'user_id'"
        )
        return sorted({row[0] for row in cursor.fetchall()} - model_tables)


def _rows_of(user: EndUser) -> dict[str, set[Any]]:
    return {
        entry.model._meta.label: set(entry.rows(user).values_list("pk", flat=True))
        for entry in USER_DATA
    }


def test_delete_leaves_no_row_of_the_user(api: APIClient, people: People) -> None:
    before = _rows_of(people.gone)
    # The fixture filled every registered table for this user, so the check below is not vacuous.
    assert all(before.values()), before
    kept = _rows_of(people.stays)

    response = api.delete(f"/api/v1/users/{people.gone.external_id}")

    assert response.status_code == 204
    for entry in USER_DATA:
        label = entry.model._meta.label
        # By the primary keys taken before: a SET_NULL would leave the row, now without its user.
        manager = entry.model._base_manager
        assert not manager.filter(pk__in=before[label]).exists(), label
        for field in user_references(entry.model):
            assert not manager.filter(**{f"{field}_id": people.gone.pk}).exists(), label
        assert set(manager.filter(pk__in=kept[label]).values_list("pk", flat=True)) == kept[label]
    leftovers = []
    with connection.cursor() as cursor:
        for table in _tables_with_user_id_not_of_a_model():
            cursor.execute(
                f'SELECT count(*) FROM "{table}" WHERE user_id = %s',
                [people.gone.pk],
            )
            if cursor.fetchone()[0]:
                leftovers.append(table)
    assert leftovers == []
    assert_error(api.get(f"/api/v1/users/{people.gone.external_id}"), 404, "not_found")
    assert api.get(f"/api/v1/users/{people.stays.external_id}").status_code == 200


def test_delete_of_an_unknown_user_is_404_and_deletes_nothing(
    api: APIClient, people: People
) -> None:
    before = _rows_of(people.gone)
    assert_error(api.delete("/api/v1/users/nobody"), 404, "not_found")
    assert _rows_of(people.gone) == before


def test_deleting_a_user_in_the_admin_erases_the_same_rows(
    admin_client: Any, people: People
) -> None:
    before = _rows_of(people.gone)
    url = reverse("admin:recommender_enduser_delete", args=[people.gone.pk])
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302, response.content[:500]
    for entry in USER_DATA:
        label = entry.model._meta.label
        assert not entry.model._base_manager.filter(pk__in=before[label]).exists(), label
    assert EndUser.objects.unscoped().filter(pk=people.stays.pk).exists()
