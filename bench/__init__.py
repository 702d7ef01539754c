"""Benchmarks of the Liaison gateway against a raw grpc.aio baseline (``python -m bench``).

See ``bench/README.md`` for what is measured and how to read the figures.
"""
