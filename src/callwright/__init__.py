"""callwright: a self-hostable voice-AI agent platform with a Ringg-compatible REST API."""

__version__ = "0.1.0"
