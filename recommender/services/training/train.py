"""Training: fit every enabled source on a tenant's interactions, evaluate them offline on a
temporal hold-out, store the artifacts serving reads, and promote the new model version.

Order of work: load arrays → tune and learn the fusion (on a validation split of the past) →
evaluate with the tuned settings (fit on the past, score the future) → fit on everything →
store (ALS factors to pgvector, neighbour lists, rankings) → promote per the configured policy.
"""

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from recommender import candidate_store, vectorstore
from recommender.engine.data import Events, InteractionMatrix, ItemTable
from recommender.engine.evaluation import SLICE_NAMES, MetricRow, Recommend, evaluate
from recommender.engine.fusion import fuse
from recommender.engine.fusion_learning import (
    MIN_TUNING_USERS,
    STORED_TRIALS,
    LearnedFusion,
    learn_fusion,
    source_proposals,
    user_cases,
    validation_users,
)
from recommender.engine.metrics import ItemPopularity
from recommender.engine.ranker import ItemStats, ItemVectors
from recommender.engine.source_tuning import BUDGET_SHARE, SourceTuning, tune_sources
from recommender.engine.sources import (
    SOURCE_SPECS,
    CandidateSource,
    TooManyItems,
    TrainingInputs,
    enabled_sources,
    trained_sources,
)
from recommender.engine.sources.base import PAD_COL
from recommender.engine.splits import (
    HoldOut,
    holdout_problem,
    holdout_slices,
    per_user_validation_split,
    sample_users,
    temporal_split,
    validation_split,
)
from recommender.models import EmbeddingSpace, Job, ModelVersion
from recommender.services.config import active_config, active_config_version
from recommender.services.encoding.spaces import (
    active_space,
    space_activate,
    space_drop_after_commit,
)
from recommender.services.jobs.lifecycle import ProgressReport
from recommender.services.training import artifacts
from recommender.services.training.data import (
    data_summary,
    load_content_vectors,
    load_events,
    load_items,
)
from recsys_platform.errors import ApplicationError
from tenants.locks import TenantLock, tenant_lock
from tenants.models import Tenant

# Each source proposes this many items per user before fusion, as serving does.
FUSION_POOL = 50
MIN_INTERACTIONS = 2


def _no_report(progress: float, counts: Mapping[str, Any]) -> None:
    pass


def _fit_all(
    names: list[str],
    config: Mapping[str, Any],
    data: InteractionMatrix,
    events: Events,
    content_vectors: npt.NDArray[np.float32] | None,
) -> tuple[dict[str, CandidateSource], dict[str, str]]:
    """Fitted sources, and for each source that could not run, why."""
    inputs = TrainingInputs(config=config, content_vectors=content_vectors)
    fitted: dict[str, CandidateSource] = {}
    skipped: dict[str, str] = {}
    for name in names:
        spec = SOURCE_SPECS[name]
        source = spec.build(config["sources"][name], inputs)
        if source is None:
            skipped[name] = spec.unavailable or "cannot run yet"
            continue
        try:
            source.fit(data, events=events)
        except TooManyItems as exc:
            skipped[name] = str(exc)
            continue
        fitted[name] = source
    return fitted, skipped


def _source_adapter(source: CandidateSource, data: InteractionMatrix) -> Recommend:
    def recommend(user_ids: Any, k: int) -> list[list[int]]:
        rows = np.array([data.user_index[int(u)] for u in user_ids], dtype=np.int64)
        cols, _ = source.recommend(rows, k)
        return [[int(data.items.ids[c]) for c in row if c != PAD_COL] for row in cols]

    return recommend


def _fused_adapter(
    sources: Mapping[str, CandidateSource],
    weights: Mapping[str, float],
    config: Mapping[str, Any],
    data: InteractionMatrix,
) -> Recommend:
    def recommend(user_ids: Any, k: int) -> list[list[int]]:
        rows = np.array([data.user_index[int(u)] for u in user_ids], dtype=np.int64)
        per_source = {name: source.recommend(rows, FUSION_POOL) for name, source in sources.items()}
        lists = []
        for n in range(len(rows)):
            candidates = {
                name: {
                    int(data.items.ids[c]): float(s)
                    for c, s in zip(cols[n], scores[n], strict=True)
                    if c != PAD_COL
                }
                for name, (cols, scores) in per_source.items()
            }
            fused = fuse(
                candidates,
                weights,
                method=config["fusion"]["method"],
                rrf_k=int(config["fusion"]["rrf_k"]),
            )
            lists.append([entry.item for entry in fused[:k]])
        return lists

    return recommend


