"""Named SQL reports: one query per file, :named parameters (see archive.reporting)."""
