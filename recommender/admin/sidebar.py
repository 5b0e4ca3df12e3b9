"""What the console leaves out of its sidebar: django-celery-beat's models.

The beat rows are the platform's own sweeps (encoding, jobs, training schedule, retention),
written by migrations; the retraining schedule an operator sets is `training.retrain_every_hours`
in a tenant's configuration, which the training sweep reads. Editing or disabling a beat row by
hand would silently stop a sweep for every tenant, so the console does not offer them.
"""

from django.contrib import admin
from django_celery_beat import admin as beat_admin  # registers them, so they can be removed
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

BEAT_MODELS = (PeriodicTask, IntervalSchedule, CrontabSchedule, SolarSchedule, ClockedSchedule)
assert beat_admin  # imported for its registrations

for model in BEAT_MODELS:
    if admin.site.is_registered(model):
        admin.site.unregister(model)
