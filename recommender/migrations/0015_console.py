"""Console: configuration drafts (`activated_at`), and the database refusing cross-tenant rows.

- An interaction's item and user must belong to the interaction's tenant: composite foreign keys
  (tenant_id, item_id) -> item (tenant_id, id), likewise for users, over new unique indexes.
- An item's or user's tenant cannot change (a trigger), not even through `QuerySet.update`.

Non-atomic: the indexes are built CONCURRENTLY and the keys added NOT VALID and validated after,
so no step holds a write lock on the event table for a whole scan, and no DDL runs inside a
write transaction.
"""

from django.db import migrations, models

TENANT_FIXED_FUNCTION = """
CREATE OR REPLACE FUNCTION recommender_tenant_fixed() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'a % cannot move to another tenant (id %)', TG_TABLE_NAME, OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql
"""


def _same_tenant_key(table: str, column: str, target: str, name: str) -> list[migrations.RunSQL]:
    return [
        migrations.RunSQL(
            f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {target}_tenant_id_uniq"
            f" ON {target} (tenant_id, id)",
            f"DROP INDEX CONCURRENTLY IF EXISTS {target}_tenant_id_uniq",
        ),
        migrations.RunSQL(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY (tenant_id, {column})"
            f" REFERENCES {target} (tenant_id, id) ON DELETE CASCADE NOT VALID",
            f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}",
        ),
        migrations.RunSQL(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}", migrations.RunSQL.noop),
    ]


def _tenant_fixed_trigger(table: str) -> migrations.RunSQL:
    return migrations.RunSQL(
        f"CREATE TRIGGER {table}_tenant_fixed BEFORE UPDATE OF tenant_id ON {table}"
        " FOR EACH ROW WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id)"
        " EXECUTE FUNCTION recommender_tenant_fixed()",
        f"DROP TRIGGER IF EXISTS {table}_tenant_fixed ON {table}",
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("recommender", "0014_vector_partitions"),
    ]

    operations = [
        migrations.AddField(
            model_name="recommenderconfig",
            name="activated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        # Every version saved before drafts existed was activated when it was saved.
        migrations.RunSQL(
            "UPDATE recommender_recommenderconfig SET activated_at = created_at"
            " WHERE activated_at IS NULL",
            migrations.RunSQL.noop,
        ),
        *_same_tenant_key(
            "recommender_interaction", "item_id", "recommender_item", "interaction_item_same_tenant"
        ),
        *_same_tenant_key(
            "recommender_interaction", "user_id", "recommender_enduser", "interaction_user_same_tenant"
        ),
        migrations.RunSQL(TENANT_FIXED_FUNCTION, "DROP FUNCTION IF EXISTS recommender_tenant_fixed()"),
        _tenant_fixed_trigger("recommender_item"),
        _tenant_fixed_trigger("recommender_enduser"),
    ]
