"""ICAO Doc 9303 machine readable zones (adapter ``icao-mrz``): TD1, TD2, TD3, MRV-A, MRV-B."""

from adapters.icao_mrz.adapter import IcaoMrzAdapter

__all__ = ["IcaoMrzAdapter"]