def evaluate_offline(
    *,
    config: Mapping[str, Any],
    events: Events,
    items: ItemTable,
    content_vectors: npt.NDArray[np.float32] | None,
) -> dict[str, Any]:
    """Each enabled source alone, the fused list, and popularity (the floor) on a temporal
    hold-out: fit on events before the cut-off, score each sampled user's later discoveries,
    overall and per slice (warm users, cold users, cold items: `engine.evaluation`).

    A hold-out too small to rank models by (`splits.holdout_problem`) is not scored: the result
    has no rows and says why under "not_evaluated"; training goes on, and promotion reads it.
    """
    training = config["training"]
    k = int(training["k"])
    holdout = temporal_split(events, test_fraction=float(training["test_fraction"]))
    holdout = sample_users(holdout, int(training["eval_users"]), seed=0)
    summary = {
        "k": k,
        "users": len(holdout.test),
        "cutoff": datetime.fromtimestamp(holdout.cutoff, tz=UTC).isoformat(),
    }
    problem = holdout_problem(holdout)
    if problem is not None:
        return {**summary, "rows": {}, "skipped": {}, "not_evaluated": problem}
    data = InteractionMatrix.build(
        holdout.train,
        items,
        half_life_days=float(config["interactions"]["half_life_days"]),
        now=holdout.cutoff,
    )
    enabled = enabled_sources(config)
    # Popularity is always measured: it is the floor every other row is read against.
    names = [n for n in SOURCE_SPECS if n in enabled or n == "popular"]
    fitted, skipped = _fit_all(names, config, data, holdout.train, content_vectors)
    recommenders: dict[str, Recommend] = {
        name: _source_adapter(source, data) for name, source in fitted.items()
    }
    fused_sources = {name: fitted[name] for name in enabled if name in fitted}
    weights = {name: float(config["sources"][name]["weight"]) for name in fused_sources}
    if fused_sources:
        recommenders["fused"] = _fused_adapter(fused_sources, weights, config, data)
    test = {user: relevant for user, relevant in holdout.test.items() if user in data.user_index}
    rows: dict[str, MetricRow] = evaluate(
        recommenders,
        test,
        k=k,
        item_popularity=ItemPopularity.from_events(holdout.train),
        n_items=len(items),
        slices=holdout_slices(holdout),
    )
    return {
        **summary,
        "users": len(test),
        "rows": {name: row.as_dict() for name, row in rows.items()},
        "skipped": skipped,
    }


def _matrix(split: HoldOut, items: ItemTable, settings: Mapping[str, Any]) -> InteractionMatrix:
    """The matrix of the split's past, weighed by the settings' day half-life."""
    return InteractionMatrix.build(
        split.train,
        items,
        half_life_days=float(settings["interactions"]["half_life_days"]),
        now=split.cutoff,
    )


TEMPORAL_VALIDATION = "temporal: one cut-off before the evaluation cut-off"


def _validation_split(events: Events, fraction: float) -> tuple[HoldOut, str, bool]:
    """The split tuning and the learned fusion use, carved from the events before the
    evaluation cut-off; how it was carved; whether it is temporal (one cut-off)."""
    holdout = temporal_split(events, test_fraction=fraction)
    split = validation_split(holdout, test_fraction=fraction)
    if len(split.test) >= MIN_TUNING_USERS:
        return split, TEMPORAL_VALIDATION, True
    # Too few users discovered anything after the validation cut-off (their last days belong
    # to a handful of users): each user's newest events are theirs to find.
    per_user = per_user_validation_split(holdout, test_fraction=fraction)
    if len(per_user.test) <= len(split.test):
        return split, TEMPORAL_VALIDATION, True
    how = (
        f"per user: each user's newest events ({len(split.test)} users found items after a "
        "single validation cut-off)"
    )
    return per_user, how, False


