"""Serializers used only to describe the API in OpenAPI (the views validate in bulk instead)."""

from rest_framework import serializers


class ItemIn(serializers.Serializer):
    id = serializers.CharField(max_length=255)
    title = serializers.CharField(required=False, max_length=500)
    description = serializers.CharField(required=False)
    categories = serializers.ListField(child=serializers.CharField(), required=False)
    attributes = serializers.DictField(required=False)
    available = serializers.BooleanField(required=False, default=True)


class ItemOut(ItemIn):
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ItemPatch(ItemIn):
    id = serializers.CharField(required=False)


class ItemBatchIn(serializers.Serializer):
    items = ItemIn(many=True)


class UserIn(serializers.Serializer):
    id = serializers.CharField(max_length=255)
    attributes = serializers.DictField(required=False)
    profile_text = serializers.CharField(required=False)


class UserOut(UserIn):
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class UserPatch(UserIn):
    id = serializers.CharField(required=False)


class UserBatchIn(serializers.Serializer):
    users = UserIn(many=True)


class UpsertOut(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()


class InteractionIn(serializers.Serializer):
    user = serializers.CharField()
    item = serializers.CharField()
    type = serializers.CharField(help_text="One of the tenant's interaction types.")
    value = serializers.FloatField(required=False, default=1.0)
    timestamp = serializers.DateTimeField(required=False, help_text="Defaults to receipt time.")
    event_id = serializers.CharField(required=False, help_text="Makes re-sends idempotent.")
    recommendation_id = serializers.CharField(required=False)


class InteractionBatchIn(serializers.Serializer):
    interactions = InteractionIn(many=True)


class InteractionBatchOut(serializers.Serializer):
    stored = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    users_created = serializers.IntegerField()


class JobOut(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    status = serializers.ChoiceField(choices=["queued", "running", "succeeded", "failed"])
    progress = serializers.FloatField()
    counts = serializers.DictField()
    error = serializers.CharField(allow_null=True)
    error_details = serializers.ListField(child=serializers.DictField())
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class ErrorBody(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.ListField(child=serializers.DictField())


class ErrorOut(serializers.Serializer):
    error = ErrorBody()


class ResultItemOut(serializers.Serializer):
    id = serializers.CharField()
    score = serializers.FloatField()
    explanation = serializers.DictField(required=False)


class ResultsOut(serializers.Serializer):
    recommendation_id = serializers.CharField(
        help_text="Send it back with interactions to attribute them to this list."
    )
    model_version = serializers.CharField(allow_null=True, help_text="e.g. v3; null: none yet")
    config_version = serializers.IntegerField(allow_null=True)
    content_space = serializers.IntegerField(
        allow_null=True, help_text="The embedding space that served content similarity"
    )
    items = ResultItemOut(many=True)


class FeedbackOut(serializers.Serializer):
    served_lists = serializers.IntegerField()
    attributed = serializers.IntegerField()
    on_served_items = serializers.IntegerField()
    by_type = serializers.DictField(child=serializers.IntegerField())


class ModelVersionOut(serializers.Serializer):
    version = serializers.CharField()
    status = serializers.ChoiceField(choices=["training", "ready", "active", "failed", "retired"])
    config_version = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    trained_at = serializers.DateTimeField(allow_null=True)
    activated_at = serializers.DateTimeField(allow_null=True)
    training_data = serializers.DictField(help_text="users, items, interactions trained on")
    sources = serializers.DictField()
    metrics = serializers.DictField()
    timings = serializers.DictField()
    error = serializers.CharField(allow_null=True)
    feedback = FeedbackOut()


class SearchIn(serializers.Serializer):
    query = serializers.CharField(max_length=1000)
    user = serializers.CharField(required=False)
    count = serializers.IntegerField(required=False, min_value=1, max_value=100)
    explain = serializers.BooleanField(required=False)


class JobIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["encode", "train"])
