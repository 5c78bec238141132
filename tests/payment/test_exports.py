"""The payment package faces export exactly their ``__all__``, and the names the payment README uses
are among them."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

import yibao.payment

FACES = ("yibao.payment", "yibao.payment.dip", "yibao.payment.drg")
README = Path(yibao.payment.__file__).with_name("README.md")


@pytest.mark.parametrize("face", FACES)
def test_every_exported_name_exists(face):
    module = importlib.import_module(face)
    assert module.__all__ and len(set(module.__all__)) == len(module.__all__)
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{face}.{name}"


def _is_module(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError:
        return False
    return True


def test_the_readme_uses_exported_names():
    used = re.findall(r"`(yibao\.payment(?:\.\w+)*)\.(\w+)`", README.read_text(encoding="utf-8"))
    faces = {(m, n) for m, n in used if m in FACES and not _is_module(f"{m}.{n}")}
    assert {m for m, _ in faces} == set(FACES)
    for module, name in faces:
        assert name in importlib.import_module(module).__all__, f"{module}.{name} is not exported"
    for module, name in used:  # names in submodules, and the submodules, exist too
        assert _is_module(f"{module}.{name}") or hasattr(importlib.import_module(module), name), f"{module}.{name}"


def test_the_package_face_does_not_load_ibis_until_asked():
    import subprocess
    import sys

    probe = "import sys, yibao.payment, yibao.payment.drg; print('ibis' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip() == "False"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        yibao.payment.nothing  # noqa: B018
