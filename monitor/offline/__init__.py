"""Offline runs: article files in, decisions and quality figures out.

``newsmon replay`` runs the worker's NLP → relevance logic in-process over article files
(JSON Lines, JSON, CSV, text, RSS/Atom) and prints one ``Decision`` per article; ``newsmon
eval`` scores those decisions against the labelled development set beside a keyword baseline.
"""
