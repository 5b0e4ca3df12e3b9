"""Operator UI: each module registers the admin of one area."""

from recommender.admin import catalog, config, jobs, training, vectors  # noqa: F401
