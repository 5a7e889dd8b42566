"""Processes and databases of the crash harness: the emulator, the runtime lives, PostgreSQL.

Everything here starts real processes (`aegis emulator`, `aegis run`) exactly as an operator
would; nothing is imported into the harness process except the store, read after the runs.
"""

from __future__ import annotations

import gzip
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUNDLED_XRP = REPO / "src" / "aegis" / "resources" / "data" / "binance-usdm_XRP-USDT-PERP_5m.csv.gz"
DEFAULT_PG_DSN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
API_KEY = "crash-key"
API_SECRET = "crash-secret"  # noqa: S105 - the local emulator's throwaway account
#: A kill leaves this return code on the child (SIGKILL).
KILLED = -signal.SIGKILL
_LISTENING = re.compile(r"emulator listening on (http://127\.0\.0\.1:\d+)")
_CRASH_MARK = re.compile(r"aegis_crash_point point=(\w+) hit=(\d+)")


def aegis_executable() -> str:
    """Return the `aegis` console script of this interpreter's environment."""
    candidate = Path(sys.executable).parent / "aegis"
    if not candidate.is_file():
        raise FileNotFoundError(f"aegis console script not found beside {sys.executable}")
    return str(candidate)


def child_environment(extra: dict[str, str]) -> dict[str, str]:
    """Return this environment without any ``AEGIS_`` variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AEGIS_")}
    env.update(extra)
    return env


def slice_candles(source: Path, history: int, steps: int, directory: Path) -> Path:
    """Write the header, ``history`` and ``steps`` candles of ``source`` to ``directory``.

    The name keeps the ``binance-usdm_..._5m`` form: the emulator lists the symbol on USD-M
    and infers the timeframe from it.
    """
    with gzip.open(source, "rt", encoding="utf-8") as stream:
        lines = stream.read().splitlines()
    wanted = history + steps
    if steps <= 0 or wanted > len(lines) - 1:
        raise ValueError(
            f"candles {steps} plus history {history} must be within the {len(lines) - 1} "
            f"candles of {source}"
        )
    target = directory / source.name.removesuffix(".gz")
    target.write_text("\n".join(lines[: wanted + 1]) + "\n", encoding="utf-8")
    return target


class Emulator:
    """`aegis emulator --speed max` in a child process; stepped by the runtime over HTTP."""

    def __init__(self, data_file: Path, history: int, log_path: Path) -> None:
        self.data_file = data_file
        self.history = history
        self.log_path = log_path
        self.base_url = ""
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 30.0) -> str:
        """Start the emulator on a free port and return its base URL."""
        command = [
            aegis_executable(), "emulator", "--port", "0", "--data", str(self.data_file),
            "--account", f"{API_KEY}:{API_SECRET}", "--speed", "max",
            "--history", str(self.history),
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=child_environment({})
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = _LISTENING.search(self.log_path.read_text(encoding="utf-8", errors="replace"))
            if found is not None:
                self.base_url = found.group(1)
                return self.base_url
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"emulator did not start within {timeout_s} s: "
            f"{self.log_path.read_text(encoding='utf-8', errors='replace')[-2000:]}"
        )

    def stop(self) -> None:
        """Stop the emulator (SIGTERM, then SIGKILL after 10 s)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass(frozen=True, slots=True)
class Life:
    """One start of the runtime: what was armed, how it ended and where it was killed."""

    number: int
    crash_at: str
    return_code: int
    seconds: float
    killed_at: str | None
    hit: int | None
    timed_out: bool
    stderr_tail: str

    @property
    def was_killed_at_a_point(self) -> bool:
        """True when the child died of SIGKILL from one of its own crash points."""
        return self.return_code == KILLED and self.killed_at is not None and not self.timed_out


@dataclass(frozen=True, slots=True)
class RuntimeSpec:
    """How to start `aegis run` against the emulator."""

    base_url: str
    data_dir: Path
    database_url: str | None
    strategy_args: tuple[str, ...]
    log_dir: Path
    timeout_s: float


def run_life(spec: RuntimeSpec, number: int, crash_at: str) -> Life:
    """Run the runtime once with ``AEGIS_CRASH_AT=crash_at`` ("" = no crash) until it exits."""
    command = [
        aegis_executable(), "run", "--mode", "live", "--exchange", "emulator",
        "--exchange-url", spec.base_url, "--speed", "max", "--data-dir", str(spec.data_dir),
        "--port", "0", "--json", *spec.strategy_args,
    ]  # fmt: skip
    extra = {"AEGIS_EXCHANGE_API_KEY": API_KEY, "AEGIS_EXCHANGE_API_SECRET": API_SECRET}
    if crash_at:
        extra["AEGIS_CRASH_AT"] = crash_at
    if spec.database_url is not None:
        extra["AEGIS_DATABASE_URL"] = spec.database_url
    stdout_path = spec.log_dir / f"life-{number:03d}.stdout"
    stderr_path = spec.log_dir / f"life-{number:03d}.stderr"
    started = time.monotonic()
    timed_out = False
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=child_environment(extra))
        try:
            return_code = process.wait(timeout=spec.timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            process.kill()
            return_code = process.wait(timeout=10)
    stderr = stderr_path.read_text(encoding="utf-8", errors="replace")
    mark = _CRASH_MARK.search(stderr)
    return Life(
        number=number,
        crash_at=crash_at,
        return_code=return_code,
        seconds=time.monotonic() - started,
        killed_at=None if mark is None else mark.group(1),
        hit=None if mark is None else int(mark.group(2)),
        timed_out=timed_out,
        stderr_tail=stderr[-3000:],
    )


def _libpq(dsn: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(dsn).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresDatabase:
    """A uniquely named database on the server of ``admin_dsn``, dropped by ``drop``."""

    def __init__(self, admin_dsn: str) -> None:
        self.admin_dsn = admin_dsn
        self.name = f"aegis_crash_{uuid.uuid4().hex[:12]}"
        self.url = ""

    def create(self) -> str:
        """Create the database and return its SQLAlchemy URL.

        Raises:
            ConnectionError: the server of ``admin_dsn`` cannot be reached.
        """
        import psycopg
        from sqlalchemy.engine import make_url

        try:
            with psycopg.connect(
                _libpq(self.admin_dsn), connect_timeout=3, autocommit=True
            ) as connection:
                connection.execute(f'CREATE DATABASE "{self.name}"')
        except psycopg.OperationalError as error:
            raise ConnectionError(
                f"PostgreSQL at AEGIS_TEST_PG_DSN unreachable: {str(error).strip()}"
            ) from error
        self.url = (
            make_url(self.admin_dsn).set(database=self.name).render_as_string(hide_password=False)
        )
        return self.url

    def drop(self) -> None:
        """Drop the database, disconnecting anyone still on it."""
        if not self.url:
            return
        import psycopg

        with psycopg.connect(_libpq(self.admin_dsn), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.url = ""


def postgres_admin_dsn() -> str:
    """Return ``AEGIS_TEST_PG_DSN`` or the local default server."""
    return os.environ.get("AEGIS_TEST_PG_DSN") or DEFAULT_PG_DSN
