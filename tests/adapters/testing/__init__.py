"""Tests of the adapter conformance kit (``adapters.testing``) itself."""
