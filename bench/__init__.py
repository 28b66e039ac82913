"""regframe benchmarks against a round-trip lower bound and peers: ``python bench/run.py``."""
