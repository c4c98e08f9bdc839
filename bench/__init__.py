"""Benchmarks run against a real, production-mode Mirage (see bench/README.md)."""
