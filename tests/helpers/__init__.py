"""Importable probes for `python` checks in the tests."""
