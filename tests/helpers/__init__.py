"""Helpers for the tests (plain functions and classes; the fixtures are in tests/conftest.py)."""
