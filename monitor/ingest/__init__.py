"""Stage 1, ingest: feeds in, articles out.

Takes the feeds of ``config/feeds.yaml`` and gives ``Article`` records. It fetches each
feed with its own HTTP client (address guard, size cap, conditional GET), defuses DOCTYPEs,
parses only the items that changed with feedparser, fetches full text where a feed asks for
it, gives each article a stable id and decides when each feed is polled next. Nothing here
knows about Kafka, spaCy or stories: the poller process (``monitor.runtime.poller``) publishes
what this stage returns.
"""
