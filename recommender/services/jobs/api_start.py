"""Jobs a tenant app may start over the API (`POST /api/v1/jobs`)."""

from typing import Any

from recommender.models import Job
from recommender.services.jobs.kinds import api_job_kinds
from recommender.services.jobs.lifecycle import job_create
from recsys_platform.errors import ApplicationError
from tenants.models import Tenant


def job_start_from_api(*, tenant: Tenant, payload: Any) -> Job:
    if not isinstance(payload, dict) or set(payload) - {"kind"}:
        raise ApplicationError(
            "validation_error",
            'The body must be {"kind": "..."}.',
            details=[{"field": "kind", "message": "required; no other fields"}],
        )
    kind = payload.get("kind")
    startable = api_job_kinds()
    if kind not in startable:
        raise ApplicationError(
            "validation_error",
            f"Unknown job kind {kind!r}; the API starts: {', '.join(startable)}.",
            details=[{"field": "kind", "message": "unknown kind"}],
        )
    return job_create(tenant=tenant, kind=kind)
