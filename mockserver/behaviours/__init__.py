"""Behaviours that make the mock act like the real API; plain Python, no Flask."""
