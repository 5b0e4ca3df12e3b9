"""Admin of recommender configurations: a form generated from the configuration schema; every
save is a new draft version that starts from the tenant's active one; activation names what it
will re-encode and retrain, then starts it; diff of any two versions; one-click rollback."""

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django_jsonform.widgets import JSONFormWidget
from unfold.decorators import action

from recommender.engine.config_changes import config_diff
from recommender.engine.config_form import config_form_schema, from_form, to_form
from recommender.engine.config_schema import ConfigError, validate_config
from recommender.models import Job, RecommenderConfig
from recommender.services.config import active_config, config_save, with_defaults
from recommender.services.config_activation import config_activate, config_consequences
from recommender.services.jobs.lifecycle import job_create
from recsys_platform.errors import ApplicationError
from tenants.admin_base import OperableTenantFilter, TenantOwnedAdmin, operable_tenants
from tenants.models import Tenant


class ConfigForm(forms.ModelForm):
    """The configuration in a schema-generated form, validated by the services' schema."""

    # A field named like the model's; the form metaclass collects it, it is not BaseForm.data.
    data = forms.JSONField(  # type: ignore[assignment]
        widget=JSONFormWidget(schema=config_form_schema),
        label="Configuration",
        help_text="Starts from the tenant's active version. Saving stores a draft; activate it "
        "from its page after a preview.",
    )

    class Meta:
        model = RecommenderConfig
        fields = ("tenant", "data", "note")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        data = cleaned.get("data")
        if data is not None:
            try:
                cleaned["data"] = validate_config(from_form(data))
            except ConfigError as exc:
                for error in exc.errors:
                    self.add_error("data", f"{error['field'] or 'config'}: {error['message']}")
        return cleaned


def _pretty(data: dict[str, Any]) -> str:
    return format_html(
        '<pre style="white-space: pre; font-family: monospace; font-size: 12px">{}</pre>',
        json.dumps(data, indent=2, sort_keys=False),
    )


