"""The operator's preview: a user's recent interactions, their list under the active
configuration, and the list a draft configuration would serve (nothing saved, nothing logged),
with the items' titles and categories."""

from typing import Any

from recommender.engine.config_schema import ConfigError, merge_config, validate_config
from recommender.selectors import access_user_by_external_id
from recommender.services.config import active_config
from recommender.services.console.titles import list_titled
from recommender.services.serving import lists
from recommender.stores import user_reads
from recsys_platform.errors import ApplicationError, NotFoundError
from tenants.models import Tenant

RECENT_INTERACTIONS = 20
PREVIEW_PARAMS = [("count", "10"), ("explain", "true")]


class PreviewError(ApplicationError):
    """What the preview page shows instead of lists: an unknown user or an invalid draft."""


def draft_config(tenant: Tenant, draft: dict[str, Any]) -> dict[str, Any]:
    try:
        return validate_config(merge_config(active_config(tenant), draft))
    except ConfigError as exc:
        raise PreviewError(
            "invalid_config", f"The draft is invalid: {exc}", details=exc.errors
        ) from exc


def preview_for_user(*, tenant: Tenant, user_id: str, draft: dict[str, Any]) -> dict[str, Any]:
    """Runs inside the tenant's scope: another tenant's user is as unknown as a missing one."""
    try:
        user = access_user_by_external_id(user_id)
    except NotFoundError as exc:
        raise PreviewError("not_found", exc.message) from exc
    config = draft_config(tenant, draft) if draft else None
    active = lists.recommend_for_user(
        tenant=tenant, user_id=user_id, params=PREVIEW_PARAMS, log=False
    )
    drafted = (
        lists.recommend_for_user(
            tenant=tenant, user_id=user_id, params=PREVIEW_PARAMS, config=config, log=False
        )
        if config is not None
        else None
    )
    return {
        "user": user.external_id,
        "interactions": user_reads.recent_interactions(user_id=user.pk, limit=RECENT_INTERACTIONS),
        "active": list_titled(tenant, active),
        "draft": list_titled(tenant, drafted) if drafted is not None else None,
    }
