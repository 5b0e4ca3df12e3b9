"""API v1 views of results: similar items, semantic search, recommendations for a user."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from recommender.api import schemas
from recommender.services.console.model_versions import model_version_list
from recommender.services.search import semantic as recommend
from recommender.services.serving import lists as serving
from recommender.services.serving import params
from tenants.api_base import TenantAPIView
from tenants.models import SCOPE_MANAGE, SCOPE_RECOMMEND

_ERRORS = {
    400: schemas.ErrorOut,
    401: schemas.ErrorOut,
    403: schemas.ErrorOut,
    404: schemas.ErrorOut,
    409: schemas.ErrorOut,
}
_COUNT = OpenApiParameter("count", int, description="1-100, default 10")
_EXPLAIN = OpenApiParameter("explain", bool, description="add why each item is there")
_RULES = [
    OpenApiParameter("category", str, description="items in any of these categories (a,b)"),
    OpenApiParameter("exclude_category", str, description="items in none of these categories"),
    OpenApiParameter(
        "attr.NAME",
        str,
        description="attribute filter: value, v1|v2 (one of), lo..hi / lo.. / ..hi (numeric)",
    ),
    OpenApiParameter("exclude_seen", str, description="all, none, or types (purchase,cart)"),
    OpenApiParameter("max_per_category", int, description="0 (no cap) to 100"),
    OpenApiParameter(
        "diversity", float, description="MMR lambda: 1 relevance only, 0 most diverse"
    ),
]


def _params(request: Request) -> list[tuple[str, str]]:
    return [(key, value) for key, values in request.query_params.lists() for value in values]


class SimilarItemsView(TenantAPIView):
    required_scope = SCOPE_RECOMMEND

    @extend_schema(
        parameters=[_COUNT, _EXPLAIN, *_RULES], responses={200: schemas.ResultsOut, **_ERRORS}
    )
    def get(self, request: Request, item_id: str) -> Response:
        return Response(
            serving.similar_items(tenant=self.tenant, item_id=item_id, params=_params(request))
        )


class UserRecommendationsView(TenantAPIView):
    required_scope = SCOPE_RECOMMEND

    @extend_schema(
        parameters=[_COUNT, _EXPLAIN, *_RULES], responses={200: schemas.ResultsOut, **_ERRORS}
    )
    def get(self, request: Request, user_id: str) -> Response:
        return Response(
            serving.recommend_for_user(tenant=self.tenant, user_id=user_id, params=_params(request))
        )


class PopularView(TenantAPIView):
    required_scope = SCOPE_RECOMMEND
    ranking = "popular"

    @extend_schema(
        parameters=[_COUNT, _EXPLAIN, *_RULES], responses={200: schemas.ResultsOut, **_ERRORS}
    )
    def get(self, request: Request) -> Response:
        return Response(
            serving.ranked_list(tenant=self.tenant, ranking=self.ranking, params=_params(request))
        )


class TrendingView(PopularView):
    ranking = "trending"


class ModelVersionListView(TenantAPIView):
    required_scope = SCOPE_MANAGE

    @extend_schema(responses={200: schemas.ModelVersionOut(many=True), **_ERRORS})
    def get(self, request: Request) -> Response:
        return Response({"results": model_version_list(self.tenant)})


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
                count=params.parse_count(body.get("count")),
                explain=params.parse_flag(body.get("explain"), "explain"),
            )
        )
