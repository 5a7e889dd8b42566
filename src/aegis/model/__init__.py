"""Pure domain model (standard library only)."""
