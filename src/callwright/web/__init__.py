"""The dashboard and the embeddable widget: static files served by ``api/routes/web.py``."""
