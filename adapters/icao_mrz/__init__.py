"""ICAO Doc 9303 machine readable zones (adapter ``icao-mrz``)."""
