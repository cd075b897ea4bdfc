"""The web planner served by the API at ``/`` (issue 9): static page, vendored libraries."""

from api.web.routes import install, router

__all__ = ["install", "router"]
