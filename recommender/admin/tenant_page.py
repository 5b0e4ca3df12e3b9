"""The tenant page's recommender buttons: dashboard, train now, re-encode, preview, import a file,
edit the configuration. Registered over the tenants app's admin, which knows nothing of the
recommender (an import-linter contract)."""

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from unfold.decorators import action

from recommender.services.console.operations import tenant_reencode, tenant_train_now
from tenants.admin import TenantAdmin
from tenants.models import Tenant


class TenantConsoleAdmin(TenantAdmin):
    actions_detail = (
        "dashboard",
        "train_now",
        "reencode",
        "preview",
        "import_file",
        "new_config",
        "issue_key",
    )

    @action(description="Dashboard", url_path="dashboard", icon="monitoring")
    def dashboard(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        tenant = self.tenant_or_404(request, object_id)
        return HttpResponseRedirect(f"{reverse('admin:index')}?tenant={tenant.pk}")

    @action(description="Train now", url_path="train", icon="model_training")
    def train_now(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        tenant = self.tenant_or_404(request, object_id)
        if request.method != "POST":
            return self.confirm(request, tenant, "Train a new model version now?", "Train now")
        job = tenant_train_now(tenant=tenant)
        if job is None:
            messages.info(request, "A training job is queued or running already; see Jobs.")
        else:
            url = reverse("admin:recommender_job_change", args=[job.pk])
            messages.success(request, f"Queued training of {tenant} (job {job.pk}).")
            return HttpResponseRedirect(url)
        return self.back(tenant)

    @action(description="Re-encode", url_path="reencode", icon="sync")
    def reencode(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        tenant = self.tenant_or_404(request, object_id)
        if request.method != "POST":
            return self.confirm(
                request, tenant, "Encode every item whose vector is missing or stale?", "Re-encode"
            )
        job = tenant_reencode(tenant=tenant)
        messages.success(request, f"Queued encoding of {tenant} (job {job.pk}).")
        return HttpResponseRedirect(reverse("admin:recommender_job_change", args=[job.pk]))

    @action(description="Preview", url_path="preview", icon="visibility")
    def preview(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        tenant = self.tenant_or_404(request, object_id)
        return HttpResponseRedirect(
            f"{reverse('admin:recommender_modelversion_preview')}?tenant={tenant.pk}"
        )

    @action(description="Import a file", url_path="import", icon="upload_file")
    def import_file(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        tenant = self.tenant_or_404(request, object_id)
        return HttpResponseRedirect(f"{reverse('admin:recommender_job_import')}?tenant={tenant.pk}")

    @action(description="Edit configuration", url_path="config", icon="tune")
    def new_config(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        tenant = self.tenant_or_404(request, object_id)
        url = reverse("admin:recommender_recommenderconfig_add")
        return HttpResponseRedirect(f"{url}?tenant={tenant.pk}")


admin.site.unregister(Tenant)
admin.site.register(Tenant, TenantConsoleAdmin)
