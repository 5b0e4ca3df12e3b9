"""API v1 views of results: similar items, semantic search, recommendations for a user."""

from drf_spectacular.utils import extend_schema_view
from rest_framework.request import Request
from rest_framework.response import Response

from recommender.api import schemas
from recommender.api.schemas import operation, result_list
from recommender.selectors import access_experiment_by_id, experiment_list
from recommender.services.console.model_versions import LISTED_VERSIONS, model_version_list
from recommender.services.experiments.results import experiment_results, experiment_summary
from recommender.services.search import semantic
from recommender.services.serving import lists
from tenants.api_base import TenantAPIView
from tenants.models import SCOPE_MANAGE, SCOPE_RECOMMEND


def _params(request: Request) -> list[tuple[str, str]]:
    return [(key, value) for key, values in request.query_params.lists() for value in values]


class SimilarItemsView(TenantAPIView):
    required_scope = SCOPE_RECOMMEND

    @result_list(
        summary="Items similar to an item",
        description="Content neighbours of the item fused with the items bought or viewed "
        "with it, under the request's filters and rules.",
        errors=(400, 404, 409),
    )
    def get(self, request: Request, item_id: str) -> Response:
        return Response(
            lists.similar_items(tenant=self.tenant, item_id=item_id, params=_params(request))
        )


class UserRecommendationsView(TenantAPIView):
    required_scope = SCOPE_RECOMMEND

    @result_list(
        summary="Recommendations for a user",
        description="The configured sources fused for the user, under the request's filters "
        "and rules. A user with no history, and a user id never seen (an anonymous visitor or "
        "a session id), get the cold-start list (trending, then popular). With context_items "
        "the list is session-based. Under a running A/B test the user's variant's "
        "configuration serves, named in `experiment`.",
        errors=(400,),
        for_user=True,
    )
    def get(self, request: Request, user_id: str) -> Response:
        return Response(
            lists.recommend_for_user(tenant=self.tenant, user_id=user_id, params=_params(request))
        )


class PopularView(TenantAPIView):
    required_scope = SCOPE_RECOMMEND
    ranking = "popular"

    @result_list(
        summary="Popular items",
        description="The items with the most recent weighted activity (the trained model's "
        "ranking; counted live before any training), under the request's filters and rules.",
        errors=(400,),
    )
    def get(self, request: Request) -> Response:
        return Response(
            lists.ranked_list(tenant=self.tenant, ranking=self.ranking, params=_params(request))
        )


@extend_schema_view(
    get=result_list(
        summary="Trending items",
        description="The items whose activity grew fastest lately (the trained model's "
        "ranking; empty before any training), under the request's filters and rules.",
        errors=(400,),
    )
)
class TrendingView(PopularView):
    ranking = "trending"


class ModelVersionListView(TenantAPIView):
    required_scope = SCOPE_MANAGE

    @operation(
        summary="List model versions",
        description=f"The tenant's {LISTED_VERSIONS} newest model versions: status, sources, "
        "offline metrics, timings and the feedback their lists earned.",
        responses={200: schemas.ModelVersionListOut},
    )
    def get(self, request: Request) -> Response:
        return Response({"results": model_version_list(self.tenant)})


class SearchView(TenantAPIView):
    required_scope = SCOPE_RECOMMEND

    @operation(
        summary="Semantic search",
        description="The items whose text is nearest the query's in the content space; given a "
        "user, re-ranked toward the user's taste.",
        request=schemas.SearchIn,
        responses={200: schemas.ResultsOut},
        errors=(404, 409),
    )
    def post(self, request: Request) -> Response:
        body = semantic.parse_search_body(request.data)
        return Response(
            semantic.search(
                tenant=self.tenant,
                query=body.query,
                user_id=body.user_id,
                count=body.count,
                explain=body.explain,
            )
        )


class ExperimentListView(TenantAPIView):
    required_scope = SCOPE_MANAGE

    @operation(
        summary="List A/B experiments",
        description="The tenant's experiments, newest first: status, variants with their "
        "configuration versions and traffic shares, the promoted winner.",
        responses={200: schemas.ExperimentListOut},
    )
    def get(self, request: Request) -> Response:
        return Response({"results": [experiment_summary(e) for e in experiment_list()]})


class ExperimentResultsView(TenantAPIView):
    required_scope = SCOPE_MANAGE

    @operation(
        summary="Read an experiment's results",
        description="Per variant: lists served, attributed click-through and conversion, lift "
        "over the control with a 95% interval and a two-proportion z-test; a sample-ratio-"
        "mismatch check against the shares, and warnings while samples are too small.",
        responses={200: schemas.ExperimentResultsOut},
        errors=(404,),
    )
    def get(self, request: Request, experiment_id: str) -> Response:
        return Response(experiment_results(access_experiment_by_id(experiment_id)))
