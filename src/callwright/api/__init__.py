"""The HTTP API: Ringg's v0 paths under /ca/api/v0, plus our own additions."""
