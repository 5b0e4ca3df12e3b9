"""The wire contract as OpenAPI tells it: the request and response shapes of API v1.

The services validate requests in bulk (plain Python, `recommender.services.ingest.rows` and
the parsers of serving and search), not these serializers; so every limit declared here is read
from the validators' own constants, request objects are closed as the validators are (an unknown
field is refused), and `tests/api/test_openapi_contract.py` sends a real request for every
documented operation and status, checks each answer against this document, and tries each limit
at its bound and past it.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.validators import MaxLengthValidator, RegexValidator
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers

from recommender.engine.filters import MAX_VALUES
from recommender.models import Experiment, Job, ModelVersion
from recommender.models.catalog import EXTERNAL_ID_MAX
from recommender.services.ingest.rows import (
    ATTRIBUTES_MAX_DEPTH,
    ATTRIBUTES_MAX_KEYS,
    CATEGORIES_MAX_COUNT,
    CATEGORY_MAX,
    INTEGER_ID_MAX,
    INTEGER_ID_MIN,
    INTERACTION_VALUE_MAX,
    RECOMMENDATION_ID_MAX,
    TEXT_MAX,
    TITLE_MAX,
)
from recommender.services.jobs.kinds import api_job_kinds
from recommender.services.search.semantic import QUERY_MAX_CHARS
from recommender.services.serving.params import (
    DEFAULT_COUNT,
    MAX_CONTEXT_ITEMS,
    MAX_COUNT,
    MIN_COUNT,
)
from recommender.services.serving.rules import DIVERSITY_MAX, DIVERSITY_MIN, PER_CATEGORY_CAP_MAX

# PostgreSQL text cannot hold NUL, so no stored string may contain one.
_NUL_FREE = RegexValidator(r"^[^\x00]*\Z")
# Non-empty, no surrounding whitespace, no '/' (ids are URL path segments), no NUL.
# The characters Python's str.strip() removes, which the validators strip. JSON Schema's `\s`
# differs (it lacks U+001C-U+001F and U+0085 and has U+FEFF), so patterns name them.
SPACE_CHARS = r"\t-\r\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_ID_PATTERN = rf"^[^{SPACE_CHARS}/\u0000](?:[^/\u0000]*[^{SPACE_CHARS}/\u0000])?$"


class ClosedSerializer(serializers.Serializer):
    """A request object whose validator refuses unknown fields: `additionalProperties: false`."""


class _ClosedSerializerExtension(OpenApiSerializerExtension):
    target_class: type[serializers.Serializer] = ClosedSerializer
    match_subclasses = True
    additional_properties = False

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer(
            self.target, direction, bypass_extensions=True
        )
        return {**schema, "additionalProperties": self.additional_properties}


@extend_schema_field(
    {
        "oneOf": [
            {
                "type": "string",
                "minLength": 1,
                "maxLength": EXTERNAL_ID_MAX,
                "pattern": _ID_PATTERN,
            },
            {
                "type": "integer",
                "minimum": INTEGER_ID_MIN,
                "maximum": INTEGER_ID_MAX,
                "description": "stored and returned as its decimal text",
            },
        ]
    }
)
class ExternalIdField(serializers.Field):
    """An id of the tenant's own: text, or an integer (stored as its decimal text)."""


