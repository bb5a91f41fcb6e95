"""Engine and carrier providers behind small ports (see base.py), loaded lazily (registry.py)."""
