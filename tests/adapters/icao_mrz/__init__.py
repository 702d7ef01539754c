"""Tests of the icao-mrz adapter (ICAO Doc 9303 machine readable zones)."""
