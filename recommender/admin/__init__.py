"""Operator UI: each module registers the admin of one area."""

from recommender.admin import catalog, config, jobs, vectors  # noqa: F401
