"""Every package's public API is exactly its ``__all__`` (sorted, no name twice, every name resolving),
the names the READMEs and docs present as a package's API are in it, and the light faces stay light."""

from __future__ import annotations

import __future__
import importlib
import importlib.util
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import yibao

SRC = Path(yibao.__file__).parent
REPO = SRC.parent.parent
PACKAGES = sorted(
    ".".join(("yibao", *init.parent.relative_to(SRC).parts)) for init in SRC.rglob("__init__.py")
)
DOCS = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md"), *SRC.rglob("README.md")])


def _face(package: str) -> types.ModuleType:
    return importlib.import_module(package)


def _public(module: types.ModuleType) -> set[str]:
    """Names a user sees on the package: neither private, nor a submodule, nor a ``__future__`` flag."""
    return {
        name for name in dir(module)
        if not name.startswith("_") and not isinstance(getattr(module, name), (types.ModuleType, __future__._Feature))
    }


def test_every_package_is_found():
    assert {"yibao", "yibao.catalog", "yibao.lake", "yibao.payment.dip", "yibao.settlement", "yibao.fund"} <= set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_all_is_a_sorted_list_of_distinct_names(package):
    names = _face(package).__all__
    assert isinstance(names, list) and all(isinstance(n, str) for n in names)
    assert len(set(names)) == len(names), f"{package}: a name twice in __all__"
    assert names == sorted(names), f"{package}: __all__ is not sorted"


@pytest.mark.parametrize("package", PACKAGES)
def test_public_names_are_exactly_all(package):
    module = _face(package)
    assert set(module.__all__) <= set(dir(module)), f"{package}: dir() hides exported names"
    for name in module.__all__:
        value = getattr(module, name)
        assert not isinstance(value, types.ModuleType), f"{package}.{name} is a module, not an API name"
    assert _public(module) == {name for name in module.__all__ if not name.startswith("_")}  # bar __version__


@pytest.mark.parametrize("package", PACKAGES)
def test_star_import_gives_all(package):
    scope: dict[str, object] = {}
    exec(f"from {package} import *", scope)  # noqa: S102
    assert set(scope) - {"__builtins__"} == set(_face(package).__all__)


def _is_submodule(package: str, name: str) -> bool:
    return importlib.util.find_spec(f"{package}.{name}") is not None


def _doc_references() -> set[tuple[str, str, str]]:
    """``(doc, package, name)`` for each backticked ``yibao.<package>.<name>`` in the docs where name is
    not a submodule, and each backticked call ``name(`` in a package's own README."""
    found = set()
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for dotted in re.findall(r"`(yibao(?:\.\w+)+)", text):
            parts = dotted.split(".")
            cut = max(i for i in range(1, len(parts) + 1) if ".".join(parts[:i]) in PACKAGES)
            package = ".".join(parts[:cut])
            if cut < len(parts) and not _is_submodule(package, parts[cut]):
                found.add((str(doc.relative_to(REPO)), package, parts[cut]))
        if doc.parent != REPO and doc.parent.parent != REPO:
            package = ".".join(("yibao", *doc.parent.relative_to(SRC).parts))
            found |= {(str(doc.relative_to(REPO)), package, name) for name in re.findall(r"`([a-z_]\w*)\(", text)}
    return found


def test_the_docs_name_package_apis():
    packages = {package for _, package, _ in _doc_references()}
    assert {"yibao.payment", "yibao.payment.dip", "yibao.payment.drg", "yibao.settlement"} <= packages


@pytest.mark.parametrize("doc, package, name", sorted(_doc_references()))
def test_names_the_docs_give_are_exported(doc, package, name):
    assert name in _face(package).__all__, f"{doc} names {package}.{name}, which is not in its __all__"


def _loaded_after(imports: str, heavy: tuple[str, ...]) -> list[str]:
    probe = f"import sys, {imports}; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return eval(out)  # noqa: S307 - our own probe's printed list


def test_settlement_and_catalog_do_not_import_ibis_or_pyspark():
    assert _loaded_after("yibao.settlement, yibao.catalog", ("ibis", "pyspark")) == []


