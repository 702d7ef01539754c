"""Tests of the built-in adapters."""
