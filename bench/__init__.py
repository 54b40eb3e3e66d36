"""Benchmarks: one command each, printing figures and the ratio against the raw baseline."""
