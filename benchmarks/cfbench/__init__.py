"""Benchmark helpers: synthetic production-shaped metrics, Grafana query expansion, statistics and
a throwaway Prometheus. Used by benchmarks/query_cost.py; the pure parts are unit-tested in
tests/test_benchmarks.py."""
