"""Helpers for the tests: importable probes for `python` checks, the headless browser."""
