"""Stage 2, NLP: articles in, tagged articles out.

Takes ``Article`` records and gives ``TaggedArticle`` records: spaCy's pipeline plus the
watchlist's actor ruler find the actors, trigger phrases mark the themes, and claim extraction
reads who did what to whom, with its modality, from each evidence sentence. This is the only
stage that loads spaCy; it runs in a process pool so the worker's event loop never blocks.
"""
