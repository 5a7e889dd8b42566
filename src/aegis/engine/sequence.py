"""Client-order-id sequence kept in the data directory, so a restart never reuses an id (OR2).

Until the store (issue 4) persists order intents, the next sequence number is written to a small
file before each order leaves the process (the order manager's intent seam).
"""

from __future__ import annotations

import os
from pathlib import Path

from aegis.model.errors import ConfigError
from aegis.model.ids import parse_client_order_id
from aegis.model.order import Order


class SequenceFile:
    """The next client-order sequence of one bot, in ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> int:
        """Return the next sequence number (1 when the file does not exist yet)."""
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return 1
        if not text.isdigit() or int(text) < 1:
            raise ConfigError(f"order sequence file {self.path} holds {text!r}, not a number >= 1")
        return int(text)

    def intent_writer(self, order: Order) -> None:
        """Persist the sequence after ``order`` before it is sent (atomic replace)."""
        sequence = parse_client_order_id(order.client_order_id).sequence
        self.write(max(sequence + 1, self.read()))

    def write(self, next_sequence: int) -> None:
        """Write ``next_sequence`` atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(f"{next_sequence}\n", encoding="utf-8")
        os.replace(temporary, self.path)