def _tune_source_settings(
    config: Mapping[str, Any],
    *,
    split: HoldOut,
    items: ItemTable,
    data: InteractionMatrix,
    fitted: Mapping[str, CandidateSource],
    users: Sequence[int],
    weights: Mapping[str, float],
    content_vectors: npt.NDArray[np.float32] | None,
) -> SourceTuning:
    """`source_tuning.tune_sources` on `split`, refitting with this module's `_fit_all`."""
    training = config["training"]

    # The matrices of the configured day half-life and of the last other one tried.
    base_half_life = float(config["interactions"]["half_life_days"])
    matrices = {base_half_life: data}

    def refit(settings: Mapping[str, Any], names: Sequence[str]) -> dict[str, CandidateSource]:
        half_life = float(settings["interactions"]["half_life_days"])
        if half_life not in matrices:
            for other in [h for h in matrices if h != base_half_life]:
                del matrices[other]
            matrices[half_life] = _matrix(split, items, settings)
        out, _ = _fit_all(list(names), settings, matrices[half_life], split.train, content_vectors)
        return out

    return tune_sources(
        config,
        fitted=fitted,
        refit=refit,
        propose=lambda source: source_proposals(source, data, users, FUSION_POOL),
        relevant=[split.test[u] for u in users],
        weights=weights,
        method=config["fusion"]["method"],
        rrf_k=int(config["fusion"]["rrf_k"]),
        k=int(training["k"]),
        budget_s=float(training["tuning_budget_s"]) * BUDGET_SHARE,
        max_trials=int(training["tuning_trials"]),
    )


def learn_tenant_fusion(
    *,
    config: Mapping[str, Any],
    events: Events,
    items: ItemTable,
    content_vectors: npt.NDArray[np.float32] | None,
) -> tuple[LearnedFusion | None, str, dict[str, Any]]:
    """Tune the sources' settings, then the fusion, and train the ranker, on a validation split
    carved from the events before the evaluation cut-off (the evaluation slice is never read);
    None and why when the data cannot be split. The third value is the configuration with the
    tuned source settings: the version is evaluated, fitted and served with it.

    The budget (training.tuning_budget_s) is shared: the source settings start no trial past
    `source_tuning.BUDGET_SHARE` of it, and the fusion's tuning gets the rest."""
    training = config["training"]
    effective = dict(config)
    if config["fusion"]["ranker"] == "off" and float(training["tuning_budget_s"]) <= 0:
        return (
            None,
            "the ranker and tuning are off (fusion.ranker, training.tuning_budget_s)",
            effective,
        )
    try:
        split, validation, temporal = _validation_split(events, float(training["test_fraction"]))
    except ValueError as exc:
        return None, f"no validation split: {exc}", effective
    if not len(split.train):
        return None, "no validation split: no events before the validation cut-off", effective

    data = _matrix(split, items, config)
    fitted, _ = _fit_all(enabled_sources(config), config, data, split.train, content_vectors)
    budget_s = float(training["tuning_budget_s"])
    max_trials = int(training["tuning_trials"])
    users = validation_users(split, data, int(training["eval_users"]))
    weights = {name: float(config["sources"][name]["weight"]) for name in fitted}
    tuned: SourceTuning | None = None
    sources_report: dict[str, Any]
    if budget_s <= 0:
        sources_report = {"skipped": "tuning is off (training.tuning_budget_s = 0)"}
    elif len(users) < MIN_TUNING_USERS:
        sources_report = {"skipped": f"too few users for tuning: {len(users)} < {MIN_TUNING_USERS}"}
    else:
        tuned = _tune_source_settings(
            config,
            split=split,
            items=items,
            data=data,
            fitted=fitted,
            users=users,
            weights=weights,
            content_vectors=content_vectors,
        )
        fitted, effective, sources_report = tuned.sources, tuned.config, tuned.report
    cases = user_cases(
        fitted,
        data,
        split,
        pool=FUSION_POOL,
        max_recent=int(config["profile"]["max_events"]),
        max_users=int(training["eval_users"]),
        proposals=tuned.proposals if tuned is not None else None,
    )
    spent = float(sources_report.get("spent_s", 0.0))
    learned = learn_fusion(
        cases,
        sources=list(fitted),
        weights=weights,
        method=config["fusion"]["method"],
        rrf_k=int(config["fusion"]["rrf_k"]),
        stats=ItemStats.build(split.train, items, split.cutoff),
        now=split.cutoff,
        k=int(training["k"]),
        ranker_mode=config["fusion"]["ranker"],
        # What the sources left of their share, and never less than the fusion's own share
        # (a source trial's refit may end past its share: it is not cut short).
        budget_s=budget_s - min(spent, budget_s * BUDGET_SHARE),
        max_trials=max_trials,
        fresh_share=float(config["fusion"]["fresh_share"]),
        fresh_max_loss=float(config["fusion"]["fresh_max_loss"]),
        vectors=ItemVectors(items.ids, content_vectors) if content_vectors is not None else None,
    )
    report = learned.tuning_report
    # The whole tuning's figures; the fusion's own budget beside them.
    report["fusion_budget_s"] = report.get("budget_s")
    report["budget_s"] = budget_s
    report["sources"] = sources_report
    report["fusion_trials"] = int(report.get("trials", 0))
    if tuned is not None:
        report["trials"] = int(report.get("trials", 0)) + len(tuned.trials)
        report["spent_s"] = round(float(report.get("spent_s", 0.0)) + spent, 3)
        learned.trials = [*tuned.trials, *learned.trials][:STORED_TRIALS]
    report["validation"] = validation
    if temporal:
        report["validation_cutoff"] = datetime.fromtimestamp(split.cutoff, tz=UTC).isoformat()
    return learned, "", effective


