"""Parts of ``benchmarks/scripts/gpu_check.py``: environment, step probe, training run, report."""
