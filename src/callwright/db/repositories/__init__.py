"""Repositories: every query here is scoped to one workspace."""
