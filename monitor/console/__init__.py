"""The analyst console: ``newsmon console``, a web page of alerts, stories and feedback.

It takes in the ``decisions``, ``alerts`` and ``feedback`` topics (read by its own consumer
into a SQLite read model, ``console.sqlite3`` in the data directory, rebuildable from the
topics) and gives out server-rendered pages (alerts, live over server-sent events; a
story's timeline; activity by day; health) and analysts' judgements, which it writes to the
``feedback`` topic. It never calls into the worker and never fetches or reads anything a
request names.

Modules: ``store`` (the read model's writes) and ``queries`` (its reads), ``follow`` (the
Kafka consumer that feeds it), ``security`` (headers, session token, CSRF), ``routes`` (one
list of every URL) with one handler module per page under ``pages/``, ``serve`` (uvicorn).
"""