class AttributesField(serializers.DictField):
    """A JSON object of attributes, within the limits of `rows._attributes`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "help_text",
            f"At most {ATTRIBUTES_MAX_KEYS} names, nested at most {ATTRIBUTES_MAX_DEPTH} levels "
            "deep; finite numbers; no NUL in names or strings. null: {}.",
        )
        super().__init__(validators=[MaxLengthValidator(ATTRIBUTES_MAX_KEYS)], **kwargs)


def _text(limit: int, help_text: str = "null: empty") -> serializers.CharField:
    return serializers.CharField(
        max_length=limit,
        validators=[_NUL_FREE],
        required=False,
        allow_null=True,
        help_text=help_text,
    )


def _categories() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(min_length=1, max_length=CATEGORY_MAX, validators=[_NUL_FREE]),
        max_length=CATEGORIES_MAX_COUNT,
        required=False,
        allow_null=True,
        help_text="null: none",
    )


def _batch(child: serializers.Serializer) -> serializers.ListField:
    return serializers.ListField(
        child=child,
        min_length=1,
        max_length=settings.RECSYS_MAX_BATCH_ROWS,
        help_text="More rows than the limit: 413 (batch_too_large).",
    )


# --- requests ---------------------------------------------------------------------------------


class ItemIn(ClosedSerializer):
    """An item, created or replaced whole by its id."""

    id: serializers.Field = ExternalIdField()
    title = _text(TITLE_MAX)
    description = _text(TEXT_MAX)
    categories = _categories()
    attributes = AttributesField(required=False, allow_null=True)
    available = serializers.BooleanField(required=False, allow_null=True, default=True)


class ItemChanges(ItemIn):
    """Only the fields given change; null empties a text, the categories or the attributes."""

    id = serializers.CharField(required=False, help_text="If given, the id in the URL.")
    available = serializers.BooleanField(required=False)


class ItemBatchIn(ClosedSerializer):
    """Items to upsert, all or none."""

    items = _batch(ItemIn())


class UserIn(ClosedSerializer):
    """A user, created or replaced whole by its id."""

    id: serializers.Field = ExternalIdField()
    attributes = AttributesField(required=False, allow_null=True)
    profile_text = _text(TEXT_MAX)


class UserChanges(UserIn):
    """Only the fields given change; null empties the profile text or the attributes."""

    id = serializers.CharField(required=False, help_text="If given, the id in the URL.")


class UserBatchIn(ClosedSerializer):
    """Users to upsert, all or none."""

    users = _batch(UserIn())


class InteractionIn(ClosedSerializer):
    """An event of a user on an item."""

    user = ExternalIdField(help_text="A user id; a user not seen before is created.")
    item = ExternalIdField(help_text="The id of an item the tenant has.")
    type = serializers.CharField(help_text="One of the tenant's interaction types.")
    value = serializers.FloatField(
        required=False,
        allow_null=True,
        default=1.0,
        min_value=-INTERACTION_VALUE_MAX,
        max_value=INTERACTION_VALUE_MAX,
        help_text="A rating, quantity or the like; its type's weight is multiplied by it.",
    )
    timestamp = serializers.DateTimeField(
        required=False, allow_null=True, help_text="ISO 8601 with a time zone; default: receipt."
    )
    event_id = serializers.CharField(
        max_length=EXTERNAL_ID_MAX,
        validators=[_NUL_FREE],
        required=False,
        allow_null=True,
        help_text="Makes re-sends idempotent; empty or null: none.",
    )
    recommendation_id = serializers.CharField(
        max_length=RECOMMENDATION_ID_MAX,
        validators=[_NUL_FREE],
        required=False,
        allow_null=True,
        help_text="The list it came from, to attribute it; empty or null: none.",
    )


class InteractionBatchIn(ClosedSerializer):
    """Interactions to store, all or none."""

    interactions = _batch(InteractionIn())


class SearchIn(ClosedSerializer):
    """A semantic search."""

    query = serializers.CharField(
        max_length=QUERY_MAX_CHARS,
        validators=[RegexValidator(r"\S")],
        help_text="Not only whitespace.",
    )
    user = serializers.CharField(
        min_length=1,
        validators=[_NUL_FREE],
        required=False,
        allow_null=True,
        help_text="Personalise for this user.",
    )
    count = serializers.IntegerField(
        min_value=MIN_COUNT,
        max_value=MAX_COUNT,
        required=False,
        allow_null=True,
        default=DEFAULT_COUNT,
        help_text="A numeric string is read too.",
    )
    explain = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=False,
        help_text='The strings "true", "false", "1", "0" are read too.',
    )


class JobIn(ClosedSerializer):
    """The job to start (imports need a file: the admin or `manage.py import_file`)."""

    kind = serializers.ChoiceField(choices=list(api_job_kinds()))


# --- responses --------------------------------------------------------------------------------


class UpsertOut(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()


class InteractionBatchOut(serializers.Serializer):
    stored = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    users_created = serializers.IntegerField()


class DeletedOut(serializers.Serializer):
    deleted = serializers.IntegerField(min_value=0, help_text="How many rows were deleted.")


class ItemOut(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    categories = serializers.ListField(child=serializers.CharField())
    attributes = serializers.DictField()
    available = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class UserOut(serializers.Serializer):
    id = serializers.CharField()
    attributes = serializers.DictField()
    profile_text = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ExportInteractionOut(serializers.Serializer):
    item_id = serializers.CharField(allow_null=True, help_text="null: the item was deleted")
    type = serializers.CharField()
    value = serializers.FloatField()
    timestamp = serializers.DateTimeField()
    event_id = serializers.CharField(allow_null=True)
    recommendation_id = serializers.CharField(allow_null=True)
    received_at = serializers.DateTimeField()


class ExportServedListOut(serializers.Serializer):
    recommendation_id = serializers.CharField()
    endpoint = serializers.CharField()
    item_ids = serializers.ListField(
        child=serializers.CharField(allow_null=True), help_text="null: the item was deleted"
    )
    model_version = serializers.CharField(allow_null=True)
    config_version = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class ExportVectorOut(serializers.Serializer):
    space = serializers.IntegerField()
    purpose = serializers.CharField(help_text="content: profile text; collaborative: ALS factor")
    model = serializers.CharField(allow_null=True)
    dimension = serializers.IntegerField()
    norm = serializers.FloatField()
    updated_at = serializers.DateTimeField()


class ExportTrainedListOut(serializers.Serializer):
    model_version = serializers.CharField(allow_null=True)
    # The metaclass moves declared fields off the class, so this does not shadow Field.source.
    source = serializers.CharField()  # type: ignore[assignment]
    item_ids = serializers.ListField(child=serializers.CharField(allow_null=True))
    scores = serializers.ListField(child=serializers.FloatField())


class ExportAdminChangeOut(serializers.Serializer):
    action_time = serializers.DateTimeField()
    change = serializers.CharField()


class UserExportOut(serializers.Serializer):
    user = UserOut()
    interactions = ExportInteractionOut(many=True)
    served_lists = ExportServedListOut(many=True)
    vectors = ExportVectorOut(
        many=True, help_text="Summarised: the vectors derive from the profile and the events."
    )
    trained_lists = ExportTrainedListOut(many=True, help_text="Trained top items (ALS).")
    admin_changes = ExportAdminChangeOut(many=True, help_text="Operators' edits in the admin.")


class JobOut(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=Job.Kind.values)
    status = serializers.ChoiceField(choices=Job.Status.values)
    progress = serializers.FloatField(min_value=0, max_value=1)
    counts = serializers.DictField()
    error = serializers.CharField(allow_null=True)
    error_details = serializers.ListField(child=serializers.DictField())
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    # One component for both answers: a second serializer repeating `kind` and `status` would
    # give drf-spectacular two enums of one name.
    existing = serializers.BooleanField(
        required=False,
        help_text="Only when starting a job: true, the tenant's job of this kind already queued "
        "or running (200); false, a new job (202).",
    )


class ResultItemOut(serializers.Serializer):
    id = serializers.CharField()
    score = serializers.FloatField()
    explanation = serializers.DictField(required=False, help_text="With explain=true.")


class ExperimentTagOut(serializers.Serializer):
    id = serializers.IntegerField()
    variant = serializers.CharField()


class ResultsOut(serializers.Serializer):
    recommendation_id = serializers.CharField(
        help_text="Send it back with interactions to attribute them to this list."
    )
    model_version = serializers.CharField(allow_null=True, help_text="e.g. v3; null: none yet")
    config_version = serializers.IntegerField(allow_null=True)
    content_space = serializers.IntegerField(
        allow_null=True, help_text="The embedding space that served content similarity"
    )
    experiment = ExperimentTagOut(
        required=False,
        allow_null=True,
        help_text="The A/B test and variant whose configuration served (recommendations for a "
        "user under a running experiment); null: none",
    )
    items = ResultItemOut(many=True)


class FeedbackOut(serializers.Serializer):
    served_lists = serializers.IntegerField()
    attributed = serializers.IntegerField()
    on_served_items = serializers.IntegerField()
    by_type = serializers.DictField(child=serializers.IntegerField())


class OpenSerializer(serializers.Serializer):
    """A response object that may carry fields beyond those named: `additionalProperties: true`
    (model metrics grow with what training measures)."""


class _OpenSerializerExtension(_ClosedSerializerExtension):
    target_class = OpenSerializer
    additional_properties = True


def _metric(help_text: str = "") -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text or None)


class SliceMetricsOut(serializers.Serializer):
    recall = _metric("mean recall@k over the slice's users; null: an empty slice")
    ndcg = _metric()
    map = _metric()
    hit_rate = _metric()
    users = serializers.IntegerField()
    targets = serializers.IntegerField(help_text="relevant items counted in the slice")


class SlicesOut(serializers.Serializer):
    warm_users = SliceMetricsOut(help_text="test users with more than 2 training events")
    cold_users = SliceMetricsOut(help_text="test users with 1 or 2 training events")
    cold_items = SliceMetricsOut(
        help_text="users with targets that had no training event, scored on those targets only"
    )


class MetricRowOut(serializers.Serializer):
    recall = _metric("@k, on the hold-out; null: undefined")
    ndcg = _metric()
    map = _metric()
    hit_rate = _metric()
    coverage = _metric()
    novelty = _metric()
    users = serializers.IntegerField()
    slices = SlicesOut(required=False)


class ComparedOut(serializers.Serializer):
    new = serializers.FloatField(allow_null=True)
    active = serializers.FloatField(allow_null=True)


class PromotionOut(serializers.Serializer):
    policy = serializers.CharField(help_text="training.promote: always or if_better")
    promoted = serializers.BooleanField()
    reason = serializers.CharField()
    active = serializers.CharField(allow_null=True, help_text="the version active at the time")
    cutoffs = serializers.DictField(
        child=serializers.CharField(allow_null=True),
        help_text="each side's hold-out cut-off: new, active",
    )
    comparison = serializers.DictField(
        child=ComparedOut(),
        help_text="fused NDCG@k of this version (new) and the active one: all, and per slice",
    )


class ModelMetricsOut(OpenSerializer):
    k = serializers.IntegerField(required=False)
    users = serializers.IntegerField(required=False, help_text="users evaluated")
    cutoff = serializers.DateTimeField(required=False, help_text="the hold-out's cut-off")
    rows = serializers.DictField(
        child=MetricRowOut(), required=False, help_text="per source, fused and popular"
    )
    skipped = serializers.DictField(child=serializers.CharField(), required=False)
    skipped_in_training = serializers.DictField(child=serializers.CharField(), required=False)
    not_evaluated = serializers.CharField(
        required=False, help_text="why the hold-out was too small to evaluate on"
    )
    promotion = PromotionOut(required=False)
    evaluation = serializers.DictField(
        required=False, help_text="the last `manage.py evaluate --store`, shaped as these metrics"
    )


class RankerOut(serializers.Serializer):
    mode = serializers.CharField(required=False, help_text="fusion.ranker: auto or off")
    used = serializers.BooleanField(help_text="Whether the ranker orders this version's lists")
    reason = serializers.CharField(help_text="Why it is used, or why weighted fusion serves")
    weighted_ndcg = serializers.FloatField(required=False, help_text="On the validation users")
    ranker_ndcg = serializers.FloatField(required=False, help_text="On the validation users")
    params = serializers.DictField(required=False, help_text="LightGBM settings")
    features_s = serializers.FloatField(required=False)
    fit_s = serializers.FloatField(required=False)
    predict_ms_per_user = serializers.FloatField(required=False)
    top_features = serializers.DictField(
        child=serializers.FloatField(),
        required=False,
        help_text="The features the model gains most from → their share of its total gain",
    )


class SourceTuningOut(serializers.Serializer):
    budget_s = serializers.FloatField(required=False, help_text="The sources' share of the budget")
    spent_s = serializers.FloatField(required=False)
    trials = serializers.IntegerField(required=False)
    skipped = serializers.CharField(required=False, help_text="Why the settings were not tuned")
    configured = serializers.DictField(
        child=serializers.FloatField(), required=False, help_text="setting path → configured"
    )
    configured_ndcg = serializers.FloatField(required=False, help_text="On the validation users")
    best = serializers.DictField(
        child=serializers.FloatField(),
        required=False,
        help_text="setting path → the value this version is fitted and served with",
    )
    best_ndcg = serializers.FloatField(required=False)
    used = serializers.BooleanField(required=False, help_text="Whether any value changed")
    applied = serializers.DictField(
        child=serializers.FloatField(), required=False, help_text="the values that changed"
    )
    not_finished = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="setting path → why its values were not all tried (budget, trials)",
    )


class TuningOut(serializers.Serializer):
    budget_s = serializers.FloatField(required=False)
    spent_s = serializers.FloatField(required=False)
    trials = serializers.IntegerField(help_text="Trials run, all studies together")
    skipped = serializers.CharField(required=False, help_text="Why tuning did not run")
    validation = serializers.CharField(
        required=False, help_text="How the validation split was carved: temporal or per user"
    )
    validation_cutoff = serializers.CharField(
        required=False, help_text="Tuning saw only events before the evaluation cut-off"
    )
    sources = SourceTuningOut(
        required=False, help_text="The sources' own settings, tuned before the fusion"
    )
    fusion_trials = serializers.IntegerField(required=False)
    fusion_budget_s = serializers.FloatField(required=False, allow_null=True)
    validation_users = serializers.IntegerField(required=False)
    fitting_users = serializers.IntegerField(required=False)
    configured_ndcg = serializers.FloatField(required=False)
    config_version = serializers.IntegerField(required=False, allow_null=True)
    weights = serializers.DictField(
        required=False, help_text="best, best_ndcg, used; serving: the weights lists use"
    )
    ranker = serializers.DictField(required=False, help_text="best settings, best_ndcg")
    fresh = serializers.DictField(
        required=False,
        help_text="The share of each list kept for items without events: configured (the most),"
        " chosen (serving), max_loss, warm_ndcg per share tried on validation, reason",
    )
    history = serializers.ListField(
        child=serializers.DictField(), required=False, help_text="stage, value, params per trial"
    )


class ModelVersionOut(serializers.Serializer):
    version = serializers.CharField()
    status = serializers.ChoiceField(choices=ModelVersion.Status.values)
    config_version = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    trained_at = serializers.DateTimeField(allow_null=True)
    activated_at = serializers.DateTimeField(allow_null=True)
    training_data = serializers.DictField(help_text="users, items, interactions trained on")
    sources = serializers.DictField()
    metrics = ModelMetricsOut(help_text="offline evaluation and the promotion decision")
    ranker = RankerOut(allow_null=True, help_text="The learned fusion; null: trained before it")
    tuning = TuningOut(allow_null=True, help_text="Per-tenant tuning; null: trained before it")
    timings = serializers.DictField()
    error = serializers.CharField(allow_null=True)
    feedback = FeedbackOut()


class ModelVersionListOut(serializers.Serializer):
    results = ModelVersionOut(many=True, help_text="The newest versions first.")


class VariantOut(serializers.Serializer):
    name = serializers.CharField()
    config_version = serializers.IntegerField()
    share = serializers.FloatField(help_text="Of the traffic, normalised to sum to 1")
    control = serializers.BooleanField(help_text="The first variant: the others are compared to it")


class ExperimentOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=Experiment.Status.values)
    click_types = serializers.ListField(child=serializers.CharField())
    conversion_types = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    stopped_at = serializers.DateTimeField(allow_null=True)
    winner = serializers.CharField(allow_null=True, help_text="The promoted variant")
    variants = VariantOut(many=True)


class ExperimentListOut(serializers.Serializer):
    results = ExperimentOut(many=True, help_text="The newest experiments first.")


class ComparisonOut(serializers.Serializer):
    lift = _metric("variant rate / control rate - 1; null: a rate of 0")
    lift_low = _metric("95% interval, from the log of the rate ratio")
    lift_high = _metric()
    z = _metric("pooled two-proportion z")
    p_value = _metric("two-sided")


class VersusControlOut(serializers.Serializer):
    click_through = ComparisonOut()
    conversion = ComparisonOut()


class VariantResultOut(VariantOut):
    lists = serializers.IntegerField(help_text="Lists served under the variant")
    users = serializers.IntegerField(help_text="Distinct known users served")
    clicked = serializers.IntegerField(help_text="Lists with an attributed click")
    converted = serializers.IntegerField(help_text="Lists with an attributed conversion")
    click_through = _metric("clicked / lists; null: no lists")
    conversion = _metric("converted / lists; null: no lists")
    vs_control = VersusControlOut(allow_null=True, help_text="null for the control")


class SampleRatioOut(serializers.Serializer):
    users = serializers.ListField(child=serializers.IntegerField())
    expected = serializers.ListField(child=serializers.FloatField())
    chi_square = serializers.FloatField()
    p_value = serializers.FloatField()
    mismatch = serializers.BooleanField(help_text="p below 0.001")


class ExperimentResultsOut(ExperimentOut):
    variants = VariantResultOut(many=True)
    sample_ratio = SampleRatioOut()
    warnings = serializers.ListField(
        child=serializers.CharField(), help_text="Sample ratio mismatch, samples too small"
    )


class ErrorDetail(serializers.Serializer):
    row = serializers.IntegerField(required=False, help_text="The row of a batch at fault.")
    field = serializers.CharField(required=False, allow_null=True)
    message = serializers.CharField()


class ErrorBody(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = ErrorDetail(many=True)


class ErrorOut(serializers.Serializer):
    error = ErrorBody()


# --- query parameters of the result lists -----------------------------------------------------


CATEGORY_NAME_PATTERN = rf"^[^,\u0000]*[^{SPACE_CHARS},\u0000][^,\u0000]*$"


def _category_names(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        {
            "type": "array",
            # A name holds a character that is not a space, and no comma (the separator) or NUL.
            "items": {"type": "string", "minLength": 1, "pattern": CATEGORY_NAME_PATTERN},
            "minItems": 1,
            "maxItems": MAX_VALUES,
        },
        style="form",
        explode=False,
        description=description,
    )


_LIST_PARAMETERS = [
    OpenApiParameter(
        "count",
        {"type": "integer", "minimum": MIN_COUNT, "maximum": MAX_COUNT, "default": DEFAULT_COUNT},
        description="How many items.",
    ),
    OpenApiParameter(
        "explain",
        {"type": "boolean", "default": False},
        description="Add why each item is there (1 and 0 are read too).",
    ),
    _category_names("category", "Items in any of these categories (a,b)."),
    _category_names("exclude_category", "Items in none of these categories."),
    OpenApiParameter(
        "attr.NAME",
        str,
        description="Attribute filter (NAME: a letter or _, then up to 63 of A-Z a-z 0-9 _ -): "
        f"value, v1|v2 (one of, at most {MAX_VALUES}), lo..hi / lo.. / ..hi (numeric). "
        "NAME must be an attribute some item has.",
    ),
    OpenApiParameter(
        "exclude_seen",
        str,
        description="all, none, or interaction types (purchase,cart); default: the configuration",
    ),
    OpenApiParameter(
        "max_per_category",
        {"type": "integer", "minimum": 0, "maximum": PER_CATEGORY_CAP_MAX},
        description="0: no cap; default: the configuration",
    ),
    OpenApiParameter(
        "diversity",
        {"type": "number", "minimum": DIVERSITY_MIN, "maximum": DIVERSITY_MAX},
        description="MMR lambda: 1 relevance only, 0 most diverse; default: the configuration",
    ),
]

# Only a user's recommendations take the visitor's context.
_USER_LIST_PARAMETERS = [
    *_LIST_PARAMETERS,
    OpenApiParameter(
        "context_items",
        {
            "type": "array",
            # Like a category name: a character that is not a space, and no comma.
            "items": {"type": "string", "minLength": 1, "pattern": CATEGORY_NAME_PATTERN},
            "minItems": 1,
            "maxItems": MAX_CONTEXT_ITEMS,
        },
        style="form",
        explode=False,
        description="Ids of the items the visitor looks at now, most relevant first (a,b): the "
        "list is then session-based, the items like these (neighbour lists and content "
        "similarity), minus the user's seen items. Ids the tenant lacks are ignored.",
    ),
]


# --- operations -------------------------------------------------------------------------------

_TOO_BIG = f"a body over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes (request_too_large)"
# Statuses gunicorn answers itself, in the envelope (recsys_platform/gunicorn_errors.py).
SERVER_STATUSES = (414, 431)
_ERROR_MEANINGS = {
    400: "Invalid input; `details` name each field (and row) at fault.",
    401: "No API key, or an invalid or revoked one.",
    403: "The key lacks this operation's scope, or its tenant is deactivated.",
    404: "No such id for this tenant.",
    409: "Not ready: the tenant has no vectors (or model) yet.",
    413: f"Too large: {_TOO_BIG}.",
    414: "The request line (method, path and query) is over the server's 8190 bytes "
    "(uri_too_long); answered by gunicorn, before the API.",
    415: "The body is not JSON.",
    431: "A request header, or all of them, over the server's limits (header_too_large); "
    "answered by gunicorn, before the API.",
    429: "Too many requests: the key's or the tenant's rate limit, or too many failed "
    "authentications for this key; `Retry-After` gives the seconds to wait.",
}


def _error_meaning(status: int, request: type[serializers.Serializer] | None) -> str:
    if status == 413 and request in (ItemBatchIn, UserBatchIn, InteractionBatchIn):
        return f"More than {settings.RECSYS_MAX_BATCH_ROWS} rows (batch_too_large), or {_TOO_BIG}."
    return _ERROR_MEANINGS[status]


def operation(
    *,
    summary: str,
    description: str,
    responses: dict[int, Any],
    request: type[serializers.Serializer] | None = None,
    parameters: list[OpenApiParameter] | None = None,
    errors: tuple[int, ...] = (),
) -> Callable[[Any], Any]:
    """`extend_schema` for one operation: its own summary and description, its answers, and the
    error envelope under every status it can give: 401, 403 and 429 for all (each needs a key and
    is rate-limited), 414 and 431 for all (gunicorn's limits on the request line and headers),
    400, 413 and 415 for those with a body, and the `errors` named."""
    statuses = {
        401,
        403,
        429,
        *SERVER_STATUSES,
        *errors,
        *((400, 413, 415) if request is not None else ()),
    }
    extra: dict[str, Any] = {} if request is None else {"request": request}
    return extend_schema(
        summary=summary,
        description=description,
        parameters=parameters,
        responses={
            **responses,
            **{
                status: OpenApiResponse(ErrorOut, description=_error_meaning(status, request))
                for status in sorted(statuses)
            },
        },
        **extra,
    )


def result_list(
    *, summary: str, description: str, errors: tuple[int, ...], for_user: bool = False
) -> Callable[[Any], Any]:
    """`operation` for an endpoint answering a list of results (the list parameters, ResultsOut)."""
    return operation(
        summary=summary,
        description=description,
        parameters=_USER_LIST_PARAMETERS if for_user else _LIST_PARAMETERS,
        responses={200: ResultsOut},
        errors=errors,
    )
