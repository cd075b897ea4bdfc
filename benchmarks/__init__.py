"""Benchmarks, kept apart from the tests; run them with ``make bench``."""
