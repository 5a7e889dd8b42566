"""Structured logs of a run (OP2): JSON lines in ``<data_dir>/logs/aegis.log`` with rotation.

A redaction processor is the safety net (TN4): any field whose name looks like a credential, and
any occurrence of a configured secret value in any field, is replaced by ``***``.
"""

from __future__ import annotations

import logging
import logging.handlers
from collections.abc import Iterable, MutableMapping
from pathlib import Path
from typing import Any, Final

import structlog

_SECRET_FIELD_PARTS: Final = ("secret", "password", "api_key", "apikey", "token", "signature")
REDACTED: Final = "***"


class Redactor:
    """structlog processor hiding credentials by field name and by value."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = tuple(s for s in secrets if len(s) >= 4)

    def __call__(
        self, logger: Any, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key, value in list(event.items()):
            lowered = key.lower()
            if any(part in lowered for part in _SECRET_FIELD_PARTS):
                event[key] = REDACTED
            elif isinstance(value, str) and self.secrets:
                event[key] = self.redact_text(value)
        return event

    def redact_text(self, text: str) -> str:
        """Return ``text`` with every secret value replaced."""
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


def configure_logging(
    data_dir: Path,
    *,
    secrets: Iterable[str] = (),
    console_level: int = logging.WARNING,
    max_bytes: int = 10_000_000,
    backups: int = 5,
) -> Path:
    """Send every event as JSON to the rotating log file, warnings and up to stderr.

    Returns the log file path.
    """
    log_dir = data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "aegis.log"
    redactor = Redactor(secrets)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redactor,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
    )
    file_handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    console = logging.StreamHandler()
    console.setLevel(console_level)
    console.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.dev.ConsoleRenderer(colors=False),
            ],
        )
    )
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_aegis", False):
            root.removeHandler(handler)
            handler.close()
    handlers: list[logging.Handler] = [file_handler, console]
    for handler in handlers:
        # marks our handlers, so a second configure_logging (tests) replaces them
        setattr(handler, "_aegis", True)  # noqa: B010
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in ("uvicorn", "uvicorn.error", "aiohttp.access", "ccxt"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path
