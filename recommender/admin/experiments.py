"""Admin of A/B experiments: draft with variants, start/stop actions, and a results page with
the statistics and start, stop and promote buttons. Variants are read-only once started."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from recommender.models import Experiment, ExperimentVariant
from recommender.services.experiments.lifecycle import (
    VariantSpec,
    experiment_promote,
    experiment_start,
    experiment_stop,
    variants_check,
)
from recommender.services.experiments.results import experiment_results
from recsys_platform.errors import ApplicationError
from tenants.admin_base import OperableTenantFilter, TenantOwnedAdmin, operable_tenants


class VariantFormSet(forms.BaseInlineFormSet):
    """The variants checked as `experiment_start` checks them, before they are saved."""

    def clean(self) -> None:
        super().clean()
        tenant = getattr(self.instance, "tenant", None)
        if tenant is None or any(form.errors for form in self.forms):
            return
        kept = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            variants_check(
                tenant=tenant,
                variants=[VariantSpec(d["name"], d["config"], d["share"]) for d in kept],
            )
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from exc


class VariantInline(admin.TabularInline):
    model = ExperimentVariant
    formset = VariantFormSet
    fields = ("position", "name", "config", "share")
    extra = 2

    def _frozen(self, obj: Experiment | None) -> bool:
        return obj is not None and obj.status != Experiment.Status.DRAFT

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A started experiment's split is fixed: stop it and start a new one.
        return self.fields if self._frozen(obj) else ()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._frozen(obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._frozen(obj) and super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "config":
            kwargs["queryset"] = (
                db_field.related_model.objects.unscoped()
                .filter(tenant__in=operable_tenants(request.user))
                .select_related("tenant")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Experiment)
class ExperimentAdmin(TenantOwnedAdmin):
    list_display = ("name", "tenant", "status", "started_at", "stopped_at", "winner", "results")
    list_filter = (("tenant", OperableTenantFilter), "status")
    ordering = ("-created_at",)
    inlines = (VariantInline,)
    actions = ("start", "stop")
    fields = ("tenant", "name", "click_types", "conversion_types", "status", "results")
    readonly_fields = ("status", "results")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.status != Experiment.Status.DRAFT:
            return (*self.fields,)
        return ("tenant", *self.readonly_fields) if obj is not None else self.readonly_fields

    @admin.display(description="results")
    def results(self, obj: Experiment) -> str:
        if obj.pk is None:
            return "-"
        url = reverse("admin:recommender_experiment_results", args=[obj.pk])
        return format_html('<a href="{}">Results</a>', url)

    def _each(self, request: HttpRequest, queryset: QuerySet[Experiment], act: Any) -> None:
        for experiment in queryset:
            try:
                act(experiment=experiment)
            except ApplicationError as exc:
                messages.error(request, f"{experiment.name}: {exc.message}")
            else:
                messages.success(request, f"{experiment.name} is {experiment.status}.")

    @admin.action(description="Start the selected experiments")
    def start(self, request: HttpRequest, queryset: QuerySet[Experiment]) -> None:
        self._each(request, queryset, experiment_start)

    @admin.action(description="Stop the selected experiments")
    def stop(self, request: HttpRequest, queryset: QuerySet[Experiment]) -> None:
        self._each(request, queryset, experiment_stop)

    def get_urls(self) -> list[Any]:
        results = path(
            "<path:object_id>/results/",
            self.admin_site.admin_view(self.results_view),
            name="recommender_experiment_results",
        )
        return [results, *super().get_urls()]

    def results_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        # Another tenant's experiment is as missing as one that does not exist.
        experiment = (
            self.get_queryset(request).filter(pk=object_id).first() if object_id.isdigit() else None
        )
        if experiment is None or not self.has_view_permission(request, experiment):
            raise Http404("No such experiment.")
        if request.method == "POST":
            if not self.has_change_permission(request, experiment):
                raise Http404("No such experiment.")
            return self._results_post(request, experiment)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Results of {experiment.name}",
            "experiment": experiment,
            "results": experiment_results(experiment),
        }
        return TemplateResponse(request, "admin/recommender/experiment/results.html", context)

    def _results_post(self, request: HttpRequest, experiment: Experiment) -> HttpResponse:
        try:
            if "start" in request.POST:
                experiment_start(experiment=experiment)
            elif "stop" in request.POST:
                experiment_stop(experiment=experiment)
            elif "promote" in request.POST:
                experiment_promote(experiment=experiment, variant_name=request.POST["promote"])
                messages.success(
                    request, f"Variant {request.POST['promote']}'s configuration is now active."
                )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return HttpResponseRedirect(
            reverse("admin:recommender_experiment_results", args=[experiment.pk])
        )
