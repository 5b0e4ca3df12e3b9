"""`manage.py evaluate`: every source, the fused list and popularity, printed and storable."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from recommender.models import ModelVersion
from tenants.models import Tenant
from tests.serving.conftest import Planted, load_planted

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("evaluate", *args, stdout=out)
    return out.getvalue()


def test_the_table_has_every_source_the_fused_list_and_popularity(planted: Planted) -> None:
    output = _run("--tenant", planted.tenant.slug, "--k", "5", "--users", "100")
    lines = output.splitlines()
    assert "k=5" in lines[0]
    assert lines[1].split()[:3] == ["model", "recall@5", "ndcg@5"]
    blank = lines.index("")
    models = {line.split()[0] for line in lines[2:blank]}
    assert {"content", "als", "cooccurrence", "popular", "fused"} <= models
    fused = next(line for line in lines if line.startswith("fused")).split()
    popular = next(line for line in lines if line.startswith("popular")).split()
    assert float(fused[2]) > float(popular[2])  # ndcg@5
    # Then every model on each slice, with its users and targets.
    slices = [line.split() for line in lines[blank + 1 :]]
    assert slices[0] == [
        "model",
        "slice",
        "recall@5",
        "ndcg@5",
        "map@5",
        "hit_rate@5",
        "users",
        "targets",
    ]
    fused_slices = {cells[1]: cells for cells in slices if cells[0] == "fused"}
    assert set(fused_slices) == {"warm_users", "cold_users", "cold_items"}
    warm, cold = fused_slices["warm_users"], fused_slices["cold_users"]
    # Every evaluated user is warm or cold; the planted users all have many events.
    assert int(warm[6]) + int(cold[6]) == int(lines[0].split(": ")[1].split()[0])
    assert int(warm[6]) > 0


def test_store_keeps_the_result_on_the_active_version(planted: Planted) -> None:
    output = _run("--tenant", planted.tenant.slug, "--store")
    version = ModelVersion.objects.for_tenant(planted.tenant).get(status="active")
    assert f"stored on model {version.label}" in output
    stored = version.metrics["evaluation"]
    assert stored["k"] == 10
    assert "fused" in stored["rows"]


def test_unknown_tenant_and_bad_options_are_clear_errors(planted: Planted) -> None:
    with pytest.raises(CommandError, match="No tenant with slug 'nope'"):
        _run("--tenant", "nope")
    with pytest.raises(CommandError, match="--k"):
        _run("--tenant", planted.tenant.slug, "--k", "0")


def test_a_tenant_without_events_is_told_so(other_tenant: object) -> None:
    with pytest.raises(CommandError, match="needs items and interactions"):
        _run("--tenant", "globex")


def test_a_tenant_too_small_for_a_hold_out_is_told_why(tenant: Tenant) -> None:
    load_planted(tenant, n_users=6, n_items=20, n_groups=2, events_per_user=5)
    lines = _run("--tenant", tenant.slug).splitlines()
    assert lines[0].startswith(f"{tenant.slug}: ")
    assert lines[1].startswith("not evaluated: ")
    assert lines[1].endswith("at least 10 are needed")
