"""Operator UI: each module registers the admin of one area."""

from recommender.admin import (  # noqa: F401
    catalog,
    config,
    dashboard,
    experiments,
    jobs,
    sidebar,
    tenant_page,
    training,
    vectors,
)
