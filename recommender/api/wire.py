"""Wire representations of rows (the contract in DESIGN.md: fields may be added, not renamed)."""

from typing import Any

from recommender.models import EndUser, Item, Job


def item_to_wire(item: Item) -> dict[str, Any]:
    return {
        "id": item.external_id,
        "title": item.title,
        "description": item.description,
        "categories": item.categories,
        "attributes": item.attributes,
        "available": item.available,
        "created_at": item.created_at.isoformat(),
        "updated_at": item.updated_at.isoformat(),
    }


def user_to_wire(user: EndUser) -> dict[str, Any]:
    return {
        "id": user.external_id,
        "attributes": user.attributes,
        "profile_text": user.profile_text,
        "created_at": user.created_at.isoformat(),
        "updated_at": user.updated_at.isoformat(),
    }


def job_to_wire(job: Job) -> dict[str, Any]:
    return {
        "id": str(job.id),
        "kind": job.kind,
        "status": job.status,
        "progress": round(job.progress, 4),
        "counts": job.counts,
        "error": job.error or None,
        "error_details": job.error_details,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
