"""Served-list retention: an index for the purge's (tenant, created_at) range, built concurrently
(no DDL holding a write lock on a large table), and the daily purge as a django-celery-beat
schedule (editable in the admin)."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

TASK_NAME = "recommender.tasks.purge_served_lists"
SCHEDULE_NAME = "Served-list purge: delete served lists past their tenant's retention"


def create_schedule(apps, schema_editor):
    interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    every_day, _ = interval_model.objects.get_or_create(every=1, period="days")
    task_model.objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={"task": TASK_NAME, "interval": every_day, "queue": "default"},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("recommender", "0015_console"),
        ("tenants", "0003_served_list_retention"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="servedlist",
            index=models.Index(fields=["tenant", "created_at"], name="servedlist_tenant_time"),
        ),
        migrations.RunPython(create_schedule, remove_schedule, atomic=True),
    ]
