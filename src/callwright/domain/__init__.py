"""Pure business rules: no SQLAlchemy, FastAPI, httpx or vendor SDK here."""
