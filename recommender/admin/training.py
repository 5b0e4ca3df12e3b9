"""Admin of model versions: status, sources, timings, the offline metrics table with its slices
and the promotion decision; a "retrain" action; and the preview page, where an operator picks a
user and sees their recent interactions, their list under the active configuration and, beside
it, the list of a draft configuration."""

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from unfold.decorators import action

from recommender.engine.config_schema import merge_config
from recommender.models import Job, ModelVersion, RecommenderConfig
from recommender.services.config import active_config, config_save
from recommender.services.console.preview import PreviewError, preview_for_user
from recommender.services.jobs.lifecycle import job_create
from recommender.services.training.train import version_activate, version_rollback_target
from recsys_platform.errors import ApplicationError
from tenants.admin_base import OperableTenantFilter, TenantOwnedAdmin, operable_tenants
from tenants.models import Tenant
from tenants.scoping import tenant_scope

METRIC_COLUMNS = ("recall", "ndcg", "map", "hit_rate", "coverage", "novelty")
SLICE_COLUMNS = ("recall", "ndcg", "hit_rate")


def _number(value: Any) -> Any:
    return "-" if value is None else value


def _cells(row: dict[str, Any], columns: tuple[str, ...]) -> str:
    return format_html_join("", "<td>{}</td>", ((_number(row.get(c)),) for c in columns))


class PreviewForm(forms.Form):
    tenant = forms.ModelChoiceField(queryset=Tenant.objects.none())
    user = forms.CharField(max_length=255, label="User id", help_text="The tenant's own user id.")
    draft = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 70, "class": "vLargeTextField"}),
        label="Draft changes",
        help_text='JSON merged over the active configuration, e.g. {"sources": {"als": '
        '{"weight": 0}}, "rules": {"mmr_lambda": 0.7}}. Not saved unless you save it.',
    )

    def __init__(self, *args: Any, tenants: QuerySet[Tenant], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tenant_field = self.fields["tenant"]
        assert isinstance(tenant_field, forms.ModelChoiceField)
        tenant_field.queryset = tenants

    def clean_draft(self) -> dict[str, Any]:
        raw = self.cleaned_data.get("draft") or ""
        if not raw.strip():
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno}).") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError("The draft must be a JSON object.")
        return value


def _preview_start(request: HttpRequest) -> dict[str, Any]:
    """?tenant=<id>&version=<config id>: the preview of a saved version (a draft, usually) of a
    tenant the operator may operate; anything else starts empty."""
    tenant_id, version_id = request.GET.get("tenant", ""), request.GET.get("version", "")
    tenant = (
        operable_tenants(request.user).filter(pk=tenant_id).first() if tenant_id.isdigit() else None
    )
    if tenant is None:
        return {}
    initial: dict[str, Any] = {"tenant": tenant.pk}
    version = (
        RecommenderConfig.objects.for_tenant(tenant).filter(pk=version_id).first()
        if version_id.isdigit()
        else None
    )
    if version is not None:
        initial["draft"] = json.dumps(version.data, indent=2)
    return initial


