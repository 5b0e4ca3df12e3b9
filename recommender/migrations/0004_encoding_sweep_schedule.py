"""The periodic encoding sweep, as a django-celery-beat schedule (editable in the admin)."""

from django.db import migrations

TASK_NAME = "recommender.tasks.sweep_encoding"
SCHEDULE_NAME = "Encoding sweep: queue encoding where items lack vectors"


def create_schedule(apps, schema_editor):
    interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    every_five_minutes, _ = interval_model.objects.get_or_create(every=5, period="minutes")
    task_model.objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={"task": TASK_NAME, "interval": every_five_minutes, "queue": "default"},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("recommender", "0003_vectors_and_config"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
