"""Operator UI: each module registers the admin of one area."""

from recommender.admin import catalog, config, experiments, jobs, training, vectors  # noqa: F401
