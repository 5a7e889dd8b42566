"""Backtest configuration: money, fees, sizing, risk limits, the instrument; validated up front."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from aegis.model.errors import ConfigError
from aegis.model.instrument import Instrument
from aegis.risk import FixedFraction, FixedQuantity, RiskSettings, Sizer, limits_from_config

if TYPE_CHECKING:
    # only a type here: importing the settings module (pydantic-settings) costs a backtest
    # process ~0.1 s, and the default limits need no config section
    from aegis.config import RiskLimitSettings
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
