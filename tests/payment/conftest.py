"""Payment fixtures: every batch-engine test runs on DuckDB and on PySpark (one shared local session)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from yibao.payment.backends import duckdb_backend, spark_backend
from yibao.policy import load_pack


@pytest.fixture(scope="session")
def spark():
    return spark_backend()


@pytest.fixture(scope="module", params=["duckdb", "spark"])
def backend(request):
    """The injected batch backend: DuckDB, then PySpark."""
    if request.param == "duckdb":
        return duckdb_backend()
    return request.getfixturevalue("spark")


@pytest.fixture(scope="session")
def params():
    return load_pack("demo").at(dt.date(2024, 6, 30))


class Lab:
    """Builds small input tables on one backend and reads results back."""

    def __init__(self, backend):
        self.backend = backend

    def table(self, **columns):
        """A small input table; lists of ints become int64, bools bool, the rest strings."""
        arrays = {}
        for name, values in columns.items():
            if any(isinstance(v, bool) for v in values):
                arrays[name] = pa.array(values, pa.bool_())
            elif all(v is None or isinstance(v, int) for v in values):
                arrays[name] = pa.array(values, pa.int64())
            else:
                arrays[name] = pa.array(values, pa.string())
        return self.backend.table(pa.table(arrays))

    def rows(self, expr, key):
        """Rows of ``expr`` as dicts keyed by column ``key``."""
        return {r[key]: r for r in self.backend.to_arrow(expr).to_pylist()}


@pytest.fixture(scope="module")
def lab(backend):
    return Lab(backend)


@pytest.fixture(scope="session")
def zibo():
    """A pack that truncates to the fen (淄博's shape); its payment parameters are the demo's."""
    return load_pack("zibo").at(dt.date(2024, 6, 30))


@pytest.fixture(scope="session")
def lake(tmp_path_factory):
    """A synthetic year of 3 000 persons (2024), without history."""
    from yibao.synth.config import SynthConfig
    from yibao.synth.generate import generate

    folder = tmp_path_factory.mktemp("lake")
    generate(SynthConfig(persons=3000, year=2024, seed=10, with_lines=False), folder)  # a seed whose year sets stays aside for 特病单议
    return folder
