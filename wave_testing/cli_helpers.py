"""Running a `wave` subcommand in-process with settings of the test's choosing."""

from __future__ import annotations

from wave_app.cli import build_parser
from wave_core.settings import Settings


def run_command(argv: list[str], settings: Settings, monkeypatch, module) -> int:
    """Parse ``argv`` with the real `wave` parser and run it, ``module.get_settings`` returning ``settings``."""
    monkeypatch.setattr(module, "get_settings", lambda: settings)
    args = build_parser().parse_args(argv)
    return args.func(args)
