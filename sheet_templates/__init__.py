"""The shipped report templates (*.toml), installed as the package ``toolkit.sheet_templates``.

This file is here only so an editable install (``pip install -e .``) can import the package:
setuptools maps ``toolkit.sheet_templates`` to this top-level folder (pyproject's package-dir),
and its editable finder resolves a mapped subpackage only when it has an ``__init__.py``; as a
namespace package it is found in a wheel install but not in an editable one. Read the templates
through ``toolkit.config.PACKAGED_TEMPLATES``.
"""
