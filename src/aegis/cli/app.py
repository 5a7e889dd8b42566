"""Root Typer application.

Each command group lives in its own module named ``*_cmd.py`` in this package and exposes
``register(app)``; they are discovered here so that no central list has to be edited.
"""

import importlib
import pkgutil

import typer

app = typer.Typer(
    name="aegis",
    no_args_is_help=True,
    add_completion=False,
    help="Aegis: backtest, paper-trade and live-trade crypto strategies.",
)


def _register_commands() -> None:
    package = importlib.import_module("aegis.cli")
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module_info.name.endswith("_cmd"):
            module = importlib.import_module(f"aegis.cli.{module_info.name}")
            module.register(app)


_register_commands()


def main() -> None:
    """Run the `aegis` CLI."""
    app()
