"""Backtest configuration: money, fees, sizing, risk limits, the instrument; validated up front."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aegis.model.errors import ConfigError
from aegis.model.instrument import Instrument
from aegis.risk import FixedFraction, FixedQuantity, RiskSettings, Sizer, limits_from_config

if TYPE_CHECKING:
    # only a type here: importing the settings module (pydantic-settings) costs a backtest
    # process ~0.1 s, and the default limits need no config section
    from aegis.config import RiskLimitSettings, Settings
    from aegis.venues.sim import FundingSeries

DEFAULT_FRACTION = Decimal("0.1")
"""Sizing when neither ``size`` nor ``fraction`` is given: 10 % of equity per entry."""


def _decimal(name: str, value: object) -> Decimal:
    if isinstance(value, float):
        raise ConfigError(f"{name} must be a Decimal, str or int, not float {value!r}")
    try:
        number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError) as exc:
        raise ConfigError(f"{name} must be a number, got {value!r}") from exc
    if not number.is_finite():
        raise ConfigError(f"{name} must be finite, got {value!r}")
    return number


def _setting(
    setting: str, text: str, is_valid: Callable[[Decimal], bool], requirement: str
) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ConfigError(f"setting {setting} = {text!r}: not a number") from None
    if not value.is_finite() or not is_valid(value):
        raise ConfigError(f"setting {setting} = {text!r}: must be {requirement}")
    return value


def _settings_values(settings: Settings) -> dict[str, Any]:
    """Return the config values ``settings`` sets, validated; ConfigError names the setting."""
    limits_from_config(settings.risk)  # the translation a run makes, with its errors
    sizing = settings.sizing
    if sizing.quantity is not None and sizing.fraction is not None:
        raise ConfigError("setting sizing.quantity and sizing.fraction are mutually exclusive")
    values: dict[str, Any] = {"risk": settings.risk}
    # only what the settings set: a run's default (cash 10000) is not a backtest's
    if "cash" in sizing.model_fields_set:
        values["cash"] = _setting("sizing.cash", sizing.cash, lambda v: v > 0, "positive")
    if sizing.fee_bps is not None:
        values["fee_bps"] = _setting(
            "sizing.fee_bps", sizing.fee_bps, lambda v: 0 <= v < 10_000, "in [0, 10000)"
        )
    if sizing.quantity is not None:
        values["size"] = _setting("sizing.quantity", sizing.quantity, lambda v: v > 0, "positive")
    if sizing.fraction is not None:
        values["fraction"] = Decimal(repr(sizing.fraction))  # validated in (0, 1] already
    # the paper run's fill model: the same file backtests with the same slippage and seed
    runtime = settings.runtime
    if "slippage_bps" in runtime.model_fields_set:
        values["slippage_bps"] = runtime.slippage_bps
    if "seed" in runtime.model_fields_set:
        values["seed"] = runtime.seed
    return values


@dataclass(frozen=True, slots=True)
class BacktestConfig:
    """How to run one backtest.

    ``cash`` is in the instrument's quote currency; ``fee_bps`` applies to each fill's value on
    each side (10 = 0.1 %); ``size`` (fixed quantity) and ``fraction`` (of equity) are mutually
    exclusive. Without ``instrument`` a permissive one is used and the result warns about it.
    ``risk`` is the run's ``risk`` config section (``aegis.config.RiskLimitSettings``): every
    entry passes the same risk engine as in paper and live trading (BT1); None means the
    defaults a run uses, which never bind on a reference run (the loss cooldown is off).
    ``funding`` (e.g. ``aegis.data.read_funding``) charges funding through the simulated
    exchange and the portfolio; it needs a linear perpetual instrument. None charges none.
    """

    cash: Decimal = Decimal("100000")
    fee_bps: Decimal = Decimal("10")
    size: Decimal | None = None
    fraction: Decimal | None = None
    seed: int = 0
    symbol: str | None = None
    instrument: Instrument | None = None
    slippage_bps: float = 0.0
    bot_id: str = "backtest"
    risk: RiskLimitSettings | None = None
    funding: FundingSeries | None = None

    def __post_init__(self) -> None:
        cash = _decimal("cash", self.cash)
        if cash <= 0:
            raise ConfigError(f"cash must be positive, got {self.cash}")
        fee = _decimal("fee_bps", self.fee_bps)
        if fee < 0 or fee >= 10_000:
            raise ConfigError(f"fee_bps must be in [0, 10000), got {self.fee_bps}")
        object.__setattr__(self, "cash", cash)
        object.__setattr__(self, "fee_bps", fee)
        if self.size is not None and self.fraction is not None:
            raise ConfigError(
                f"size ({self.size}) and fraction ({self.fraction}) are mutually exclusive"
            )
        if self.size is not None:
            object.__setattr__(self, "size", _decimal("size", self.size))
        if self.fraction is not None:
            object.__setattr__(self, "fraction", _decimal("fraction", self.fraction))
        if not (self.slippage_bps >= 0.0):
            raise ConfigError(f"slippage_bps must be >= 0, got {self.slippage_bps}")
        self.risk_limits()  # a bad risk section fails here, naming the setting
        if (
            self.symbol is not None
            and self.instrument is not None
            and self.symbol != self.instrument.symbol
        ):
            raise ConfigError(
                f"symbol {self.symbol!r} differs from instrument {self.instrument.symbol!r}"
            )

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> BacktestConfig:
        """Return a config with the risk limits and sizing of ``aegis run`` ``settings``.

        Takes the ``risk`` section, and ``sizing.cash``, ``sizing.fee_bps``,
        ``sizing.quantity`` / ``sizing.fraction``, ``runtime.slippage_bps`` and ``runtime.seed``
        where the settings set them (otherwise this class's defaults apply). ``overrides`` are
        this class's fields and win (None values are ignored); a ``size`` or ``fraction`` among
        them replaces the settings' sizing.

        Raises:
            ConfigError: a setting or an override is invalid; the message names it.
        """
        values = _settings_values(settings)
        given = {key: value for key, value in overrides.items() if value is not None}
        if "size" in given or "fraction" in given:
            values.pop("size", None)
            values.pop("fraction", None)
        return cls(**(values | given))

    @property
    def fee_rate(self) -> Decimal:
        """Fee as a fraction of the fill's value (``fee_bps / 10000``)."""
        return self.fee_bps / Decimal(10_000)

    def risk_limits(self) -> RiskSettings:
        """Return the risk limits of the run: the ``risk`` section's, else the defaults."""
        return RiskSettings() if self.risk is None else limits_from_config(self.risk)

    def sizer(self) -> Sizer:
        """Return the sizer this configuration asks for (validates its parameter)."""
        if self.size is not None:
            return FixedQuantity(self.size)
        return FixedFraction(self.fraction if self.fraction is not None else DEFAULT_FRACTION)
