"""Operator UI for tenants, API keys and operators: issue a key with chosen scopes from the tenant
page (the secret is shown once), a revoke button on the key page; console logins listed as
"Operators", apart from a tenant's end users. The recommender adds its own buttons to
the tenant page (recommender.admin.tenant_page)."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from unfold.admin import TabularInline
from unfold.decorators import action
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget

from tenants.admin_base import ConsoleAdmin, OperableTenantFilter, operable_tenants
from tenants.models import ALL_SCOPES, ApiKey, Operator, Tenant
from tenants.services import api_key_create, api_key_revoke

SCOPE_CHOICES = [(scope, scope) for scope in ALL_SCOPES]
SCOPE_HELP = "ingest: push items, users, events; recommend: read results; manage: jobs, models."


class ScopesField(forms.MultipleChoiceField):
    """Scopes as checkboxes of the known ones: an unknown scope cannot be typed in."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", UnfoldAdminCheckboxSelectMultipleWidget)
        super().__init__(choices=SCOPE_CHOICES, help_text=SCOPE_HELP, **kwargs)


class IssueKeyForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, help_text="Who or what uses the key.")
    scopes = ScopesField(initial=[scope for scope in ALL_SCOPES if scope != "manage"])


class ApiKeyForm(forms.ModelForm):
    scopes = ScopesField()

    class Meta:
        model = ApiKey
        fields = ("name", "scopes")


class ApiKeyInline(TabularInline):
    model = ApiKey
    extra = 0
    can_delete = False
    fields = ("prefix", "name", "scopes", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # keys are issued by the "Issue API key" button, which shows the secret once


@admin.register(Tenant)
class TenantAdmin(ConsoleAdmin):
    list_display = ("slug", "name", "active", "key_count", "created_at")
    search_fields = ("slug", "name")
    list_filter = ("active",)
    filter_horizontal = ("operators",)
    fieldsets = (
        (None, {"fields": ("slug", "name", "active", "settings", "operators")}),
        (
            "Rate limits",
            {
                "description": "Token buckets per API key and for the whole tenant; a request "
                "beyond them is answered 429 with Retry-After. Empty: the platform default "
                "(RECSYS_RATE_* settings); a rate of 0: unlimited.",
                "fields": (
                    ("rate_limit_key_per_s", "rate_limit_key_burst"),
                    ("rate_limit_tenant_per_s", "rate_limit_tenant_burst"),
                ),
            },
        ),
        ("Privacy", {"fields": ("served_list_retention_days",)}),
    )
    inlines = (ApiKeyInline,)
    actions_detail: Any = ("issue_key",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tenant]:
        return operable_tenants(request.user)

    @admin.display(description="active keys")
    def key_count(self, obj: Tenant) -> int:
        return obj.api_keys.filter(revoked_at__isnull=True).count()

    def tenant_or_404(self, request: HttpRequest, object_id: Any) -> Tenant:
        tenant = self.get_queryset(request).filter(pk=str(object_id)).first()
        if tenant is None or not str(object_id).isdigit():
            raise Http404("No such tenant.")
        return tenant

    def back(self, tenant: Tenant) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:tenants_tenant_change", args=[tenant.pk]))

    @action(description="Issue API key", url_path="issue-key", icon="key")
    def issue_key(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        tenant = self.tenant_or_404(request, object_id)
        form = IssueKeyForm(request.POST or None)
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Issue an API key for {tenant}",
            "tenant": tenant,
            "form": form,
        }
        if request.method == "POST" and form.is_valid():
            key, raw_key = api_key_create(
                tenant=tenant,
                scopes=form.cleaned_data["scopes"],
                name=form.cleaned_data["name"] or f"admin:{request.user}",
            )
            # Rendered on this response only: the secret is never stored, nor put in a session.
            context.update(key=key, raw_key=raw_key, title=f"New API key for {tenant}")
        return TemplateResponse(request, "admin/tenants/tenant/issue_key.html", context)

    def confirm(self, request: HttpRequest, tenant: Tenant, question: str, button: str) -> Any:
        """A page asking `question`, whose one button posts back to the same URL."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"{tenant}: {question}",
            "tenant": tenant,
            "button": button,
        }
        return TemplateResponse(request, "admin/tenants/tenant/confirm.html", context)


@admin.register(ApiKey)
class ApiKeyAdmin(ConsoleAdmin):
    form = ApiKeyForm
    list_display = ("prefix", "tenant", "name", "scopes", "state", "last_used_at", "created_at")
    list_filter = (("tenant", OperableTenantFilter),)
    search_fields = ("prefix", "name", "tenant__slug")
    readonly_fields = ("prefix", "tenant", "created_at", "last_used_at", "revoked_at")
    fields = ("tenant", "name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)
    actions_detail = ("revoke_key",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiKey]:
        return (
            super()
            .get_queryset(request)
            .select_related("tenant")
            .filter(tenant__in=operable_tenants(request.user))
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # issued from the tenant page's button, so the secret is shown once

    @admin.display(description="state")
    def state(self, obj: ApiKey) -> str:
        return "revoked" if obj.revoked_at else "active"

    @action(description="Revoke", url_path="revoke", icon="block")
    def revoke_key(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        key = self.get_queryset(request).filter(pk=str(object_id)).first()
        if key is None:
            raise Http404("No such key.")
        page = reverse("admin:tenants_apikey_change", args=[key.pk])
        if request.method != "POST":
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": f"Revoke key {key.prefix}… of {key.tenant}?",
                "key": key,
            }
            return TemplateResponse(request, "admin/tenants/apikey/confirm_revoke.html", context)
        if key.revoked_at is not None:
            messages.info(request, "This key was revoked already.")
        else:
            api_key_revoke(key=key)
            messages.success(request, f"Revoked key {key.prefix}… at {timezone.now():%H:%M} UTC.")
        return HttpResponseRedirect(page)

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = 0
        for key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(key=key)
            count += 1
        messages.success(request, f"Revoked {count} key(s) at {timezone.now():%Y-%m-%d %H:%M} UTC.")


# Django's "Users" are the console's logins; listed under the tenants app as "Operators", so the
# sidebar no longer shows two "Users" (these, and a tenant's end users).
admin.site.unregister(User)


@admin.register(Operator)
class OperatorAdmin(UserAdmin, ConsoleAdmin):
    """Console logins; only superusers manage them (a tenant's operator holds the tenants app's
    permissions, and must not grant itself more or reach other tenants' operators)."""

    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = ("username", "email", "is_staff", "is_superuser", "is_active", "last_login")

    def _superuser(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._superuser(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._superuser(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._superuser(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._superuser(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._superuser(request)
