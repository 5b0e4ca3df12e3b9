"""The hourly training sweep, as a django-celery-beat schedule (editable in the admin)."""

from django.db import migrations

TASK_NAME = "recommender.tasks.sweep_training"
SCHEDULE_NAME = "Training sweep: retrain tenants whose schedule is due"


def create_schedule(apps, schema_editor):
    interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    every_hour, _ = interval_model.objects.get_or_create(every=1, period="hours")
    task_model.objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={"task": TASK_NAME, "interval": every_hour, "queue": "default"},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("recommender", "0006_models_serving_and_cf_spaces"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
