"""The `aegis` command line."""

from aegis.cli.app import app, main

__all__ = ["app", "main"]
