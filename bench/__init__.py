"""Benchmarks: each prints its figures and the ratio against the raw baseline in the same run."""
