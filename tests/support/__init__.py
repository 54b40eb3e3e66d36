"""Helpers shared by the tests: real broker access, worker processes, feeds built from files."""
