"""Fast construction of frozen slotted dataclasses on hot paths.

A frozen dataclass's generated ``__init__`` stores each field through ``object.__setattr__``,
which looks the name up again per field. A class that builds millions of instances (a candle
per bar, events per order) writes its own ``__init__`` with the slots' own setters instead;
the instances stay frozen to every other caller, and equality, hashing, ``repr``,
``dataclasses.replace`` and pickling are the dataclass's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SlotSetter = Callable[[Any, Any], None]


def slot_setters(cls: type, *names: str) -> tuple[SlotSetter, ...]:
    """Return the setters of the slots ``names`` of ``cls``, in that order.

    Raises:
        TypeError: ``cls`` has no slot of one of those names.
    """
    setters: list[SlotSetter] = []
    for name in names:
        descriptor = cls.__dict__.get(name)
        setter = getattr(descriptor, "__set__", None)
        if descriptor is None or setter is None or isinstance(descriptor, property):
            raise TypeError(f"{cls.__name__} has no slot {name!r}")
        setters.append(setter)
    return tuple(setters)
