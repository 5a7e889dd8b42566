"""Snapshot support shared by the streaming indicators: a JSON-safe ``state()`` / ``from_state()``.

A state is ``{"type": class name, "params": constructor arguments, "fields": internal state}``.
``from_state`` rebuilds the object through its constructor (so the parameters are validated
again) and then restores the fields; floats are encoded with NaN as ``None`` because JSON has
no NaN.
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar, TypeVar

from aegis.indicators._common import float_from_state, float_or_none

StateDict = dict[str, Any]
_S = TypeVar("_S", bound="StreamingIndicator")


def _encode(value: object) -> object:
    if isinstance(value, StreamingIndicator):
        return value.state()
    if isinstance(value, tuple | deque | list):
        return [_encode(item) for item in value]
    if isinstance(value, float):
        return float_or_none(value)
    return value


def _decode(template: object, encoded: object) -> object:
    """Decode ``encoded`` into the type of ``template`` (the freshly constructed field)."""
    if isinstance(template, StreamingIndicator):
        return type(template).from_state(encoded)  # type: ignore[arg-type]
    if isinstance(template, deque):
        return deque((float_from_state(item) for item in encoded), maxlen=template.maxlen)  # type: ignore[attr-defined]
    if isinstance(template, tuple):
        items = [float_from_state(item) for item in encoded]  # type: ignore[attr-defined]
        named_tuple: Any = type(template)
        return named_tuple(*items)
    if isinstance(template, list):
        return [float_from_state(item) for item in encoded]  # type: ignore[attr-defined]
    if isinstance(template, float):
        return float_from_state(encoded)
    if isinstance(template, bool):
        return bool(encoded)
    return int(encoded)  # type: ignore[call-overload]


class StreamingIndicator:
    """Base of the streaming indicators: parameters in ``_PARAMS``, state in ``_FIELDS``."""

    __slots__ = ()
    _PARAMS: ClassVar[tuple[str, ...]] = ()
    _FIELDS: ClassVar[tuple[str, ...]] = ()

    def state(self) -> StateDict:
        """JSON-safe snapshot of the parameters and the running state."""
        return {
            "type": type(self).__name__,
            "params": {name: getattr(self, name) for name in self._PARAMS},
            "fields": {name: _encode(getattr(self, name)) for name in self._FIELDS},
        }

    @classmethod
    def from_state(cls: type[_S], state: StateDict) -> _S:
        """Rebuild an indicator from :meth:`state`; raises ``ValueError`` on a foreign state."""
        if state.get("type") != cls.__name__:
            raise ValueError(f"state is for {state.get('type')!r}, not {cls.__name__}")
        instance = cls(**state["params"])
        fields = state["fields"]
        missing = [name for name in cls._FIELDS if name not in fields]
        if missing:
            raise ValueError(f"{cls.__name__} state lacks fields {missing}")
        for name in cls._FIELDS:
            setattr(instance, name, _decode(getattr(instance, name), fields[name]))
        return instance
