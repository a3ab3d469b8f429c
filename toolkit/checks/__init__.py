"""Checks that look across many rows at once (outliers over time, rosters over people),
called from ``toolkit.validate``."""
