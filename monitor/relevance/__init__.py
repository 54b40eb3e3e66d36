"""Stage 3, relevance: tagged articles in, decisions and alerts out.

Takes ``TaggedArticle`` records and gives a ``Decision`` per article and an ``Alert`` when a
story is new or escalates. The watchlist's rules decide relevance from the claims; stories
group the articles that report one development (near-duplicates, same title, same
development); novelty decides whether a story's new article tells the analyst anything new.
Pure functions over plain story state: the daemon keeps that state in a Faust table,
``newsmon replay`` in a dict.
"""
