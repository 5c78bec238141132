"""The calibration check: the 沈阳 pack on a region synthesized to 沈阳's published facts; the ratio it
prints is the one recomputed from the region's own settled statements."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from yibao.cli import app
from yibao.errors import ValidationError
from yibao.fund.calibration import calibrate, city_facts, facts_for
from yibao.lake import io as lake_io
from yibao.settlement.batch import settle_lake
from yibao.vocab import INPATIENT_MED_TYPES

PAID = ("hifp_pay", "hifmi_pay", "hifob_pay")


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    out = tmp_path_factory.mktemp("shenyang")
    res = CliRunner().invoke(app, ["fund", "calibrate", "--pack", "shenyang", "--persons", "800", "--seed", "4",
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out, res.output


def test_the_ratio_is_the_one_recomputed_from_the_statements(checked):
    out, printed = checked
    rows, _ = settle_lake(out, "shenyang")
    stays = rows[rows["med_type"].isin(INPATIENT_MED_TYPES)]
    published = city_facts()["shenyang"].published
    for ins, label in (("310", "职工 310"), ("390", "居民 390")):
        s = stays[stays["insutype"] == ins]
        ratio = sum(int(s[f].sum()) for f in PAID) / int(s["inscp_scp_amt"].sum())
        line = next(ln for ln in printed.splitlines() if label in ln and "%" in ln)
        cells = re.findall(r"[-+]?\d+\.\d%?", line)
        assert cells[0] == f"{100 * ratio:.1f}%" and cells[1] == f"{100 * published[ins]:.1f}%"
        assert cells[2] == f"{100 * (ratio - published[ins]):+.1f}"


def test_the_region_is_synthesized_to_the_published_facts(checked):
    out, _ = checked
    spells = lake_io.read_table(out, "enrollments").to_pandas()
    first = spells.sort_values("start_date").drop_duplicates("psn_no")
    share = (first["insutype"] == "310").mean()
    assert share == pytest.approx(city_facts()["shenyang"].synth["employee_share"][0], abs=0.05)
    assert (pd.read_parquet(lake_io.table_path(out, "regions"))["admdvs"].astype(str).str.startswith("2101")).any()


def test_the_split_of_the_in_scope_amount_adds_up(tmp_path):
    check = calibrate("shenyang", 400, 2, 2024, tmp_path / "r")
    for r in check.schemes.itertuples(index=False):
        assert r.paid_fen + r.deductible_fen <= r.inscope_fen <= r.medfee_fen
        assert r.ratio + r.deductible_share + r.rest_share == pytest.approx(1)
    shares = check.levels.groupby("insutype")["scope_share"].sum()
    assert shares.to_numpy() == pytest.approx([1, 1])
    assert all(assumed <= n and n > 0 for assumed, n in check.rules.values())


def test_a_pack_without_facts_or_a_year_without_rules_is_refused_before_synthesis(tmp_path):
    with pytest.raises(ValidationError, match="zibo.*no published facts"):
        facts_for("zibo")
    with pytest.raises(ValidationError, match="no benefits.pooling.rules on 2020-01-01"):
        calibrate("shenyang", 400, 1, 2020, tmp_path / "never")
    assert not (tmp_path / "never").exists()
