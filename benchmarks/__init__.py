"""Benchmark scripts: quality (benchmarks/quality.py) and the reprint corpus generator."""
