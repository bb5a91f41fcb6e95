"""telephony providers, one file each; loaded lazily through callwright.providers.registry."""