@transaction.atomic
def version_activate(*, version: ModelVersion) -> None:
    """Serve `version`; the previous active version is retired.

    The version just retired keeps its artifacts (and collaborative space), so that it can be
    rolled back to at once; the one kept until now has them dropped, after commit (bulk deletes
    and partition DDL hold no lock of this transaction). At most one retired version holds
    artifacts: `version_rollback_target` names it.
    """
    tenant_lock(version.tenant_id, TenantLock.MODEL_ACTIVATION)
    previous = list(
        ModelVersion.objects.for_tenant(version.tenant)
        .filter(status=ModelVersion.Status.ACTIVE)
        .exclude(pk=version.pk)
    )
    kept_until_now = version_rollback_target(tenant=version.tenant)
    if previous and kept_until_now is not None and kept_until_now.pk != version.pk:
        transaction.on_commit(partial(candidate_store.drop_version_artifacts, kept_until_now.pk))
    for old in previous:
        old.status = ModelVersion.Status.RETIRED
        old.save(update_fields=["status"])
    if version.cf_space is not None:
        # Retires the previous version's collaborative space, keeping its vectors likewise.
        space_activate(space=version.cf_space)
    version.status = ModelVersion.Status.ACTIVE
    version.activated_at = timezone.now()
    version.save(update_fields=["status", "activated_at"])


def version_rollback_target(*, tenant: Tenant) -> ModelVersion | None:
    """The retired version that served last: the only one whose artifacts are kept."""
    return (
        ModelVersion.objects.for_tenant(tenant)
        .filter(status=ModelVersion.Status.RETIRED, activated_at__isnull=False)
        .order_by("-activated_at")
        .first()
    )


def version_rollback(*, tenant: Tenant) -> ModelVersion:
    """Serve the version that served before the active one again (its artifacts were kept)."""
    target = version_rollback_target(tenant=tenant)
    if target is None:
        raise ApplicationError(
            "no_rollback_target",
            "No earlier model version served this tenant: nothing to roll back to.",
        )
    version_activate(version=target)
    return target


def _fused_ndcg(version: ModelVersion | None, slice_name: str = "all") -> float | None:
    """The version's fused NDCG@k on its hold-out, overall ("all") or on one slice."""
    if version is None:
        return None
    row = version.metrics.get("rows", {}).get("fused") or {}
    if slice_name != "all":
        row = row.get("slices", {}).get(slice_name) or {}
    value = row.get("ndcg")
    return float(value) if value is not None else None


