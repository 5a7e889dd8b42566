"""`python -m benchmarks.crash_test` (`make crash-test`): kill -9 the runtime, restart, compare.

Starts `aegis emulator --speed max` as a separate process, then runs `aegis run --mode live
--exchange-url ... --speed max` against it again and again, each life armed with
``AEGIS_CRASH_AT`` (``aegis.engine.crashpoints``) so that it SIGKILLs itself at a point of the
order lifecycle chosen from a fixed list of seeds, restarting it on the same data directory and
database after each kill. After the last kill one clean life runs to the end of the data; then
the emulator's orders and fills are compared with the store. Prints
``kills=N duplicates=D lost=L drift=X`` last and exits 1 unless D, L and X are 0 (2 when the
harness itself could not do its job). See docs/crash-safety.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.crash_check import EmulatorReader, Verdict, compare
from benchmarks.crash_processes import (
    API_KEY,
    API_SECRET,
    BUNDLED_XRP,
    Emulator,
    Life,
    PostgresDatabase,
    RuntimeSpec,
    postgres_admin_dsn,
    run_life,
    slice_candles,
)

#: Hit numbers drawn per point: a point passed several times per order gets a wider range.
HIT_RANGES: dict[str, tuple[int, int]] = {
    "before_submit": (1, 3),
    "after_submit_before_ack": (1, 3),
    "after_ack_before_fill": (1, 3),
    "inside_transaction": (1, 3),
    "during_reconciliation": (1, 1),
}
#: Armed beside every other point, so a life whose point is not reached still ends in a kill
#: instead of trading through the rest of the data.
FALLBACK = "before_submit:4"
DEFAULT_SEEDS = (11, 23, 37, 41, 53, 67, 79, 83, 97, 101)
#: ema_cross with tiny windows trades every few candles on the bundled XRP data, so the kills
#: land inside order lifecycles rather than between them.
STRATEGY_ARGS = (
    "--strategy", "ema_cross", "--param", "fast=2", "--param", "slow=5", "--size", "10",
)  # fmt: skip
TENANT = "default"
BOT_ID = "bot1"
SYMBOL_ID = "XRPUSDT"
#: A runtime that exits by itself this many times in a row is broken; stop restarting it.
MAX_UNEXPECTED_IN_A_ROW = 3


def crash_plan(seeds: Sequence[int]) -> Iterator[str]:
    """Yield ``AEGIS_CRASH_AT`` values forever: per seed, every point once in a seeded order.

    Round r, seed s: ``random.Random(s * 1_000_003 + r)`` shuffles the points and draws each
    hit number from ``HIT_RANGES``. The same seeds always give the same sequence.
    """
    if not seeds:
        raise ValueError("seeds must not be empty")
    round_number = 0
    while True:
        for seed in seeds:
            rng = random.Random(seed * 1_000_003 + round_number)
            points = list(HIT_RANGES)
            rng.shuffle(points)
            for point in points:
                low, high = HIT_RANGES[point]
                armed = f"{point}:{rng.randint(low, high)}"
                yield armed if point == "before_submit" else f"{armed},{FALLBACK}"
        round_number += 1


@dataclass(frozen=True, slots=True)
class HarnessOptions:
    """What to run: kill count, seeds, back-end, data size, bounds."""

    kills: int = 50
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    database: str = "sqlite"
    candles: int = 700
    history: int = 100
    life_timeout_s: float = 120.0
    final_timeout_s: float = 900.0
    work_dir: Path | None = None
    keep: bool = False
    verbose: bool = True


@dataclass(slots=True)
class HarnessResult:
    """Outcome of one harness run."""

    database: str
    lives: list[Life] = field(default_factory=list)
    final: Life | None = None
    verdict: Verdict = field(default_factory=Verdict)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    work_dir: Path | None = None

    @property
    def kills(self) -> int:
        """Lives that ended in SIGKILL at one of their crash points."""
        return sum(1 for life in self.lives if life.was_killed_at_a_point)

    @property
    def points_hit(self) -> Counter[str]:
        """Kills per crash point."""
        return Counter(
            life.killed_at
            for life in self.lives
            if life.was_killed_at_a_point and life.killed_at is not None
        )

    @property
    def is_success(self) -> bool:
        """True when the harness did its job and found nothing."""
        return not self.errors and self.verdict.is_clean

    def summary_line(self) -> str:
        """``kills=N duplicates=D lost=L drift=X``."""
        v = self.verdict
        return f"kills={self.kills} duplicates={v.duplicates} lost={v.lost} drift={v.drift}"


def _say(options: HarnessOptions, text: str) -> None:
    if options.verbose:
        print(text, flush=True)


def _describe(life: Life) -> str:
    if life.timed_out:
        ending = "HUNG (killed by the harness)"
    elif life.was_killed_at_a_point:
        ending = f"killed at {life.killed_at} (hit {life.hit})"
    else:
        ending = f"exited {life.return_code}"
    return f"life {life.number:3d} armed={life.crash_at or '-':55s} {ending} {life.seconds:.1f} s"


def _crash_lives(options: HarnessOptions, spec: RuntimeSpec, result: HarnessResult) -> None:
    plan = crash_plan(options.seeds)
    unexpected_in_a_row = 0
    while result.kills < options.kills:
        life = run_life(spec, len(result.lives) + 1, next(plan))
        result.lives.append(life)
        _say(options, _describe(life))
        if life.timed_out:
            result.errors.append(f"life {life.number} hung: {life.stderr_tail[-1500:]}")
            return
        if life.return_code == 0:
            result.errors.append(
                f"the data ended after {result.kills} kills (< {options.kills}): raise --candles"
            )
            return
        if life.was_killed_at_a_point:
            unexpected_in_a_row = 0
            continue
        unexpected_in_a_row += 1
        result.errors.append(
            f"life {life.number} exited {life.return_code} by itself: {life.stderr_tail[-1500:]}"
        )
        if unexpected_in_a_row >= MAX_UNEXPECTED_IN_A_ROW:
            return
    return


def _run(options: HarnessOptions, work: Path, result: HarnessResult) -> None:
    data_file = slice_candles(BUNDLED_XRP, options.history, options.candles, work)
    database: PostgresDatabase | None = None
    database_url = f"sqlite:///{work / 'data' / 'aegis.db'}"
    if options.database == "postgres":
        database = PostgresDatabase(postgres_admin_dsn())
        database_url = database.create()
    emulator = Emulator(data_file, options.history, work / "emulator.log")
    try:
        base_url = emulator.start()
        spec = RuntimeSpec(
            base_url=base_url,
            data_dir=work / "data",
            database_url=database_url if database is not None else None,
            strategy_args=STRATEGY_ARGS,
            log_dir=work,
            timeout_s=options.life_timeout_s,
        )
        _crash_lives(options, spec, result)
        final_spec = dataclasses.replace(spec, timeout_s=options.final_timeout_s)
        result.final = run_life(final_spec, len(result.lives) + 1, "")
        _say(options, "final " + _describe(result.final))
        if result.final.return_code != 0:
            result.errors.append(
                f"the final clean life exited {result.final.return_code}: "
                f"{result.final.stderr_tail[-1500:]}"
            )
        reader = EmulatorReader(base_url, API_KEY, API_SECRET)
        result.verdict = compare(reader, database_url, TENANT, BOT_ID, SYMBOL_ID)
    finally:
        emulator.stop()
        if database is not None:
            database.drop()


def run_harness(options: HarnessOptions) -> HarnessResult:
    """Run the whole crash test and return its result (nothing printed when not verbose)."""
    if options.database not in {"sqlite", "postgres"}:
        raise ValueError(f"database {options.database!r} must be sqlite or postgres")
    if options.kills < 1:
        raise ValueError(f"kills {options.kills} must be at least 1")
    started = time.monotonic()
    work = options.work_dir or Path(tempfile.mkdtemp(prefix=f"aegis-crash-{options.database}-"))
    work.mkdir(parents=True, exist_ok=True)
    result = HarnessResult(database=options.database, work_dir=work)
    _say(
        options,
        f"crash-test database={options.database} kills={options.kills} "
        f"candles={options.candles} seeds={','.join(map(str, options.seeds))} work={work}",
    )
    try:
        _run(options, work, result)
    finally:
        result.seconds = time.monotonic() - started
    if result.is_success and not options.keep and options.work_dir is None:
        shutil.rmtree(work, ignore_errors=True)
        result.work_dir = None
    return result


def report(result: HarnessResult) -> str:
    """Return the printed report; the last line is ``kills=N duplicates=D lost=L drift=X``."""
    lines = [
        "points hit: "
        + " ".join(f"{point}={result.points_hit.get(point, 0)}" for point in HIT_RANGES),
        f"lives={len(result.lives) + (result.final is not None)} seconds={result.seconds:.1f} "
        + " ".join(f"{k}={v}" for k, v in result.verdict.facts.items()),
    ]
    lines += [f"  {finding}" for finding in result.verdict.findings[:40]]
    if len(result.verdict.findings) > 40:
        lines.append(f"  ... {len(result.verdict.findings) - 40} more findings")
    lines += [f"error: {error}" for error in result.errors]
    if result.work_dir is not None:
        lines.append(f"logs kept in {result.work_dir}")
    lines.append(result.summary_line())
    return "\n".join(lines)


def _parse(argv: Sequence[str] | None) -> HarnessOptions:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.crash_test", description=__doc__)
    parser.add_argument("--kills", type=int, default=50, help="SIGKILLs before the clean run")
    parser.add_argument(
        "--seeds", default=",".join(map(str, DEFAULT_SEEDS)), help="comma list of integers"
    )
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--candles", type=int, default=700, help="candles replayed after history")
    parser.add_argument("--life-timeout", type=float, default=120.0, help="seconds per life")
    parser.add_argument("--work-dir", type=Path, default=None, help="kept after the run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary work directory")
    args = parser.parse_args(argv)
    try:
        seeds = tuple(int(s) for s in args.seeds.split(",") if s.strip())
    except ValueError:
        parser.error(f"--seeds {args.seeds!r} must be a comma list of integers")
    return HarnessOptions(
        kills=args.kills, seeds=seeds, database=args.database, candles=args.candles,
        life_timeout_s=args.life_timeout, work_dir=args.work_dir, keep=args.keep,
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Run the harness from the command line; return the exit code."""
    options = _parse(argv)
    try:
        result = run_harness(options)
    except (ConnectionError, RuntimeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(report(result), flush=True)
    if result.errors:
        return 2 if result.verdict.is_clean else 1
    return 0 if result.verdict.is_clean else 1


if __name__ == "__main__":
    sys.exit(main())
