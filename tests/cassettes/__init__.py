"""Helpers and fixture cassettes for the cassette tests."""
