"""Ingest: validation of incoming rows, batch upserts, single-row changes, file imports, demo."""
