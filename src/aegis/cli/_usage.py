"""Usage errors shared by the commands that parse their own option values."""

from __future__ import annotations

from typing import NoReturn

import typer

EXIT_USAGE = 2


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``error: message`` to stderr and exit with ``code`` (2: bad usage)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def parse_params(pairs: list[str]) -> dict[str, str]:
    """Return the ``--param key=value`` pairs as a dict; fail naming a pair without ``=``."""
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(f"--param {pair!r} must look like key=value")
        params[key.strip()] = value.strip()
    return params
