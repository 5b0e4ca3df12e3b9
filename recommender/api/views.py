"""API v1 views: parse, call one service or selector, render. Tenant scope comes from the base."""

from typing import Any, ClassVar

from django.db.models import QuerySet
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from recommender import selectors
from recommender.api import schemas
from recommender.api.pagination import IdCursorPagination, NewestFirstPagination
from recommender.api.schemas import operation
from recommender.api.wire import item_to_wire, job_to_wire, user_to_wire
from recommender.services.ingest import batches, row_changes
from recommender.services.jobs.api_start import job_start_from_api
from recommender.services.privacy import erasure, export
from tenants.api_base import TenantAPIView
from tenants.models import SCOPE_INGEST, SCOPE_MANAGE


class ItemBatchView(TenantAPIView):
    required_scope = SCOPE_INGEST

    @operation(
        summary="Upsert a batch of items",
        description="Creates or replaces items by id, all or none: one invalid row rejects the "
        "batch with every fault by row. Items whose text changed are queued for encoding.",
        request=schemas.ItemBatchIn,
        responses={200: schemas.UpsertOut},
    )
    def post(self, request: Request) -> Response:
        return Response(batches.items_upsert_batch(tenant=self.tenant, payload=request.data))


class UserBatchView(TenantAPIView):
    required_scope = SCOPE_INGEST

    @operation(
        summary="Upsert a batch of users",
        description="Creates or replaces users by id, all or none: one invalid row rejects the "
        "batch with every fault by row.",
        request=schemas.UserBatchIn,
        responses={200: schemas.UpsertOut},
    )
    def post(self, request: Request) -> Response:
        return Response(batches.users_upsert_batch(tenant=self.tenant, payload=request.data))


class InteractionBatchView(TenantAPIView):
    required_scope = SCOPE_INGEST

    @operation(
        summary="Store a batch of interactions",
        description="Stores events, all or none; an event_id already stored counts as a "
        "duplicate, not a fault, and users not seen before are created.",
        request=schemas.InteractionBatchIn,
        responses={200: schemas.InteractionBatchOut},
    )
    def post(self, request: Request) -> Response:
        result = batches.interactions_store_batch(tenant=self.tenant, payload=request.data)
        return Response(result)


