"""One small handler module per console page or action; ``routes`` maps URLs to them."""
