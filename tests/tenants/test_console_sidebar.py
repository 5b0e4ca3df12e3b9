"""The console's sidebar: operators and end users under distinct names, no beat models."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from recommender.models import EndUser
from tenants.models import Operator


def test_operators_and_end_users_are_named_apart_and_beat_is_left_out(db: Any) -> None:
    boss = Client()
    boss.force_login(User.objects.create_superuser("boss", "b@example.com", "pw-boss-1"))
    page = boss.get(reverse("admin:index"))
    assert page.status_code == 200
    names = [model["name"] for app in page.context["available_apps"] for model in app["models"]]
    assert "Operators" in names
    assert "End users" in names
    assert "Users" not in names
    assert not any("task" in name.lower() or "schedule" in name.lower() for name in names)
    assert not admin.site.is_registered(PeriodicTask)
    assert not admin.site.is_registered(User)
    assert admin.site.is_registered(Operator)
    assert admin.site.is_registered(EndUser)
