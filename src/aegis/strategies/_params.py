"""Typed strategy parameters: declared once on the class, validated and coerced on creation."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from aegis.model.errors import ConfigError

ParamValue = int | float | bool | str

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True, slots=True)
class Param:
    """One declared parameter: its default (which fixes its type), bounds, choices and meaning."""

    default: ParamValue
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    description: str = ""

    @property
    def kind(self) -> type:
        """The parameter's type, taken from its default (bool before int: bool is an int)."""
        return type(self.default)

    def coerce(self, strategy: str, name: str, value: object) -> ParamValue:
        """Return ``value`` converted to this parameter's type and checked against its bounds.

        Raises:
            ConfigError: naming the strategy, the parameter and the offending value.
        """
        converted = self._convert(strategy, name, value)
        if isinstance(converted, int | float) and not isinstance(converted, bool):
            if isinstance(converted, float) and not math.isfinite(converted):
                raise ConfigError(f"{strategy}: parameter {name}={value!r} must be finite")
            if self.minimum is not None and converted < self.minimum:
                raise ConfigError(
                    f"{strategy}: parameter {name}={value!r} is below its minimum {self.minimum:g}"
                )
            if self.maximum is not None and converted > self.maximum:
                raise ConfigError(
                    f"{strategy}: parameter {name}={value!r} is above its maximum {self.maximum:g}"
                )
        if self.choices is not None and converted not in self.choices:
            raise ConfigError(
                f"{strategy}: parameter {name}={value!r} is not one of {', '.join(self.choices)}"
            )
        return converted

    def _convert(self, strategy: str, name: str, value: object) -> ParamValue:
        kind = self.kind
        text = value.strip() if isinstance(value, str) else None
        if kind is bool:
            if isinstance(value, bool):
                return value
            if text is not None and text.lower() in _TRUE | _FALSE:
                return text.lower() in _TRUE
            raise ConfigError(f"{strategy}: parameter {name}={value!r} is not a boolean")
        if kind is int:
            return _to_int(strategy, name, value, text)
        if kind is float:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ConfigError(f"{strategy}: parameter {name}={value!r} is not a number")
            try:
                return float(value)
            except ValueError as error:
                raise ConfigError(
                    f"{strategy}: parameter {name}={value!r} is not a number"
                ) from error
        if not isinstance(value, str):
            raise ConfigError(f"{strategy}: parameter {name}={value!r} is not a string")
        return value


def _to_int(strategy: str, name: str, value: object, text: str | None) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{strategy}: parameter {name}={value!r} is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if text is not None:
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                number = math.nan
            if number.is_integer():
                return int(number)
    raise ConfigError(f"{strategy}: parameter {name}={value!r} is not an integer")


def resolve_params(
    strategy: str, declared: Mapping[str, Param], given: Mapping[str, object]
) -> dict[str, ParamValue]:
    """Merge ``given`` over the declared defaults, coercing each value; unknown names are errors."""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise ConfigError(
            f"{strategy}: unknown parameter(s) {', '.join(unknown)}; known parameters: {known}"
        )
    resolved: dict[str, ParamValue] = {}
    for name, spec in declared.items():
        resolved[name] = spec.coerce(strategy, name, given[name]) if name in given else spec.default
    return resolved
