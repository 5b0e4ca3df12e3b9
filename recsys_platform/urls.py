"""Root URLs: admin, API v1, schema and docs, health probes."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from recommender.api import health

handler400 = "recsys_platform.errors.json_bad_request"
handler404 = "recsys_platform.errors.json_not_found"
handler500 = "recsys_platform.errors.json_server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("recommender.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
