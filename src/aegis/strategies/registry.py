"""Plugin registry of strategies (ST1): a decorator plus Python entry points, no fixed list."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from importlib import metadata
from typing import TypeVar

from aegis.model.errors import ConfigError

from .base import Strategy

ENTRY_POINT_GROUP = "aegis.strategies"

StrategyType = TypeVar("StrategyType", bound=type[Strategy])


class StrategyRegistry:
    """Maps strategy names to classes; loads the ``aegis.strategies`` entry points lazily."""

    def __init__(
        self,
        entry_points: Callable[[], Iterable[metadata.EntryPoint]] | None = None,
    ) -> None:
        self._classes: dict[str, type[Strategy]] = {}
        self._entry_points = entry_points or _installed_entry_points
        self._entry_points_loaded = False

    def register(self, cls: StrategyType) -> StrategyType:
        """Register ``cls`` under ``cls.name``; usable as a class decorator.

        Raises:
            ConfigError: not a Strategy subclass, empty name, or the name is taken by another
                class.
        """
        if not (isinstance(cls, type) and issubclass(cls, Strategy)):
            raise ConfigError(f"cannot register {cls!r}: not a Strategy subclass")
        name = cls.name
        if not name or not name.isidentifier():
            raise ConfigError(
                f"cannot register {cls.__qualname__}: name {name!r} is not a valid identifier"
            )
        existing = self._classes.get(name)
        if existing is not None and existing is not cls:
            raise ConfigError(
                f"strategy name {name!r} is already registered by "
                f"{existing.__module__}.{existing.__qualname__}; "
                f"{cls.__module__}.{cls.__qualname__} must use another name"
            )
        self._classes[name] = cls
        return cls

    def unregister(self, name: str) -> None:
        """Remove ``name`` (tests and plugin reloads); unknown names are ignored."""
        self._classes.pop(name, None)

    def get(self, name: str) -> type[Strategy]:
        """Return the class registered as ``name``.

        Raises:
            ConfigError: unknown name; the message lists the available strategies.
        """
        self._load_entry_points()
        found = self._classes.get(name)
        if found is None:
            available = ", ".join(self.names()) or "none"
            raise ConfigError(f"unknown strategy {name!r}; available strategies: {available}")
        return found

    def create(self, name: str, params: Mapping[str, object] | None = None) -> Strategy:
        """Instantiate strategy ``name`` with ``params`` (strings from the CLI are coerced)."""
        return self.get(name)(**dict(params or {}))

    def names(self) -> list[str]:
        """Sorted names of every registered strategy (entry points included)."""
        self._load_entry_points()
        return sorted(self._classes)

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        # Set first: a plugin that looks up another strategy at import must not recurse.
        self._entry_points_loaded = True
        for entry_point in self._entry_points():
            try:
                loaded = entry_point.load()
            except Exception as error:  # a broken plugin: name it, do not hide the cause
                raise ConfigError(
                    f"strategy entry point {entry_point.name!r} ({entry_point.value}) "
                    f"failed to load: {error}"
                ) from error
            if not (isinstance(loaded, type) and issubclass(loaded, Strategy)):
                raise ConfigError(
                    f"strategy entry point {entry_point.name!r} ({entry_point.value}) "
                    f"is {loaded!r}, not a Strategy subclass"
                )
            if loaded.name != entry_point.name:
                raise ConfigError(
                    f"strategy entry point {entry_point.name!r} ({entry_point.value}) "
                    f"points to a class named {loaded.name!r}; the two names must match"
                )
            self.register(loaded)


def _installed_entry_points() -> Iterable[metadata.EntryPoint]:
    return metadata.entry_points(group=ENTRY_POINT_GROUP)


#: The process-wide registry used by the functions below and by ``@register_strategy``.
default_registry = StrategyRegistry()


def register_strategy(cls: StrategyType) -> StrategyType:
    """Class decorator: register a Strategy subclass under its ``name``."""
    return default_registry.register(cls)


def get_strategy(name: str) -> type[Strategy]:
    """Return the strategy class registered as ``name`` (ConfigError lists the known ones)."""
    return default_registry.get(name)


def create_strategy(name: str, params: Mapping[str, object] | None = None) -> Strategy:
    """Create strategy ``name`` with ``params``, e.g. ``{"fast": "12"}`` from the CLI."""
    return default_registry.create(name, params)


def available_strategies() -> list[str]:
    """Sorted names of every available strategy (built-ins, decorators, entry points)."""
    return default_registry.names()
