"""Console output for every ``yibao`` command: one place that decides how wide tables may be."""

from __future__ import annotations

from rich.console import Console

WIDTH_OFF_TERMINAL = 200  # piped or redirected output keeps whole codes and amounts


def new_console(min_width: int = 0) -> Console:
    """A rich console: the terminal's width on a terminal (at least ``min_width``), wide enough for
    whole table cells when the output is a pipe or a file (rich would otherwise cut to 80 columns)."""
    probe = Console()
    width = probe.width if probe.is_terminal else WIDTH_OFF_TERMINAL
    return Console(width=max(width, min_width))


__all__ = ["new_console", "WIDTH_OFF_TERMINAL"]