@pytest.mark.parametrize("package", [p for p in PACKAGES if p != "yibao.payment.dip"])
def test_no_face_but_dip_imports_ibis_or_pyspark(package):
    assert _loaded_after(package, ("ibis", "pyspark")) == []


def test_lazy_faces_load_their_modules_only_on_use():
    faces = "yibao.catalog, yibao.lake, yibao.payment"
    assert _loaded_after(faces, ("pandas", "pyarrow", "ibis")) == []
    assert _loaded_after(f"{faces}; yibao.catalog.icd10", ("pandas", "pyarrow")) == ["pandas", "pyarrow"]
    assert _loaded_after(f"{faces}; yibao.lake.lake_claims", ("ibis",)) == ["ibis"]


@pytest.mark.parametrize("package", ["yibao.catalog", "yibao.lake", "yibao.payment", "yibao.payment.drg"])
def test_a_lazy_face_refuses_an_unknown_name(package):
    with pytest.raises(AttributeError, match=f"module '{package}' has no attribute 'nothing'"):
        getattr(_face(package), "nothing")


def test_a_lazy_name_is_the_object_of_its_module():
    from yibao.catalog import items
    from yibao.payment.drg import payment

    assert _face("yibao.catalog").load_catalog is items.load_catalog
    assert _face("yibao.payment.drg").DrgRules is payment.DrgRules


# National codes by name: the engines write vocab's names, never the code values.

def test_every_vocab_name_is_a_code_of_its_dictionary():
    from yibao import vocab

    families = {
        "MED_": vocab.MED_TYPES, "FUND_": vocab.FUND_PAY_TYPES, "DISCHARGE_": vocab.DISCHARGE_WAYS,
        "LEVEL_": vocab.LEVELS,
    }
    for prefix, codes in families.items():
        named = {getattr(vocab, n) for n in dir(vocab) if n.startswith(prefix) and isinstance(getattr(vocab, n), str)}
        assert named | ({vocab.UNRATED} if prefix == "LEVEL_" else set()) == set(codes), prefix
    persons = {"ACTIVE", "RETIRED", "RETIRED_CADRE", "NEWBORN", "PRESCHOOL_CHILD", "SCHOOL_PUPIL", "COLLEGE_STUDENT",
               "ADULT_RESIDENT", "ELDER_RESIDENT"}
    assert {getattr(vocab, n) for n in persons} == set(vocab.PSN_TYPES)
    assert vocab.EMPLOYEE_PSN_TYPES | vocab.RESIDENT_PSN_TYPES == set(vocab.PSN_TYPES)
    assert vocab.RETIRED_PSN_TYPES < vocab.EMPLOYEE_PSN_TYPES
    assert set(vocab.POOLING_FUNDS) == {vocab.EMPLOYEE, vocab.RESIDENT} and set(vocab.POOLING_FUNDS.values()) < set(vocab.FUND_PAY_TYPES)


def _unambiguous_codes() -> set[str]:
    """Codes no other dictionary reuses: 险种, 基金支付类型 and the four-digit 人员类别 / 医疗类别."""
    from yibao import vocab

    four_digit = {c for c in (*vocab.PSN_TYPES, *vocab.MED_TYPES) if len(c) == 4}
    return {*vocab.INSUTYPES, *vocab.FUND_PAY_TYPES, *four_digit}


def _code_literals(path: Path, codes: set[str]) -> list[str]:
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    return [f"{path.relative_to(REPO)}:{node.lineno}: {node.value!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and node.value in codes and id(node) not in docstrings]


def test_no_module_beside_vocab_writes_a_national_code_literally():
    synthetic = SRC / "settlement" / "synthetic.py"  # test data drawn from the national values on purpose
    modules = [p for p in SRC.rglob("*.py") if p not in (SRC / "vocab.py", synthetic) and "migrations" not in p.parts]
    found = [hit for path in modules for hit in _code_literals(path, _unambiguous_codes())]
    assert found == []
