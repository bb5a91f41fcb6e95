"""Where recordings and exports live: a local directory (default)."""
