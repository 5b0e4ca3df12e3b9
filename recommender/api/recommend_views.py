"""API v1 views of results: similar items, semantic search, recommendations for a user."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from recommender.api import schemas
from recommender.services import recommend
from tenants.api_base import TenantAPIView
from tenants.models import SCOPE_RECOMMEND

_ERRORS = {
    400: schemas.ErrorOut,
    401: schemas.ErrorOut,
    403: schemas.ErrorOut,
    404: schemas.ErrorOut,
    409: schemas.ErrorOut,
}
_COUNT = OpenApiParameter("count", int, description="1-100, default 10")
_EXPLAIN = OpenApiParameter("explain", bool, description="add why each item is there")


def _count_and_explain(request: Request) -> tuple[int, bool]:
    params = request.query_params
    return (
        recommend.parse_count(params.get("count")),
        recommend.parse_flag(params.get("explain"), "explain"),
    )


class SimilarItemsView(TenantAPIView):
    required_scope = SCOPE_RECOMMEND

    @extend_schema(parameters=[_COUNT, _EXPLAIN], responses={200: schemas.ResultsOut, **_ERRORS})
    def get(self, request: Request, item_id: str) -> Response:
        count, explain = _count_and_explain(request)
        return Response(
            recommend.similar_items(
                tenant=self.tenant, item_id=item_id, count=count, explain=explain
            )
        )


class UserRecommendationsView(TenantAPIView):
    required_scope = SCOPE_RECOMMEND

    @extend_schema(parameters=[_COUNT, _EXPLAIN], responses={200: schemas.ResultsOut, **_ERRORS})
    def get(self, request: Request, user_id: str) -> Response:
        count, explain = _count_and_explain(request)
        return Response(
            recommend.recommend_for_user(
                tenant=self.tenant, user_id=user_id, count=count, explain=explain
            )
        )


class SearchView(TenantAPIView):
    required_scope = SCOPE_RECOMMEND

    @extend_schema(request=schemas.SearchIn, responses={200: schemas.ResultsOut, **_ERRORS})
    def post(self, request: Request) -> Response:
        body = request.data
        if not isinstance(body, dict):
            raise recommend.ApplicationError(
                "validation_error",
                'The body must be a JSON object, e.g. {"query": "running shoes"}.',
                details=[{"field": None, "message": "expected a JSON object"}],
            )
        unknown = sorted(set(body) - {"query", "user", "count", "explain"})
        if unknown:
            raise recommend.ApplicationError(
                "validation_error",
                f"Unknown field '{unknown[0]}'.",
                details=[{"field": unknown[0], "message": "unknown field"}],
            )
        user = body.get("user")
        if user is not None and (not isinstance(user, str) or not user):
            raise recommend.ApplicationError(
                "validation_error",
                "'user' must be a user id (a string).",
                details=[{"field": "user", "message": "not a string"}],
            )
        if user is not None and "\x00" in user:  # PostgreSQL text cannot hold NUL
            raise recommend.ApplicationError(
                "validation_error",
                "'user' contains a NUL character.",
                details=[{"field": "user", "message": "contains a NUL character"}],
            )
        return Response(
            recommend.search(
                tenant=self.tenant,
                query=recommend.parse_query(body.get("query")),
                user_id=user,
                count=recommend.parse_count(body.get("count")),
                explain=recommend.parse_flag(body.get("explain"), "explain"),
            )
        )
