"""``yibao demo`` end to end on a small region: payment is fitted on the three years before the one paid."""

from __future__ import annotations

import io

from rich.console import Console


def test_demo_pays_the_year_on_weights_fitted_on_history(tmp_path):
    from yibao.demo import run

    out = io.StringIO()
    result = run(tmp_path, 1500, 2024, 11, "demo", Console(file=out, width=200))
    summary = result["payment"]["summary"].iloc[0]
    assert (summary["year"], summary["history_years"]) == (2024, "2021,2022,2023")
    assert sorted(p.name for p in (tmp_path / "history").iterdir()) == ["2021", "2022", "2023"]
    assert "fitted on history 2021,2022,2023" in out.getvalue()


def test_demo_with_no_persons_is_refused_naming_the_option(tmp_path):
    from typer.testing import CliRunner

    from yibao.cli import app

    result = CliRunner().invoke(app, ["demo", "--persons", "0", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 1
    assert "error:" in result.output and "--persons" in result.output
    assert not (tmp_path / "demo").exists()
