"""Identities, grants, per-identity limits and audited refusals, attacked over mutual TLS."""
