"""Parts of ``benchmarks/gpu_check.py``: environment, step probe, training run, report."""
