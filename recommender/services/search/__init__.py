"""Semantic search over the content space."""
