"""Serving: what serves a tenant, candidates per source, fusion and rules, explanations."""
