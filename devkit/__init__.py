"""Development tooling that is not part of the gateway product: the multi-process cluster of
centres used by the demo, the federation tests and the benchmarks. Not installed with the wheel;
importable from the repository root (``make demo`` and ``make bench`` run from there)."""
