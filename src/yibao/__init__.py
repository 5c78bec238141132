"""yibao — a medical-security platform (医疗保障信息平台) for one pooling region (统筹区).

Domains live in sub-packages: ``policy`` (policy packs), ``registry`` (persons, enrollment,
contributions, accounts), ``catalog`` (code sets and the 医保目录), ``store`` (the operational
database), ``lake`` (the Parquet tables), ``synth`` (synthetic regions), ``settlement`` and
``payment`` (engines). Shared kernels are modules: ``money``, ``ids``, ``vocab``, ``errors``.

Every package's public API is exactly its ``__all__``, sorted (``sorted(__all__) == __all__``); other
names are reached through their module (``yibao.lake.io.read_table``).
"""

from __future__ import annotations

import importlib
import sys
import typing

__all__ = ["__version__"]

__version__ = "0.1.0"


def _lazy_face(package: str, modules: dict[str, tuple[str, ...]]
               ) -> tuple[typing.Callable[[str], typing.Any], typing.Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__`` for names that are imported from their module
    (``{module: names}``) on first use, so that importing the package does not load what its modules
    need (Ibis, pandas)."""
    homes = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> typing.Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(homes[name]), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(homes))

    return __getattr__, __dir__
