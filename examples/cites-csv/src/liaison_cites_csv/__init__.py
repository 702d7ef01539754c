"""Liaison adapter ``cites-csv``: CITES Trade Database comparative tabulations (CSV) in and out."""

from liaison_cites_csv.adapter import CitesCsvAdapter
from liaison_cites_csv.layout import COLUMNS, record_id

__all__ = ["COLUMNS", "CitesCsvAdapter", "record_id"]