def _promote(version: ModelVersion, policy: str) -> dict[str, Any]:
    """Serve `version` or keep the active one, and say why.

    "always" serves it. "if_better" serves it when nothing is active, or when its fused NDCG@k
    on its hold-out is at least the active version's (a tie serves the newer model: the same
    quality, and it knows the newest items). The per-slice figures are recorded beside, not
    decided on: a slice holds a few users and moves by chance. When a version could not be
    evaluated (too little data), it serves if the active one could not be either (the newer
    model has seen more), and otherwise the evaluated active version stays.
    """
    active = ModelVersion.objects.for_tenant(version.tenant).filter(status="active").first()
    comparison = {
        name: {"new": _fused_ndcg(version, name), "active": _fused_ndcg(active, name)}
        for name in ("all", *SLICE_NAMES)
    }
    new, old = comparison["all"]["new"], comparison["all"]["active"]
    k = version.metrics.get("k")
    if active is None:
        promoted, reason = True, "no version was active"
    elif policy == "always":
        promoted, reason = True, "the policy is always"
    elif new is None and old is None:
        promoted, reason = True, f"neither this nor active {active.label} could be evaluated"
    elif new is None:
        why = version.metrics.get("not_evaluated") or "no fused list"
        promoted, reason = False, f"not evaluated ({why}); active {active.label} stays"
    elif old is None:
        promoted, reason = True, f"active {active.label} has no fused NDCG@{k} to compare"
    elif new >= old:
        promoted, reason = True, f"fused NDCG@{k} {new} ≥ {old} of active {active.label}"
    else:
        promoted, reason = (
            False,
            f"fused NDCG@{k} {new} < {old} of active {active.label}, which stays",
        )
    if promoted:
        version_activate(version=version)
    return {
        "policy": policy,
        "promoted": promoted,
        "reason": reason,
        "active": active.label if active is not None else None,
        # Each version's figures come from its own hold-out (its own cut-off).
        "cutoffs": {
            "new": version.metrics.get("cutoff"),
            "active": active.metrics.get("cutoff") if active is not None else None,
        },
        "comparison": comparison,
    }


def _next_number(tenant: Tenant) -> int:
    last = ModelVersion.objects.for_tenant(tenant).aggregate(n=Max("number"))["n"] or 0
    return int(last) + 1


