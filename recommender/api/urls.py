"""API v1 routes. Ids are the tenant's own external ids (any characters but '/')."""

from django.urls import path

from recommender.api import views

urlpatterns = [
    path("items/batch", views.ItemBatchView.as_view(), name="items-batch"),
    path("users/batch", views.UserBatchView.as_view(), name="users-batch"),
    path("interactions/batch", views.InteractionBatchView.as_view(), name="interactions-batch"),
    path("items", views.ItemListView.as_view(), name="items-list"),
    path("items/<str:item_id>", views.ItemDetailView.as_view(), name="items-detail"),
    path("users", views.UserListView.as_view(), name="users-list"),
    path("users/<str:user_id>", views.UserDetailView.as_view(), name="users-detail"),
    path("jobs", views.JobListView.as_view(), name="jobs-list"),
    path("jobs/<str:job_id>", views.JobDetailView.as_view(), name="jobs-detail"),
]
