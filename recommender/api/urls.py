"""API v1 routes. Ids are the tenant's own external ids (any characters but '/' and NUL)."""

from django.urls import path, register_converter

from recommender.api import recommend_views, views


class ExternalIdConverter:
    """Any characters but '/' and NUL: PostgreSQL text cannot hold NUL, so no such id exists."""

    regex = "[^/\x00]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ExternalIdConverter, "external_id")

urlpatterns = [
    path("items/batch", views.ItemBatchView.as_view(), name="items-batch"),
    path("users/batch", views.UserBatchView.as_view(), name="users-batch"),
    path("interactions/batch", views.InteractionBatchView.as_view(), name="interactions-batch"),
    # After the batch route: an event_id "batch" cannot be addressed (as an item id "batch").
    path(
        "interactions/<external_id:event_id>",
        views.InteractionDetailView.as_view(),
        name="interactions-detail",
    ),
    path("items", views.ItemListView.as_view(), name="items-list"),
    path("items/<external_id:item_id>", views.ItemDetailView.as_view(), name="items-detail"),
    path(
        "items/<external_id:item_id>/similar",
        recommend_views.SimilarItemsView.as_view(),
        name="items-similar",
    ),
    path("users", views.UserListView.as_view(), name="users-list"),
    path("users/<external_id:user_id>", views.UserDetailView.as_view(), name="users-detail"),
    path("users/<external_id:user_id>/export", views.UserExportView.as_view(), name="users-export"),
    path(
        "users/<external_id:user_id>/interactions",
        views.UserInteractionsView.as_view(),
        name="users-interactions",
    ),
    path(
        "users/<external_id:user_id>/recommendations",
        recommend_views.UserRecommendationsView.as_view(),
        name="users-recommendations",
    ),
    path("search", recommend_views.SearchView.as_view(), name="search"),
    path("popular", recommend_views.PopularView.as_view(), name="popular"),
    path("trending", recommend_views.TrendingView.as_view(), name="trending"),
    path("models", recommend_views.ModelVersionListView.as_view(), name="models-list"),
    path("experiments", recommend_views.ExperimentListView.as_view(), name="experiments-list"),
    path(
        "experiments/<external_id:experiment_id>/results",
        recommend_views.ExperimentResultsView.as_view(),
        name="experiments-results",
    ),
    path("jobs", views.JobListView.as_view(), name="jobs-list"),
    path("jobs/<external_id:job_id>", views.JobDetailView.as_view(), name="jobs-detail"),
]
