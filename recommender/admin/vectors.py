"""Admin of embedding spaces: model, size, coverage, index state, and a query box."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from recommender.admin.config import queue_reencode
from recommender.models import EmbeddingSpace
from recommender.services.encoding.spaces import space_overview, space_query
from recsys_platform.errors import ApplicationError
from tenants.admin_base import OperableTenantFilter, TenantOwnedAdmin


@admin.register(EmbeddingSpace)
class EmbeddingSpaceAdmin(TenantOwnedAdmin):
    list_display = (
        "id",
        "tenant",
        "status",
        "encoder_model",
        "dimension",
        "coverage",
        "index",
        "created_at",
    )
    list_filter = (("tenant", OperableTenantFilter), "status")
    ordering = ("-created_at",)
    readonly_fields = ("tenant", "status", "settings", "dimension", "created_at", "activated_at")
    change_form_template = "admin/recommender/embeddingspace/change_form.html"
    actions = ("reencode",)

    @admin.action(description="Re-encode the selected spaces' tenants")
    def reencode(self, request: HttpRequest, queryset: QuerySet[EmbeddingSpace]) -> None:
        queue_reencode(request, {space.tenant for space in queryset.select_related("tenant")})

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # spaces are made by encoding jobs from the tenant's configuration

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="model")
    def encoder_model(self, obj: EmbeddingSpace) -> str:
        return str(obj.settings.get("model", ""))

    @admin.display(description="vectors / items")
    def coverage(self, obj: EmbeddingSpace) -> str:
        overview = space_overview(space=obj)
        return format_html(
            "{} / {} ({}%)", overview["item_vectors"], overview["items"], overview["coverage_pct"]
        )

    @admin.display(description="HNSW index")
    def index(self, obj: EmbeddingSpace) -> str:
        state = space_overview(space=obj)["index"]
        if not state["exists"]:
            return "missing"
        return f"{'valid' if state['valid'] else 'INVALID'}, {state['size_bytes'] // 1024} KiB"

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        extra: dict[str, Any] = dict(extra_context or {})
        space = (
            self.get_queryset(request).filter(pk=object_id).first() if object_id.isdigit() else None
        )
        if space is not None:
            extra["overview"] = space_overview(space=space)
            query = request.GET.get("q", "").strip()
            if query:
                extra["query"] = query
                try:
                    extra["results"] = space_query(space=space, query=query[:1000], count=10)
                except ApplicationError as exc:
                    extra["query_error"] = exc.message
        return super().change_view(request, object_id, form_url, extra)
