"""`manage.py import_file`: the same import from the shell, counts on stdout's last line."""

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from recommender.models import Interaction, Job
from tenants.models import Tenant
from tests.jobs.files import interactions_csv

WriteFile = Callable[[str, str], Path]


def _run(*args: str, **options: Any) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_file", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_the_command_imports_and_prints_the_counts(
    tenant: Tenant, catalog: list[str], write_file: WriteFile
) -> None:
    path = write_file("events.csv", interactions_csv(1200))

    out, _ = _run(
        str(path), "--tenant", tenant.slug, "--kind", "interactions", "--chunk-rows", "500"
    )

    counts = json.loads(out.strip().splitlines()[-1])
    assert counts == {"rows": 1200, "stored": 1200, "duplicates": 0, "users_created": 50}
    assert Interaction.objects.for_tenant(tenant).count() == 1200


@pytest.mark.django_db
def test_the_command_fails_with_the_rows_at_fault(
    tenant: Tenant, catalog: list[str], write_file: WriteFile
) -> None:
    path = write_file("events.csv", "user,item,type\nu-1,sku-1,view\nu-2,sku-x,view\n")
    err = io.StringIO()

    with pytest.raises(CommandError, match="1 row is invalid"):
        call_command("import_file", str(path), tenant=tenant.slug, kind="interactions", stderr=err)

    assert "row 2, line 3 [item]: unknown item 'sku-x'" in err.getvalue()
    assert not Interaction.objects.for_tenant(tenant).exists()


@pytest.mark.django_db
def test_an_unknown_tenant_is_an_error(write_file: WriteFile) -> None:
    path = write_file("items.csv", "id\nsku-1\n")
    with pytest.raises(CommandError, match="No tenant"):
        _run(str(path), "--tenant", "nobody", "--kind", "items")


@pytest.mark.django_db
def test_the_job_option_stores_the_file_and_queues_a_job(
    tenant: Tenant, write_file: WriteFile, media_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    path = write_file("items.csv", "id\nsku-1\n")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        out, _ = _run(str(path), "--tenant", tenant.slug, "--kind", "items", "--job")

    summary = json.loads(out.strip().splitlines()[-1])
    job = Job.objects.for_tenant(tenant).get(pk=summary["job"])
    assert (job.kind, job.status) == (Job.Kind.IMPORT_ITEMS, Job.Status.QUEUED)
    assert Path(job.input_file.path).is_relative_to(media_root)
    assert Path(job.input_file.path).read_text() == "id\nsku-1\n"
    assert len(callbacks) == 1
