"""Jobs a tenant app may start over the API (`POST /api/v1/jobs`)."""

from typing import Any

from recommender.services.jobs.kinds import api_job_kinds
from recommender.services.jobs.lifecycle import JobStart, job_start_once
from recsys_platform.errors import ApplicationError
from tenants.models import Tenant


def job_start_from_api(*, tenant: Tenant, payload: Any) -> JobStart:
    """Start a job of the kind asked for, or return the tenant's job of that kind already queued
    or running (`existing`): a second one would only redo its work beside it."""
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
    return job_start_once(tenant=tenant, kind=kind)
