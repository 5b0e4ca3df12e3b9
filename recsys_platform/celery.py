"""The Celery app, configured from Django settings (CELERY_* names)."""

import os

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recsys_platform.settings")

app = Celery("recsys_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
# `gpu` takes encoding and training (GPU workers consume it); `default` takes the rest.
app.conf.task_queues = (
    Queue("default", Exchange("default"), routing_key="default"),
    Queue("gpu", Exchange("gpu"), routing_key="gpu"),
)
app.autodiscover_tasks()
