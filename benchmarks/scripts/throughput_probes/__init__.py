"""The probes of benchmarks/scripts/throughput.py: memory readings, window timing, the project's
model-only and end-to-end phases, and the lightly-built loop."""
