"""Tests of the ``ansi-nist`` adapter (ANSI/NIST-ITL 1-2011 traditional encoding)."""
