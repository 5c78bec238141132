"""``yibao demo`` end to end on a small region: payment is fitted on the three years before the one paid."""

from __future__ import annotations

import io

import sqlalchemy as sa
from rich.console import Console


def test_demo_pays_the_year_on_weights_fitted_on_history(tmp_path):
    from yibao.demo import run

    out = io.StringIO()
    result = run(tmp_path, 1500, 2024, 11, "demo", Console(file=out, width=200))
    summary = result["payment"]["summary"].iloc[0]
    assert (summary["year"], summary["history_years"]) == (2024, "2021,2022,2023")
    assert sorted(p.name for p in (tmp_path / "history").iterdir()) == ["2021", "2022", "2023"]
    assert "fitted on history 2021,2022,2023" in out.getvalue()
    assert "institutions in the region (淄博市)" in out.getvalue()
    assert "institutions out of the region" in out.getvalue()
    # the fund's year: the warning state and the indicators, from the same settled claims
    assert "基金风险预警" in out.getvalue() and "主要指标" in out.getvalue()
    totals = [t["totals_fen"] for t in result["settlement"]["by_insutype"].values()]
    paid = sum(t["fund_pay_sumamt"] + t["acct_pay"] + t.get("acct_mulaid_pay", 0) for t in totals)
    assert result["fund"].accounts.claims_paid_fen() == paid  # every fen the year paid is in a fund
    assert result["fund"].accounts.institutions is not None  # the payment's year-end clearing is booked
    assert "年终清算: the payment engine's year is booked in December" in result["fund"].accounts.notes
    # the schemes' persons add up to more than the region's: said, with why
    assert "owe in both 310 and 390" in " ".join(out.getvalue().split()) and "switched scheme" in out.getvalue()
    # the year screened: hits by rule and severity, the institutions ranked, the re-check draw kept
    text = out.getvalue()
    assert "hits by severity" in text and "异常排名" in text and "re-check sample" in text
    sup = result["supervision"]
    assert len(sup["hits"]) > 0 and not set(sup["sample"]["claim_id"]) & set(sup["hits"]["claim_id"])
    assert sup["ranked"]["rank"].tolist()[:3] == [1, 2, 3]
    assert sup["ranked"]["rule_hits"].notna().any()  # the rules' hits weigh in the ranking
    with sa.create_engine(f"sqlite:///{tmp_path / 'yibao.db'}").connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM sv_sample_claims")).scalar() == len(sup["sample"]) > 0


def test_demo_counts_institutions_in_and_out_of_the_region_apart(tmp_path):
    import pandas as pd

    from yibao.demo import _split_institutions
    from yibao.synth import SynthConfig, generate
    from yibao.lake.io import read_table

    generate(SynthConfig(persons=1500, seed=11, with_lines=False), tmp_path)
    institutions = read_table(tmp_path, "institutions").to_pandas()
    claims = read_table(tmp_path, "claims").to_pandas()
    store_view = {"persons": pd.DataFrame(), "institutions": pd.DataFrame(), "claims": pd.DataFrame()}
    tables = _split_institutions(store_view, institutions, "zibo")
    assert list(tables) == ["persons", "institutions in the region (淄博市)",
                            "institutions out of the region (异地, where its people were treated)", "claims"]
    local, away = tables["institutions in the region (淄博市)"], tables[
        "institutions out of the region (异地, where its people were treated)"]
    assert local["institutions"].sum() + away["institutions"].sum() == len(institutions)
    assert {"pharmacy", "primary", "hospital"} <= set(local["kind"]) and set(away["kind"]) == {"hospital"}
    # every claim treated out of the region is at an institution the second table counts
    away_codes = set(claims.loc[claims["out_of_region"], "fixmedins_code"])
    in_region = set(institutions.loc[institutions["admdvs"].str.startswith("3703"), "fixmedins_code"])
    assert away_codes and not away_codes & in_region
    assert len(away_codes) <= away["institutions"].sum()


def test_demo_with_no_persons_is_refused_naming_the_option(tmp_path):
    from typer.testing import CliRunner

    from yibao.cli import app

    result = CliRunner().invoke(app, ["demo", "--persons", "0", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 1
    assert "error:" in result.output and "--persons" in result.output
    assert not (tmp_path / "demo").exists()