class InteractionDetailView(TenantAPIView):
    required_scope = SCOPE_INGEST

    @operation(
        summary="Delete an interaction",
        description="Deletes the event stored with this event_id (events sent without one "
        "can be removed with their user's, below); the next training no longer sees it.",
        responses={204: None},
        errors=(404,),
    )
    def delete(self, request: Request, event_id: str) -> Response:
        row_changes.interaction_delete(event_id=event_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserInteractionsView(TenantAPIView):
    required_scope = SCOPE_INGEST

    @operation(
        summary="Delete a user's interactions",
        description="Deletes every event of the user and keeps the user; the next training "
        "no longer sees them.",
        responses={200: schemas.DeletedOut},
        errors=(404,),
    )
    def delete(self, request: Request, user_id: str) -> Response:
        deleted = row_changes.user_interactions_delete(external_id=user_id)
        return Response({"deleted": deleted})


class _ListView(TenantAPIView):
    pagination_class: ClassVar[type[IdCursorPagination]] = IdCursorPagination
    render_row: ClassVar[Any]

    def rows(self) -> QuerySet[Any]:
        raise NotImplementedError

    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(self.rows(), request, view=self)
        return paginator.get_paginated_response([type(self).render_row(row) for row in page or []])


class ItemListView(_ListView):
    required_scope = SCOPE_INGEST
    render_row = staticmethod(item_to_wire)

    def rows(self) -> QuerySet[Any]:
        return selectors.item_list()

    @operation(
        summary="List items",
        description="Every item of the tenant in the order they were stored, in cursor pages.",
        responses={200: schemas.ItemOut(many=True)},
        errors=(400,),
    )
    def get(self, request: Request) -> Response:
        return super().get(request)


class UserListView(_ListView):
    required_scope = SCOPE_INGEST
    render_row = staticmethod(user_to_wire)

    def rows(self) -> QuerySet[Any]:
        return selectors.user_list()

    @operation(
        summary="List users",
        description="Every user of the tenant in the order they were stored, in cursor pages.",
        responses={200: schemas.UserOut(many=True)},
        errors=(400,),
    )
    def get(self, request: Request) -> Response:
        return super().get(request)


class ItemDetailView(TenantAPIView):
    required_scope = SCOPE_INGEST

    @operation(
        summary="Read an item",
        description="One item by its id.",
        responses={200: schemas.ItemOut},
        errors=(404,),
    )
    def get(self, request: Request, item_id: str) -> Response:
        return Response(item_to_wire(selectors.access_item_by_external_id(item_id)))

    @operation(
        summary="Change an item",
        description="Sets the fields given and keeps the others; the id cannot change. A change "
        "of its text marks it for re-encoding.",
        request=schemas.ItemChanges,
        responses={200: schemas.ItemOut},
        errors=(404,),
    )
    def patch(self, request: Request, item_id: str) -> Response:
        return Response(
            item_to_wire(row_changes.item_update(external_id=item_id, payload=request.data))
        )

    @operation(
        summary="Delete an item",
        description="Deletes the item with its vectors and the interactions on it.",
        responses={204: None},
        errors=(404,),
    )
    def delete(self, request: Request, item_id: str) -> Response:
        row_changes.item_delete(external_id=item_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserDetailView(TenantAPIView):
    required_scope = SCOPE_INGEST

    @operation(
        summary="Read a user",
        description="One user by its id.",
        responses={200: schemas.UserOut},
        errors=(404,),
    )
    def get(self, request: Request, user_id: str) -> Response:
        return Response(user_to_wire(selectors.access_user_by_external_id(user_id)))

    @operation(
        summary="Change a user",
        description="Sets the fields given and keeps the others; the id cannot change.",
        request=schemas.UserChanges,
        responses={200: schemas.UserOut},
        errors=(404,),
    )
    def patch(self, request: Request, user_id: str) -> Response:
        return Response(
            user_to_wire(row_changes.user_update(external_id=user_id, payload=request.data))
        )

    @operation(
        summary="Delete a user",
        description="Erases the user and everything stored about them: interactions, text "
        "vectors and collaborative factors, trained top lists and served lists.",
        responses={204: None},
        errors=(404,),
    )
    def delete(self, request: Request, user_id: str) -> Response:
        erasure.user_erase(external_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserExportView(TenantAPIView):
    required_scope = SCOPE_INGEST

    @operation(
        summary="Export a user's data",
        description="Everything stored about the user: the profile, every interaction, the "
        "lists served to them, their trained top items, operators' edits, and their vectors "
        "and factors summarised (space, dimension, norm).",
        responses={200: schemas.UserExportOut},
        errors=(404,),
    )
    def get(self, request: Request, user_id: str) -> Response:
        user, sections = export.user_export(external_id=user_id)
        return Response({"user": user_to_wire(user), **sections})


class JobListView(_ListView):
    required_scope = SCOPE_MANAGE
    pagination_class = NewestFirstPagination
    render_row = staticmethod(job_to_wire)

    def rows(self) -> QuerySet[Any]:
        return selectors.job_list()

    @operation(
        summary="List jobs",
        description="The tenant's jobs (imports, encoding, training) in cursor pages, newest "
        "first.",
        responses={200: schemas.JobOut(many=True)},
        errors=(400,),
    )
    def get(self, request: Request) -> Response:
        return super().get(request)

    @operation(
        summary="Start a job",
        description="Queues an encode or train job and answers 202 at once; follow it with "
        "GET /api/v1/jobs/{id}. When the tenant has a job of that kind queued or running "
        'already, answers 200 with that job and `"existing": true` instead of starting a '
        "second one.",
        request=schemas.JobIn,
        responses={202: schemas.JobOut, 200: schemas.JobOut},
    )
    def post(self, request: Request) -> Response:
        start = job_start_from_api(tenant=self.tenant, payload=request.data)
        return Response(
            {**job_to_wire(start.job), "existing": start.existing},
            status=status.HTTP_200_OK if start.existing else status.HTTP_202_ACCEPTED,
        )


class JobDetailView(TenantAPIView):
    required_scope = SCOPE_MANAGE

    @operation(
        summary="Read a job",
        description="A job's status, progress, counts and error by its id.",
        responses={200: schemas.JobOut},
        errors=(404,),
    )
    def get(self, request: Request, job_id: str) -> Response:
        return Response(job_to_wire(selectors.access_job_by_id(job_id)))
