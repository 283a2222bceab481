"""Benchmarks that drive the real app over websockets (`python -m bench.delivery`)."""
