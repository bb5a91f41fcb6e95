"""Use cases: async functions over a unit of work (a database session) and ports."""
