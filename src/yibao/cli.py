"""The ``yibao`` command line: each domain adds its commands in its own ``cli.py``."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="yibao",
    help="yibao — medical-security platform (医疗保障信息平台) for a pooling region.",
    no_args_is_help=True,
    add_completion=False,
)

# Domain command modules; each defines ``register(app)``.
_DOMAINS: list[str] = []


def _register_domains() -> None:
    import importlib

    for name in _DOMAINS:
        importlib.import_module(name).register(app)


_register_domains()

if __name__ == "__main__":  # pragma: no cover
    app()
