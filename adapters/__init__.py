"""Liaison adapters."""
