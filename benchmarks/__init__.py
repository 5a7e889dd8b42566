"""Performance benchmarks of the backtester (`make bench` runs `python -m benchmarks.run`)."""
