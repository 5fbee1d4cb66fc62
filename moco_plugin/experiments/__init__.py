"""Experiments (layer 4): work that needs both the zoo and the few-label layer, or drives
whole studies; the command-line tools (layer 5) parse arguments and call these."""
