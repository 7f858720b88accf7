"""The web application: archivist console, researcher portal and REST API (Flask)."""

from luutru.web.app import create_app

__all__ = ["create_app"]
