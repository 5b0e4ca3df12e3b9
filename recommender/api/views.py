"""API v1 views: parse, call one service or selector, render. Tenant scope comes from the base."""

from typing import Any, ClassVar

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from recommender import selectors
from recommender.api import schemas
from recommender.api.pagination import IdCursorPagination
from recommender.api.wire import item_to_wire, job_to_wire, user_to_wire
from recommender.services.ingest import batches as ingest
from recommender.services.ingest import row_changes as catalog
from recommender.services.jobs.api_start import job_start_from_api
from tenants.api_base import TenantAPIView
from tenants.models import SCOPE_INGEST, SCOPE_MANAGE

_ERRORS = {
    400: schemas.ErrorOut,
    401: schemas.ErrorOut,
    403: schemas.ErrorOut,
    404: schemas.ErrorOut,
}


class ItemBatchView(TenantAPIView):
    required_scope = SCOPE_INGEST

    @extend_schema(request=schemas.ItemBatchIn, responses={200: schemas.UpsertOut, **_ERRORS})
    def post(self, request: Request) -> Response:
        return Response(ingest.items_upsert_batch(tenant=self.tenant, payload=request.data))


class UserBatchView(TenantAPIView):
    required_scope = SCOPE_INGEST

    @extend_schema(request=schemas.UserBatchIn, responses={200: schemas.UpsertOut, **_ERRORS})
    def post(self, request: Request) -> Response:
        return Response(ingest.users_upsert_batch(tenant=self.tenant, payload=request.data))


class InteractionBatchView(TenantAPIView):
    required_scope = SCOPE_INGEST

    @extend_schema(
        request=schemas.InteractionBatchIn,
        responses={200: schemas.InteractionBatchOut, **_ERRORS},
    )
    def post(self, request: Request) -> Response:
        result = ingest.interactions_store_batch(tenant=self.tenant, payload=request.data)
        return Response(result)


class _ListView(TenantAPIView):
    render_row: ClassVar[Any]

    def rows(self) -> QuerySet[Any]:
        raise NotImplementedError

    def get(self, request: Request) -> Response:
        paginator = IdCursorPagination()
        page = paginator.paginate_queryset(self.rows(), request, view=self)
        return paginator.get_paginated_response([type(self).render_row(row) for row in page or []])


class ItemListView(_ListView):
    required_scope = SCOPE_INGEST
    render_row = staticmethod(item_to_wire)

    def rows(self) -> QuerySet[Any]:
        return selectors.item_list()

    @extend_schema(responses={200: schemas.ItemOut(many=True), **_ERRORS})
    def get(self, request: Request) -> Response:
        return super().get(request)


class UserListView(_ListView):
    required_scope = SCOPE_INGEST
    render_row = staticmethod(user_to_wire)

    def rows(self) -> QuerySet[Any]:
        return selectors.user_list()

    @extend_schema(responses={200: schemas.UserOut(many=True), **_ERRORS})
    def get(self, request: Request) -> Response:
        return super().get(request)


class ItemDetailView(TenantAPIView):
    required_scope = SCOPE_INGEST

    @extend_schema(responses={200: schemas.ItemOut, **_ERRORS})
    def get(self, request: Request, item_id: str) -> Response:
        return Response(item_to_wire(selectors.access_item_by_external_id(item_id)))

    @extend_schema(request=schemas.ItemPatch, responses={200: schemas.ItemOut, **_ERRORS})
    def patch(self, request: Request, item_id: str) -> Response:
        return Response(
            item_to_wire(catalog.item_update(external_id=item_id, payload=request.data))
        )

    @extend_schema(responses={204: None, **_ERRORS})
    def delete(self, request: Request, item_id: str) -> Response:
        catalog.item_delete(external_id=item_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserDetailView(TenantAPIView):
    required_scope = SCOPE_INGEST

    @extend_schema(responses={200: schemas.UserOut, **_ERRORS})
    def get(self, request: Request, user_id: str) -> Response:
        return Response(user_to_wire(selectors.access_user_by_external_id(user_id)))

    @extend_schema(request=schemas.UserPatch, responses={200: schemas.UserOut, **_ERRORS})
    def patch(self, request: Request, user_id: str) -> Response:
        return Response(
            user_to_wire(catalog.user_update(external_id=user_id, payload=request.data))
        )

    @extend_schema(responses={204: None, **_ERRORS})
    def delete(self, request: Request, user_id: str) -> Response:
        catalog.user_delete(external_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class JobListView(_ListView):
    required_scope = SCOPE_MANAGE
    render_row = staticmethod(job_to_wire)

    def rows(self) -> QuerySet[Any]:
        return selectors.job_list()

    @extend_schema(responses={200: schemas.JobOut(many=True), **_ERRORS})
    def get(self, request: Request) -> Response:
        return super().get(request)

    @extend_schema(request=schemas.JobIn, responses={202: schemas.JobOut, **_ERRORS})
    def post(self, request: Request) -> Response:
        job = job_start_from_api(tenant=self.tenant, payload=request.data)
        return Response(job_to_wire(job), status=status.HTTP_202_ACCEPTED)


class JobDetailView(TenantAPIView):
    required_scope = SCOPE_MANAGE

    @extend_schema(responses={200: schemas.JobOut, **_ERRORS})
    def get(self, request: Request, job_id: str) -> Response:
        return Response(job_to_wire(selectors.access_job_by_id(job_id)))
