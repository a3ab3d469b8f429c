"""Checks beyond field rules: outliers, streaks, rosters — each returns rows of the issue table."""
