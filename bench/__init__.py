"""regframe benchmarks (DESIGN §6): ``python bench/run.py``; see bench/README.md."""
