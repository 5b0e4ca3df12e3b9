"""Item and user vectors partitioned by embedding space (LIST on space_id), existing rows copied.

A space's HNSW index lives on its own partition, and a retired space is a detached and dropped
partition (`recommender.vectorstore`), so index DDL never locks another space's rows. The
foreign keys of the vector tables become ORM-only (`db_constraint=False`): a database foreign
key from a partition would lock the item and user tables whenever a partition is attached or
dropped (SHARE ROW EXCLUSIVE, ACCESS EXCLUSIVE on drop), i.e. every tenant's catalogue reads and
writes. Deletes of items, users and spaces still cascade to their vectors through the ORM.
"""

from django.db import migrations, models

HNSW_M = 16
HNSW_EF_CONSTRUCTION = 256

TABLES = (
    # table, its key column, its unique constraint
    ("recommender_itemvector", "item_id", "itemvector_unique"),
    ("recommender_uservector", "user_id", "uservector_unique"),
)


def _partition(cursor, table, key, unique):
    old = f"{table}_unpartitioned"
    cursor.execute(f"ALTER TABLE {table} RENAME TO {old}")
    cursor.execute(f"ALTER TABLE {old} RENAME CONSTRAINT {unique} TO {unique}_old")
    cursor.execute(
        "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexname LIKE %s",
        [old, "itemvector_hnsw_space_%"],
    )
    hnsw = [row[0] for row in cursor.fetchall()]
    for name in hnsw:
        cursor.execute(f"DROP INDEX {name}")
    cursor.execute(f"SELECT COALESCE(max(id), 0) FROM {old}")
    last_id = cursor.fetchone()[0]
    # The id keeps Django's model whole; a partitioned table's keys must include space_id.
    cursor.execute(f"CREATE SEQUENCE {table}_part_id_seq")
    cursor.execute(
        f"CREATE TABLE {table} ("
        f" id bigint NOT NULL DEFAULT nextval('{table}_part_id_seq'),"
        " embedding vector NOT NULL,"
        " content_hash varchar(64) NOT NULL,"
        " updated_at timestamp with time zone NOT NULL,"
        f" {key} bigint NOT NULL,"
        " space_id bigint NOT NULL,"
        f" CONSTRAINT {table}_space_pkey PRIMARY KEY (space_id, id),"
        f" CONSTRAINT {unique} UNIQUE (space_id, {key})"
        ") PARTITION BY LIST (space_id)"
    )
    cursor.execute(f"ALTER SEQUENCE {table}_part_id_seq OWNED BY {table}.id")
    if last_id:
        cursor.execute(f"SELECT setval('{table}_part_id_seq', %s)", [last_id])
    # The ORM's cascades delete by item (user) id across every partition.
    cursor.execute(f"CREATE INDEX {table}_{key}_part ON {table} ({key})")
    cursor.execute(
        "SELECT id, dimension, metric FROM recommender_embeddingspace WHERE status <> 'retired'"
        " OR id IN (SELECT DISTINCT space_id FROM " + old + ")"
    )
    for space_id, dimension, metric in cursor.fetchall():
        partition = f"{table}_p{int(space_id)}"
        cursor.execute(
            f"CREATE TABLE {partition} PARTITION OF {table} FOR VALUES IN ({int(space_id)})"
        )
        cursor.execute(
            f"INSERT INTO {partition} (id, embedding, content_hash, updated_at, {key}, space_id)"
            f" SELECT id, embedding, content_hash, updated_at, {key}, space_id FROM {old}"
            " WHERE space_id = %s",
            [space_id],
        )
        index = f"itemvector_hnsw_space_{int(space_id)}"
        if key == "item_id" and index in hnsw:
            ops = "vector_ip_ops" if metric == "ip" else "vector_cosine_ops"
            cursor.execute(
                f"CREATE INDEX {index} ON {partition}"
                f" USING hnsw ((embedding::vector({int(dimension)})) {ops})"
                f" WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})"
            )
    cursor.execute(f"DROP TABLE {old}")


def partition_vectors(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for table, key, unique in TABLES:
            _partition(cursor, table, key, unique)


def _foreign_key(to, **kwargs):
    return models.ForeignKey(
        db_constraint=False,
        on_delete=models.deletion.CASCADE,
        related_name="+",
        to=to,
        **kwargs,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("recommender", "0013_experiments"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunPython(partition_vectors)
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="itemvector", name="item", field=_foreign_key("recommender.item")
                ),
                migrations.AlterField(
                    model_name="itemvector",
                    name="space",
                    field=_foreign_key("recommender.embeddingspace"),
                ),
                migrations.AlterField(
                    model_name="uservector", name="user", field=_foreign_key("recommender.enduser")
                ),
                migrations.AlterField(
                    model_name="uservector",
                    name="space",
                    field=_foreign_key("recommender.embeddingspace"),
                ),
            ],
        ),
    ]
