"""Benchmarks that print figures (run by hand with ``make bench``; never collected by pytest)."""