def train_tenant(
    *, tenant: Tenant, job: Job | None = None, report: ProgressReport | None = None
) -> ModelVersion:
    """Train, evaluate, store and (per policy) promote a new model version of the tenant."""
    report = report or _no_report
    timings: dict[str, float] = {}
    started = time.perf_counter()
    config = active_config(tenant)
    events = load_events(tenant_id=tenant.pk, interactions=config["interactions"])
    items = load_items(tenant_id=tenant.pk)
    if len(events) < MIN_INTERACTIONS or not len(items):
        raise ApplicationError(
            "not_enough_data",
            "Training needs items and interactions; this tenant has "
            f"{len(items)} items and {len(events)} interactions.",
            http_status=409,
        )
    content_vectors = load_content_vectors(active_space(tenant.pk), items)
    timings["load_s"] = time.perf_counter() - started
    summary = data_summary(events, items)
    with transaction.atomic():
        tenant_lock(tenant.pk, TenantLock.MODEL_VERSION_NUMBER)
        version = ModelVersion.objects.for_tenant(tenant).create(
            tenant=tenant,
            number=_next_number(tenant),
            config=active_config_version(tenant),
            job=job,
            data_summary=summary,
        )
    report(0.1, {"version": version.number, **summary})
    try:
        # Tuning first (on events before the evaluation cut-off only), so the version is
        # evaluated with the source settings it is fitted and served with.
        mark = time.perf_counter()
        learned, why_not, config = learn_tenant_fusion(
            config=config, events=events, items=items, content_vectors=content_vectors
        )
        timings["learn_fusion_s"] = time.perf_counter() - mark
        report(0.3, {"version": version.number, **summary})

        mark = time.perf_counter()
        metrics = evaluate_offline(
            config=config, events=events, items=items, content_vectors=content_vectors
        )
        timings["evaluate_s"] = time.perf_counter() - mark
        report(0.5, {"version": version.number, **summary})

        mark = time.perf_counter()
        data = InteractionMatrix.build(
            events, items, half_life_days=float(config["interactions"]["half_life_days"])
        )
        fitted, skipped = _fit_all(trained_sources(config), config, data, events, content_vectors)
        timings["fit_s"] = time.perf_counter() - mark
        report(0.8, {"version": version.number, **summary})

        mark = time.perf_counter()
        # Vectors first, each chunk its own transaction, into a space no one serves yet: its
        # partition is indexed and attached before the lists below are stored and committed.
        spaces = artifacts.store_vector_spaces(version=version, sources=fitted, data=data)
        timings["store_vectors_s"] = spaces["vectors_s"]
        timings["store_index_s"] = spaces["index_s"]
        lists_mark = time.perf_counter()
        with transaction.atomic():
            version.sources = {
                name: {
                    "settings": config["sources"][name],
                    "fit_seconds": round(source.fit_seconds, 3),
                    **artifacts.store_source(version=version, name=name, source=source, data=data),
                }
                for name, source in fitted.items()
            }
            fusion = artifacts.store_learned_fusion(
                version=version, learned=learned, why_not=why_not, events=events, items=items
            )
            version.metrics = {**metrics, "skipped_in_training": skipped, **fusion}
            version.status = ModelVersion.Status.READY
            version.trained_at = timezone.now()
            timings["store_lists_s"] = time.perf_counter() - lists_mark
            timings["store_s"] = time.perf_counter() - mark
            timings["total_s"] = time.perf_counter() - started
            version.timings = {key: round(value, 3) for key, value in timings.items()}
            version.save()
        # After commit: ANALYZE holds its lock to the end of a transaction, and two tenants'
        # trainings analyse the same tables.
        candidate_store.analyze_artifacts()
        promotion = _promote(version, config["training"]["promote"])
        # Not the status of a promoted version: a concurrent training may have retired it since.
        fields = ["metrics"]
        if not promotion["promoted"]:
            candidate_store.drop_version_artifacts(version.pk)
            if version.cf_space is not None:
                vectorstore.drop_space(version.cf_space)
            version.status = ModelVersion.Status.RETIRED
            fields.append("status")
        version.metrics = {**version.metrics, "promotion": promotion}
        version.save(update_fields=fields)
    except Exception as exc:
        version.status = ModelVersion.Status.FAILED
        version.error = str(exc)[:2000] if isinstance(exc, ApplicationError) else type(exc).__name__
        version.save(update_fields=["status", "error"])
        _drop_failed(version)
        raise
    report(1.0, {"version": version.number, **summary})
    return version


def train_attempt_abandoned(*, job: Job, reason: str) -> None:
    """The train kind's abandon hook: a version its lost attempt left `training` is failed, so
    none stays in training forever. Its artifacts are stored in one transaction at the end, so a
    killed attempt committed none; the next attempt trains a new version."""
    ModelVersion.objects.for_tenant(job.tenant).filter(
        job=job, status=ModelVersion.Status.TRAINING
    ).update(status=ModelVersion.Status.FAILED, error=f"Training stopped: {reason}."[:2000])


def _drop_failed(version: ModelVersion) -> None:
    """A failed version's vectors and lists go (a retried job trains a new version)."""
    if connection.in_atomic_block and connection.needs_rollback:
        return  # a broken outer transaction (tests); its rollback removes them
    version.refresh_from_db(fields=["cf_space"])
    if version.cf_space is not None:
        version.cf_space.status = EmbeddingSpace.Status.RETIRED
        version.cf_space.save(update_fields=["status"])
        space_drop_after_commit(version.cf_space)
    transaction.on_commit(partial(candidate_store.drop_version_artifacts, version.pk))


def train_job_run(*, job: Job, report: ProgressReport) -> Mapping[str, Any]:
    """The `train` job kind (runs on the gpu queue)."""
    version = train_tenant(tenant=job.tenant, job=job, report=report)
    return {
        "version": version.number,
        "status": version.status,
        **version.data_summary,
        "fused_ndcg": _fused_ndcg(version),
    }