@admin.register(RecommenderConfig)
class RecommenderConfigAdmin(TenantOwnedAdmin):
    form = ConfigForm
    list_display = ("tenant", "version", "state_badge", "note", "created_by", "created_at")
    list_filter = (("tenant", OperableTenantFilter), "is_active")
    ordering = ("tenant__slug", "-version")
    actions = ("compare", "reencode")
    actions_detail = ("activate", "preview", "new_from_this", "diff_with_active", "rollback")

    # --- the add form: a tenant first, then its active version (or ?from=<version>) as the start
    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> Any:
        if request.method == "GET" and not self._start_tenant(request):
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "New configuration version: which tenant?",
                "tenants": operable_tenants(request.user),
            }
            return TemplateResponse(
                request, "admin/recommender/recommenderconfig/pick_tenant.html", context
            )
        return super().add_view(request, form_url, extra_context)

    def _start_tenant(self, request: HttpRequest) -> Tenant | None:
        tenant_id = request.GET.get("tenant", "")
        tenants = operable_tenants(request.user)
        if tenant_id.isdigit():
            return tenants.filter(pk=tenant_id).first()
        source = self._source(request)
        if source is not None:
            return source.tenant
        return tenants.first() if tenants.count() == 1 else None

    def _source(self, request: HttpRequest) -> RecommenderConfig | None:
        source_id = request.GET.get("from", "")
        if not source_id.isdigit():
            return None
        return self.get_queryset(request).filter(pk=source_id).first()

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        tenant = self._start_tenant(request)
        source = self._source(request)
        if source is not None:
            initial.update(tenant=source.tenant_id, data=to_form(with_defaults(source.data)))
        elif tenant is not None:
            # Never the defaults: a new version builds on what serves, so earlier changes stay.
            initial.update(tenant=tenant.pk, data=to_form(active_config(tenant)))
        return initial

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Saved versions are immutable: edit by saving a new version ("New version from this").
        if obj is None:
            return ()
        return ("tenant", "version", "state_badge", "note", "activation", "data_pretty")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("tenant", "data", "note")
        return ("tenant", "version", "state_badge", "note", "activation", "data_pretty")

    @admin.display(description="state")
    def state_badge(self, obj: RecommenderConfig) -> str:
        return obj.state

    @admin.display(description="configuration")
    def data_pretty(self, obj: RecommenderConfig) -> str:
        return _pretty(obj.data)

    @admin.display(description="activating it would")
    def activation(self, obj: RecommenderConfig) -> str:
        if obj.is_active:
            return "(active now)"
        return _consequence_text(obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        saved = config_save(
            tenant=form.cleaned_data["tenant"],
            data=form.cleaned_data["data"],
            note=form.cleaned_data.get("note", ""),
            created_by=request.user,
            activate=False,
        )
        obj.pk = saved.pk
        obj.version = saved.version

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: Any = None) -> Any:
        messages.success(
            request,
            f"Saved draft v{obj.version} of {obj.tenant}. Nothing changed yet: preview it, then "
            "activate it from its page.",
        )
        if "_addanother" in request.POST:
            # Another version of the same tenant, starting from this draft (the add form with no
            # start would offer the defaults, which an unchanged submit cannot save).
            url = reverse("admin:recommender_recommenderconfig_add")
            return HttpResponseRedirect(f"{url}?from={obj.pk}")
        return HttpResponseRedirect(
            reverse("admin:recommender_recommenderconfig_change", args=[obj.pk])
        )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        extra = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        return super().change_view(request, object_id, form_url, extra)

    def _version(self, request: HttpRequest, object_id: Any) -> RecommenderConfig:
        version = self.get_queryset(request).filter(pk=str(object_id)).first()
        if version is None or not str(object_id).isdigit():
            raise Http404("No such configuration version.")
        return version

    # --- detail-page buttons
    @action(description="Activate", url_path="activate", icon="play_arrow")
    def activate(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        version = self._version(request, object_id)
        if request.method == "POST":
            try:
                _, jobs = config_activate(config=version)
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                started = ", ".join(f"{job.kind} job" for job in jobs) or "no job needed"
                messages.success(
                    request, f"v{version.version} of {version.tenant} is active ({started})."
                )
            return HttpResponseRedirect(
                reverse("admin:recommender_recommenderconfig_change", args=[version.pk])
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Activate v{version.version} of {version.tenant}?",
            "version": version,
            "consequences": config_consequences(config=version),
            "changes": config_diff(active_config(version.tenant), with_defaults(version.data)),
        }
        return TemplateResponse(
            request, "admin/recommender/recommenderconfig/confirm_activate.html", context
        )

    @action(description="Preview", url_path="preview", icon="visibility")
    def preview(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        version = self._version(request, object_id)
        url = reverse("admin:recommender_modelversion_preview")
        return HttpResponseRedirect(f"{url}?tenant={version.tenant_id}&version={version.pk}")

    @action(description="New version from this", url_path="new-from", icon="content_copy")
    def new_from_this(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        version = self._version(request, object_id)
        url = reverse("admin:recommender_recommenderconfig_add")
        return HttpResponseRedirect(f"{url}?from={version.pk}")

    @action(description="Diff with active", url_path="diff-active", icon="difference")
    def diff_with_active(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        version = self._version(request, object_id)
        active = self.get_queryset(request).filter(tenant=version.tenant, is_active=True).first()
        url = reverse("admin:recommender_recommenderconfig_diff")
        other = active.pk if active is not None else version.pk
        return HttpResponseRedirect(f"{url}?a={other}&b={version.pk}")

    @action(description="Roll back", url_path="rollback", icon="undo")
    def rollback(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        """The activation page of the version that was active before the current one: what it
        re-encodes and retrains is named there, one button activates it."""
        version = self._version(request, object_id)
        previous = (
            self.get_queryset(request)
            .filter(tenant=version.tenant, is_active=False, activated_at__isnull=False)
            .order_by("-activated_at")
            .first()
        )
        if previous is None:
            messages.error(request, "No earlier version of this tenant was ever active.")
            return HttpResponseRedirect(
                reverse("admin:recommender_recommenderconfig_change", args=[version.pk])
            )
        url = reverse("admin:recommender_recommenderconfig_activate", args=[previous.pk])
        return HttpResponseRedirect(url)

    # --- diff of any two versions
    def get_urls(self) -> list[URLPattern]:
        diff = path(
            "diff/",
            self.admin_site.admin_view(self.diff_view),
            name="recommender_recommenderconfig_diff",
        )
        return [diff, *super().get_urls()]

    def diff_view(self, request: HttpRequest) -> HttpResponse:
        versions = self.get_queryset(request)
        ids = [request.GET.get("a", ""), request.GET.get("b", "")]
        chosen = [versions.filter(pk=i).first() if i.isdigit() else None for i in ids]
        first, second = chosen
        picked = first or second
        tenant = picked.tenant if picked is not None else None
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Compare configuration versions",
            "choices": versions.filter(tenant=tenant) if tenant else versions,
            "a": first,
            "b": second,
            "changes": None,
        }
        if first is not None and second is not None:
            if first.tenant_id != second.tenant_id:
                context["error"] = "Pick two versions of the same tenant."
            else:
                context["changes"] = config_diff(
                    with_defaults(first.data), with_defaults(second.data)
                )
        return TemplateResponse(request, "admin/recommender/recommenderconfig/diff.html", context)

    @admin.action(description="Compare the two selected versions")
    def compare(self, request: HttpRequest, queryset: QuerySet[RecommenderConfig]) -> Any:
        picked = list(queryset.order_by("version")[:3])
        if len(picked) != 2:
            messages.error(request, "Select exactly two versions to compare.")
            return None
        url = reverse("admin:recommender_recommenderconfig_diff")
        return HttpResponseRedirect(f"{url}?a={picked[0].pk}&b={picked[1].pk}")

    @admin.action(description="Re-encode the selected versions' tenants")
    def reencode(self, request: HttpRequest, queryset: QuerySet[RecommenderConfig]) -> None:
        queue_reencode(request, {config.tenant for config in queryset.select_related("tenant")})


def _consequence_text(version: RecommenderConfig) -> str:
    consequences = config_consequences(config=version)
    parts = []
    if consequences.reencode:
        parts.append(f"re-encode the catalogue ({', '.join(consequences.reencode)})")
    if consequences.retrain:
        parts.append(f"retrain ({', '.join(consequences.retrain)})")
    return "; ".join(parts) or "serve at once: no re-encoding or retraining needed"


def queue_reencode(request: HttpRequest, tenants: set[Any]) -> None:
    """Queue an encode job per tenant and say where to watch it."""
    for tenant in tenants:
        job = job_create(tenant=tenant, kind=Job.Kind.ENCODE)
        url = reverse("admin:recommender_job_change", args=[job.pk])
        messages.success(
            request, format_html('Queued <a href="{}">encoding</a> of {}.', url, tenant)
        )
