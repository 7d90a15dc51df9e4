"""Ingest: loaders -> extract and clean -> fingerprint -> match -> place -> store."""
