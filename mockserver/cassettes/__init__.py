"""Cassettes in VCR.py's format: replay, record, drift."""
