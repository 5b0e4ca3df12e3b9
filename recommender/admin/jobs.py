"""Admin of jobs: read-only pages with progress bars that refresh while a job runs, and the
"Import a file" view that uploads a catalog or events file and queues its import job."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.validators import FileExtensionValidator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from recommender.models import Job
from recommender.services.ingest.file_imports import FILE_FORMATS, IMPORT_JOB_KINDS
from recommender.services.jobs.lifecycle import ACTIVE_STATUSES, job_create
from recsys_platform.errors import ApplicationError
from tenants.admin_base import OperableTenantFilter, TenantOwnedAdmin, operable_tenants
from tenants.models import Tenant

AUTO_REFRESH_SECONDS = 2
# The list shows an error's start; the job's page shows all of it.
ERROR_SHOWN_CHARS = 80


class ImportFileForm(forms.Form):
    """Tenant, kind and file of an import; tenants limited to those the operator may operate."""

    tenant = forms.ModelChoiceField(queryset=Tenant.objects.none())
    kind = forms.ChoiceField(
        choices=[(job_kind, Job.Kind(job_kind).label) for job_kind in IMPORT_JOB_KINDS.values()]
    )
    file = forms.FileField(
        validators=[FileExtensionValidator([ext.lstrip(".") for ext in FILE_FORMATS])],
        help_text="CSV with a header row of wire field names, or JSON Lines (.jsonl, .ndjson).",
    )

    def __init__(self, *args: Any, tenants: QuerySet[Tenant], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tenant_field = self.fields["tenant"]
        assert isinstance(tenant_field, forms.ModelChoiceField)
        tenant_field.queryset = tenants


@admin.register(Job)
class JobAdmin(TenantOwnedAdmin):
    list_display = (
        "created_at",
        "tenant",
        "kind",
        "status",
        "progress_bar",
        "counts_summary",
        "duration",
        "error_short",
    )
    list_filter = (("tenant", OperableTenantFilter), "status", "kind")
    ordering = ("-created_at",)
    fields = (
        "tenant",
        "kind",
        "status",
        "progress_bar",
        "counts_summary",
        "file_name",
        "params",
        "error",
        "error_rows",
        "attempts",
        "created_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "duration",
    )
    readonly_fields = fields

    # Jobs are made by the import view (and the API), and only ever changed by their worker.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def may_import(self, request: HttpRequest) -> bool:
        return request.user.has_perm("recommender.add_job") and (
            operable_tenants(request.user).exists()
        )

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Job:
        # Another tenant's job, a missing id and a malformed id all answer the same plain 404.
        job = super().get_object(request, object_id, from_field)
        if job is None:
            raise Http404("No such job.")
        return job

    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta
        import_url = path(
            "import/",
            self.admin_site.admin_view(self.import_view),
            name=f"{opts.app_label}_{opts.model_name}_import",
        )
        return [import_url, *super().get_urls()]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {"may_import": self.may_import(request), **(extra_context or {})}
        response = super().changelist_view(request, context)
        if isinstance(response, TemplateResponse) and response.context_data:
            changelist = response.context_data.get("cl")
            shown = changelist.result_list if changelist is not None else []
            if any(job.status in ACTIVE_STATUSES for job in shown):
                response.context_data["auto_refresh"] = AUTO_REFRESH_SECONDS
        return response

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        if isinstance(response, TemplateResponse) and response.context_data:
            job = response.context_data.get("original")
            if isinstance(job, Job) and job.status in ACTIVE_STATUSES:
                response.context_data["auto_refresh"] = AUTO_REFRESH_SECONDS
        return response

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.may_import(request):
            raise PermissionDenied
        tenants = operable_tenants(request.user)
        if request.method == "POST":
            form = ImportFileForm(request.POST, request.FILES, tenants=tenants)
            if form.is_valid():
                try:
                    job = job_create(
                        tenant=form.cleaned_data["tenant"],
                        kind=form.cleaned_data["kind"],
                        input_file=form.cleaned_data["file"],
                    )
                except ApplicationError as exc:
                    form.add_error(None, exc.message)
                else:
                    messages.success(request, f"Queued {job.get_kind_display()} job {job.pk}.")
                    return HttpResponseRedirect(
                        reverse("admin:recommender_job_change", args=[job.pk])
                    )
        else:
            chosen = request.GET.get("tenant", "")
            start = tenants.filter(pk=chosen).first() if chosen.isdigit() else None
            form = ImportFileForm(tenants=tenants, initial={"tenant": start})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import a file",
            "form": form,
        }
        return TemplateResponse(request, "admin/recommender/job/import_form.html", context)

    @admin.display(description="progress")
    def progress_bar(self, job: Job) -> str:
        percent = f"{job.progress * 100:.0f}"
        return format_html(
            '<progress value="{}" max="1" style="width: 8em">{}%</progress> {}%',
            f"{job.progress:.4f}",
            percent,
            percent,
        )

    @admin.display(description="counts")
    def counts_summary(self, job: Job) -> str:
        return ", ".join(f"{name} {value}" for name, value in (job.counts or {}).items())

    @admin.display(description="duration")
    def duration(self, job: Job) -> str:
        if job.started_at is None:
            return "–"
        end = job.finished_at or timezone.now()
        return f"{(end - job.started_at).total_seconds():.1f} s"

    @admin.display(description="error")
    def error_short(self, job: Job) -> str:
        if not job.error:
            return "–"
        text = " ".join(job.error.split())
        return text if len(text) <= ERROR_SHOWN_CHARS else f"{text[: ERROR_SHOWN_CHARS - 1]}…"

    @admin.display(description="file")
    def file_name(self, job: Job) -> str:
        return (job.input_file.name or "–") if job.input_file else "–"

    @admin.display(description="error details")
    def error_rows(self, job: Job) -> str:
        if not job.error_details:
            return "–"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{}{}: {}</li>",
                (
                    (
                        ", ".join(
                            f"{key} {fault[key]}"
                            for key in ("row", "line")
                            if fault.get(key) is not None
                        )
                        or "file",
                        f" [{fault['field']}]" if fault.get("field") else "",
                        fault.get("message", ""),
                    )
                    for fault in job.error_details
                ),
            ),
        )
