"""Tests of the paxlst adapter."""
