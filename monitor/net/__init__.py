"""Rules for outbound HTTP shared by ingest and delivery.

The address guard (which hosts a fetch or a webhook may reach) and the one ``Retry-After``
parser; both stages send requests to addresses a user configured.
"""
