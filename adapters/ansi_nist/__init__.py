"""ANSI/NIST-ITL 1-2011 traditional encoding, Type-1 and Type-2 (adapter ``ansi-nist``)."""

from adapters.ansi_nist.adapter import AnsiNistAdapter

__all__ = ["AnsiNistAdapter"]
