"""Algorithms over numpy/torch arrays; importable without Django (enforced by import-linter)."""
