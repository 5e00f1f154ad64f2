"""Helpers shared by the Python test suites (contract, browser)."""
