"""Liaison gateway."""
