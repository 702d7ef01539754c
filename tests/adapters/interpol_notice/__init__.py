"""Tests of the interpol-notice adapter."""