@admin.register(ModelVersion)
class ModelVersionAdmin(TenantOwnedAdmin):
    list_display = (
        "tenant",
        "label",
        "status",
        "config_version",
        "trained_at",
        "activated_at",
        "fused_ndcg",
    )
    list_filter = (("tenant", OperableTenantFilter), "status")
    ordering = ("-created_at",)
    fields = (
        "tenant",
        "label",
        "status",
        "config_version",
        "job",
        "created_at",
        "trained_at",
        "activated_at",
        "data_summary",
        "sources_table",
        "metrics_table",
        "slices_table",
        "promotion",
        "learned_fusion",
        "timings",
        "error",
    )
    readonly_fields = fields
    actions = ("retrain",)
    actions_detail = ("serve_again",)
    change_list_template = "admin/recommender/modelversion/change_list.html"

    # Versions are made by training jobs only.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="version")
    def label(self, version: ModelVersion) -> str:
        return version.label

    @admin.display(description="config")
    def config_version(self, version: ModelVersion) -> str:
        return f"v{version.config.version}" if version.config else "-"

    @admin.display(description="fused NDCG")
    def fused_ndcg(self, version: ModelVersion) -> str:
        row = version.metrics.get("rows", {}).get("fused") or {}
        k = version.metrics.get("k", "")
        return f"{row['ndcg']:.4f} @{k}" if row.get("ndcg") is not None else "-"

    @admin.display(description="sources")
    def sources_table(self, version: ModelVersion) -> str:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    name,
                    info.get("settings", {}).get("weight", ""),
                    info.get("fit_seconds", ""),
                    info.get("stored", ""),
                )
                for name, info in version.sources.items()
            ),
        )
        return format_html(
            "<table><tr><th>source</th><th>weight</th><th>fit s</th><th>stored rows</th></tr>"
            "{}</table>",
            rows,
        )

    @admin.display(description="offline metrics")
    def metrics_table(self, version: ModelVersion) -> str:
        metrics = version.metrics
        if metrics.get("not_evaluated"):
            return format_html("not evaluated: {}", metrics["not_evaluated"])
        if not metrics.get("rows"):
            return "-"
        k = metrics.get("k")
        header = format_html_join("", "<th>{}</th>", ((f"{c}@{k}",) for c in METRIC_COLUMNS))
        body = format_html_join(
            "",
            "<tr><td>{}</td>{}</tr>",
            ((name, _cells(row, METRIC_COLUMNS)) for name, row in metrics["rows"].items()),
        )
        return format_html(
            "<p>{} users, cut-off {}</p><table><tr><th>model</th>{}</tr>{}</table>",
            metrics.get("users"),
            metrics.get("cutoff"),
            header,
            body,
        )

    @admin.display(description="slices")
    def slices_table(self, version: ModelVersion) -> str:
        """Each row on warm users, cold users (≤ 2 training events) and cold items (targets with
        no training event, scored on those alone), with the users and targets of each."""
        rows = version.metrics.get("rows") or {}
        lines = [
            (name, slice_name, _cells(part, SLICE_COLUMNS), part.get("users"), part.get("targets"))
            for name, row in rows.items()
            for slice_name, part in (row.get("slices") or {}).items()
        ]
        if not lines:
            return "-"
        k = version.metrics.get("k")
        header = format_html_join("", "<th>{}</th>", ((f"{c}@{k}",) for c in SLICE_COLUMNS))
        body = format_html_join(
            "", "<tr><td>{}</td><td>{}</td>{}<td>{}</td><td>{}</td></tr>", lines
        )
        return format_html(
            "<table><tr><th>model</th><th>slice</th>{}<th>users</th><th>targets</th></tr>{}"
            "</table>",
            header,
            body,
        )

    @admin.display(description="promotion")
    def promotion(self, version: ModelVersion) -> str:
        """Whether training served this version, why, and its fused NDCG beside the version
        that was active then, overall and per slice."""
        promotion = version.metrics.get("promotion")
        if not promotion:
            return "-"
        comparison = promotion.get("comparison") or {}
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (name, _number(pair.get("new")), _number(pair.get("active")))
                for name, pair in comparison.items()
            ),
        )
        return format_html(
            "<p>{}: {} (policy {})</p><table><tr><th>fused NDCG@{}</th><th>this version</th>"
            "<th>active {}</th></tr>{}</table>",
            "promoted" if promotion.get("promoted") else "not promoted",
            promotion.get("reason", ""),
            promotion.get("policy", "-"),
            version.metrics.get("k", ""),
            promotion.get("active") or "(none)",
            body,
        )

    @admin.display(description="learned fusion and tuning")
    def learned_fusion(self, version: ModelVersion) -> str:
        ranker = version.metrics.get("ranker") or {}
        tuning = version.metrics.get("tuning") or {}
        if not ranker and not tuning:
            return "-"
        rows = [
            ("ranker", "used" if ranker.get("used") else "not used", ranker.get("reason", "")),
            (
                "validation NDCG",
                f"weighted {ranker.get('weighted_ndcg', '-')}",
                f"ranker {ranker.get('ranker_ndcg', '-')}",
            ),
            (
                "ranker cost",
                f"fit {ranker.get('fit_s', '-')} s",
                f"{ranker.get('predict_ms_per_user', '-')} ms per user",
            ),
            (
                "tuning",
                f"{tuning.get('trials', 0)} trials, {tuning.get('spent_s', 0)} of "
                f"{tuning.get('budget_s', 0)} s",
                tuning.get("skipped")
                or f"validation split {tuning.get('validation', 'temporal')}"
                + (
                    f", cut-off {tuning['validation_cutoff']}"
                    if tuning.get("validation_cutoff")
                    else ""
                ),
            ),
        ]
        tuned = tuning.get("sources") or {}
        if tuned.get("skipped"):
            rows.append(("source settings", "not tuned", tuned["skipped"]))
        elif tuned:
            rows.append(
                (
                    "source settings",
                    f"{tuned.get('trials', 0)} trials, {tuned.get('spent_s', 0)} of "
                    f"{tuned.get('budget_s', 0)} s; validation NDCG "
                    f"{tuned.get('configured_ndcg')} configured, {tuned.get('best_ndcg')} best",
                    "serving " + json.dumps(tuned["applied"])
                    if tuned.get("used")
                    else "the configured settings serve: no value beat them",
                )
            )
            rows.append(("best source settings", json.dumps(tuned.get("best", {})), ""))
            if tuned.get("not_finished"):
                rows.append(("settings not finished", json.dumps(tuned["not_finished"]), ""))
        if ranker.get("top_features"):
            shares = ", ".join(f"{n} {v:.0%}" for n, v in ranker["top_features"].items())
            rows.append(("ranker's top features", shares, "share of the model's gain"))
        weights = tuning.get("weights") or {}
        if weights.get("best"):
            used = "serving" if weights.get("used") else "not better than configured"
            rows.append(("best weights", json.dumps(weights["best"]), used))
        if (tuning.get("ranker") or {}).get("best"):
            rows.append(("best ranker settings", json.dumps(tuning["ranker"]["best"]), ""))
        fresh = tuning.get("fresh") or {}
        if fresh:
            rows.append(
                (
                    "places for fresh items",
                    f"{fresh.get('chosen', 0):.0%} of each list (at most "
                    f"{fresh.get('configured', 0):.0%}); warm NDCG by share "
                    f"{json.dumps(fresh.get('warm_ndcg', {}))}",
                    fresh.get("reason", ""),
                )
            )
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td><td>{}</td></tr>", rows),
        )

    @action(description="Roll back to this version", url_path="serve-again", icon="undo")
    def serve_again(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        """Serve a retired version again: the one that served before the active one, whose
        artifacts are kept (older versions' artifacts are dropped: retrain instead)."""
        version = self.get_queryset(request).filter(pk=str(object_id)).first()
        if version is None or not str(object_id).isdigit():
            raise Http404("No such model version.")
        page = reverse("admin:recommender_modelversion_change", args=[version.pk])
        target = version_rollback_target(tenant=version.tenant)
        if target is None or target.pk != version.pk:
            messages.error(
                request,
                "Only the version that served before the active one can be rolled back to "
                f"(for {version.tenant}: {target.label if target else 'none'}).",
            )
            return HttpResponseRedirect(page)
        if request.method != "POST":
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": f"Serve {version.label} of {version.tenant} again?",
                "tenant": version.tenant,
                "button": f"Roll back to {version.label}",
            }
            return TemplateResponse(request, "admin/tenants/tenant/confirm.html", context)
        with tenant_scope(version.tenant):
            version_activate(version=version)
        messages.success(request, f"{version.label} of {version.tenant} serves again.")
        return HttpResponseRedirect(page)

    @admin.action(description="Retrain (queue a training job for these versions' tenants)")
    def retrain(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        for tenant in operable_tenants(request.user).filter(
            pk__in=queryset.values_list("tenant_id", flat=True)
        ):
            job = job_create(tenant=tenant, kind=Job.Kind.TRAIN)
            url = reverse("admin:recommender_job_change", args=[job.pk])
            messages.success(
                request, format_html('Queued <a href="{}">training</a> for {}.', url, tenant)
            )

    def get_urls(self) -> list[URLPattern]:
        preview = path(
            "preview/",
            self.admin_site.admin_view(self.preview_view),
            name="recommender_modelversion_preview",
        )
        return [preview, *super().get_urls()]

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        tenants = operable_tenants(request.user)
        form = PreviewForm(request.POST or None, tenants=tenants, initial=_preview_start(request))
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Preview recommendations",
            "form": form,
        }
        if request.method == "POST" and form.is_valid():
            tenant = form.cleaned_data["tenant"]
            with tenant_scope(tenant):
                if "save" in request.POST:
                    return self._save_draft(request, tenant, form.cleaned_data["draft"])
                try:
                    context["preview"] = preview_for_user(
                        tenant=tenant,
                        user_id=form.cleaned_data["user"],
                        draft=form.cleaned_data["draft"],
                    )
                except PreviewError as exc:
                    context["preview_error"] = exc.message
                    context["field_errors"] = exc.details
        return TemplateResponse(request, "admin/recommender/modelversion/preview.html", context)

    def _save_draft(self, request: HttpRequest, tenant: Tenant, draft: dict[str, Any]) -> Any:
        try:
            saved = config_save(
                tenant=tenant,
                data=merge_config(active_config(tenant), draft),
                note="saved from the preview",
                created_by=request.user,
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("admin:recommender_modelversion_preview"))
        messages.success(request, f"Saved as configuration v{saved.version} of {tenant}.")
        return HttpResponseRedirect(reverse("admin:recommender_modelversion_preview"))
