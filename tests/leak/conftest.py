"""Fixtures of the no-leak tests: the intake tests' throwaway PostgreSQL cluster."""

from __future__ import annotations

from tests.intake.conftest import pg_server, pg_url

__all__ = ["pg_server", "pg_url"]
