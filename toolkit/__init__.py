"""Commune report toolkit: provision, collect, validate and roll up commune reports."""

__version__ = "0.1.0"
