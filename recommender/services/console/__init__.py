"""Operator-facing services: preview, on-demand evaluation, model versions."""
