"""The job outbox (a queued job records that its message is owed to the broker), the owner of a
running attempt, and the frequent job sweep that re-sends owed messages and recovers jobs whose
worker died, as a django-celery-beat schedule (editable in the admin)."""

from django.db import migrations, models
from django.db.models import F

TASK_NAME = "recommender.tasks.sweep_jobs"
SCHEDULE_NAME = "Job sweep: send owed job messages, recover jobs whose worker died"
EVERY_SECONDS = 30


def forward(apps, schema_editor):
    # Jobs queued before the outbox may have lost their message (the bug this fixes): owe them
    # one. A duplicate message is harmless; the worker takes a job once.
    apps.get_model("recommender", "Job")._base_manager.filter(status="queued").update(
        dispatch_due_at=F("created_at")
    )
    # Versions that killed trainings left in "training" (their job has been re-queued, taken over
    # or has finished since): failed, as the train kind's abandon hook now does at once. A version
    # without a job (trained in process by a command) may be training right now and is left.
    apps.get_model("recommender", "ModelVersion")._base_manager.filter(
        status="training", job__isnull=False
    ).exclude(job__status="running").update(
        status="failed", error="Training stopped: its worker stopped."
    )
    interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = interval_model.objects.get_or_create(every=EVERY_SECONDS, period="seconds")
    task_model.objects.get_or_create(
        name=SCHEDULE_NAME, defaults={"task": TASK_NAME, "interval": every, "queue": "default"}
    )


def backward(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("recommender", "0011_ranker_model"),
        ("tenants", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="dispatch_due_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="job",
            name="dispatched_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="job",
            name="owner",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(
                condition=models.Q(("dispatch_due_at__isnull", False)),
                fields=["dispatch_due_at"],
                name="job_dispatch_owed",
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
