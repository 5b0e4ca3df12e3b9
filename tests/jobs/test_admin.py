"""The jobs admin: uploading a file queues an import, progress bars, refresh, tenant limits."""

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from recommender.models import Item, Job
from recommender.services.jobs.lifecycle import job_create, job_run
from tenants.models import Tenant

IMPORT_URL = "admin:recommender_job_import"
REFRESH = 'http-equiv="refresh"'


def _change_url(job: Job) -> str:
    return reverse("admin:recommender_job_change", args=[job.pk])


@pytest.fixture
def boss(db: Any) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw-boss-1"))
    return client


@pytest.fixture
def operator(db: Any, tenant: Tenant) -> Client:
    """A staff user allowed to see and create jobs, operating `tenant` only."""
    user = User.objects.create_user("op", password="pw-op-12345", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_job", "add_job"], content_type__app_label="recommender"
        )
    )
    tenant.operators.add(user)
    client = Client()
    client.force_login(user)
    return client


def _job(tenant: Tenant, text: str = "id\nsku-1\n") -> Job:
    return job_create(
        tenant=tenant, kind=Job.Kind.IMPORT_ITEMS, input_file=ContentFile(text, name="items.csv")
    )


def test_a_superuser_uploads_a_file_and_its_job_imports_it(
    boss: Client, tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    upload = SimpleUploadedFile("catalog.csv", b"id,title\nsku-1,One\nsku-2,Two\n")
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        response = boss.post(
            reverse(IMPORT_URL),
            {"tenant": tenant.pk, "kind": Job.Kind.IMPORT_ITEMS, "file": upload},
        )

    job = Job.objects.for_tenant(tenant).get()
    assert response.status_code == 302
    assert response["Location"] == _change_url(job)
    assert len(enqueued) == 1
    assert job.input_file.name.endswith(".csv")
    queued_page = boss.get(_change_url(job)).content.decode()
    assert REFRESH in queued_page

    job_run(tenant_id=tenant.pk, job_id=str(job.pk))

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert Item.objects.for_tenant(tenant).count() == 2
    page = boss.get(_change_url(job)).content.decode()
    assert "succeeded" in page
    assert "created 2" in page
    assert REFRESH not in page


def test_the_upload_form_refuses_other_files(boss: Client, tenant: Tenant) -> None:
    upload = SimpleUploadedFile("catalog.xlsx", b"PK\x03\x04")
    response = boss.post(
        reverse(IMPORT_URL), {"tenant": tenant.pk, "kind": Job.Kind.IMPORT_ITEMS, "file": upload}
    )

    assert response.status_code == 200
    assert "file" in response.context["form"].errors
    assert not Job.objects.for_tenant(tenant).exists()


def test_the_changelist_shows_progress_bars_and_refreshes_while_jobs_run(
    boss: Client, tenant: Tenant
) -> None:
    job = _job(tenant)
    Job.objects.for_tenant(tenant).filter(pk=job.pk).update(
        status=Job.Status.RUNNING, progress=0.42, counts={"rows": 420}
    )

    page = boss.get(reverse("admin:recommender_job_changelist")).content.decode()

    assert '<progress value="0.4200" max="1"' in page
    assert "rows 420" in page
    assert REFRESH in page
    assert reverse(IMPORT_URL) in page  # the "Import a file" button

    Job.objects.for_tenant(tenant).filter(pk=job.pk).update(status=Job.Status.SUCCEEDED)
    assert REFRESH not in boss.get(reverse("admin:recommender_job_changelist")).content.decode()


def test_a_failed_job_shows_its_error_rows(boss: Client, tenant: Tenant) -> None:
    job = _job(tenant, "id,available\nsku-1,perhaps\n")
    job_run(tenant_id=tenant.pk, job_id=str(job.pk))

    page = boss.get(_change_url(job)).content.decode()

    assert "1 row is invalid" in page
    assert "row 1, line 2 [available]: &#x27;available&#x27; must be true or false" in page


def test_the_list_is_newest_first_with_durations_and_shortened_errors(
    boss: Client, tenant: Tenant
) -> None:
    started = timezone.now() - dt.timedelta(hours=1)
    older = _job(tenant)
    long_error = "Training failed: " + "the matrix was singular " * 20
    Job.objects.for_tenant(tenant).filter(pk=older.pk).update(
        created_at=started - dt.timedelta(minutes=5),
        status=Job.Status.FAILED,
        started_at=started,
        finished_at=started + dt.timedelta(seconds=12.5),
        error=long_error,
    )
    newer = _job(tenant)

    page = boss.get(reverse("admin:recommender_job_changelist"))

    shown = list(page.context["cl"].result_list)
    assert [job.pk for job in shown] == [newer.pk, older.pk]
    html = page.content.decode()
    assert "12.5 s" in html
    assert "Training failed: the matrix was singular" in html
    assert long_error not in html  # shortened in the list ...
    assert long_error.strip() in boss.get(_change_url(older)).content.decode()  # ... whole here


def test_there_is_no_plain_add_form(boss: Client) -> None:
    assert boss.get(reverse("admin:recommender_job_add")).status_code == 403


def test_an_operator_reaches_only_their_tenants_jobs(
    operator: Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    own = _job(tenant)
    foreign = _job(other_tenant)

    assert operator.get(_change_url(own)).status_code == 200
    assert operator.get(_change_url(foreign)).status_code == 404
    missing = reverse("admin:recommender_job_change", args=["7b0c1c52-0000-4000-8000-000000000000"])
    assert operator.get(missing).status_code == 404
    listing = operator.get(reverse("admin:recommender_job_changelist"))
    assert {job.pk for job in listing.context["cl"].result_list} == {own.pk}


def test_an_operator_cannot_import_into_another_tenant(
    operator: Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    form_page = operator.get(reverse(IMPORT_URL))
    choices = {str(pk) for pk, _ in form_page.context["form"].fields["tenant"].choices if pk}
    assert choices == {str(tenant.pk)}

    upload = SimpleUploadedFile("catalog.csv", b"id\nsku-1\n")
    response = operator.post(
        reverse(IMPORT_URL),
        {"tenant": other_tenant.pk, "kind": Job.Kind.IMPORT_ITEMS, "file": upload},
    )

    assert response.status_code == 200
    assert "tenant" in response.context["form"].errors
    assert not Job.objects.for_tenant(other_tenant).exists()


def test_staff_without_the_add_permission_cannot_import(db: Any, tenant: Tenant) -> None:
    viewer = User.objects.create_user("viewer", password="pw-viewer-1", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_job"))
    tenant.operators.add(viewer)
    client = Client()
    client.force_login(viewer)

    assert client.get(reverse(IMPORT_URL)).status_code == 403
    listing = client.get(reverse("admin:recommender_job_changelist")).content.decode()
    assert reverse(IMPORT_URL) not in listing
