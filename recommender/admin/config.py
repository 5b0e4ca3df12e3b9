"""Admin of recommender configurations: every save is a new version; activate = rollback."""

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from recommender.models import Job, RecommenderConfig
from recommender.services.config import config_activate, config_save, default_config
from recommender.services.jobs.lifecycle import job_create
from recsys_platform.errors import ApplicationError
from tenants.admin_base import OperableTenantFilter, TenantOwnedAdmin


class ConfigForm(forms.ModelForm):
    """The configuration as JSON, validated by the same schema the services use."""

    # A field named like the model's; the form metaclass collects it, it is not BaseForm.data.
    data = forms.JSONField(  # type: ignore[assignment]
        widget=forms.Textarea(attrs={"rows": 30, "cols": 100, "style": "font-family: monospace"}),
        help_text="Encoder, interaction types and weights, profile settings. Saving makes a new "
        "version and activates it; the previous version stays available for rollback.",
    )

    class Meta:
        model = RecommenderConfig
        fields = ("tenant", "data", "note")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        data = cleaned.get("data")
        if data is not None:
            from recommender.engine.config_schema import ConfigError, validate_config

            try:
                cleaned["data"] = validate_config(data)
            except ConfigError as exc:
                for error in exc.errors:
                    self.add_error("data", f"{error['field'] or 'config'}: {error['message']}")
        return cleaned


@admin.register(RecommenderConfig)
class RecommenderConfigAdmin(TenantOwnedAdmin):
    form = ConfigForm
    list_display = ("tenant", "version", "is_active", "note", "created_by", "created_at")
    list_filter = (("tenant", OperableTenantFilter), "is_active")
    ordering = ("tenant__slug", "-version")
    actions = ("activate", "reencode")

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        source_id = request.GET.get("from")
        source = (
            self.get_queryset(request).filter(pk=source_id).first()
            if source_id and source_id.isdigit()
            else None
        )
        if source is not None:
            initial.update(tenant=source.tenant_id, data=source.data)
        else:
            initial.setdefault("data", default_config())  # type: ignore[arg-type]
        return initial

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Saved versions are immutable: edit by saving a new version ("from" link on the page).
        return ("tenant", "data_pretty", "note", "version", "is_active") if obj else ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("tenant", "data", "note")
        return ("tenant", "version", "is_active", "note", "data_pretty")

    @admin.display(description="configuration")
    def data_pretty(self, obj: RecommenderConfig) -> str:
        return json.dumps(obj.data, indent=2)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        saved = config_save(
            tenant=form.cleaned_data["tenant"],
            data=form.cleaned_data["data"],
            note=form.cleaned_data.get("note", ""),
            created_by=request.user,
        )
        obj.pk = saved.pk
        obj.version = saved.version

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        extra = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        return super().change_view(request, object_id, form_url, extra)

    @admin.action(description="Activate selected version (rollback)")
    def activate(self, request: HttpRequest, queryset: QuerySet[RecommenderConfig]) -> None:
        if queryset.count() != 1:
            messages.error(request, "Select exactly one version to activate.")
            return
        config = queryset.get()
        try:
            config_activate(config=config)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return
        messages.success(request, f"Version {config.version} of {config.tenant} is now active.")

    @admin.action(description="Re-encode the selected versions' tenants")
    def reencode(self, request: HttpRequest, queryset: QuerySet[RecommenderConfig]) -> None:
        queue_reencode(request, {config.tenant for config in queryset.select_related("tenant")})


def queue_reencode(request: HttpRequest, tenants: set[Any]) -> None:
    """Queue an encode job per tenant and say where to watch it."""
    for tenant in tenants:
        job = job_create(tenant=tenant, kind=Job.Kind.ENCODE)
        messages.success(request, f"Queued encoding of {tenant} (job {job.pk}); see Jobs.")
