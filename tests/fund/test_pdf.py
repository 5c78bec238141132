"""The fund report as a PDF: every chapter's figures are in the document's text, the charts are drawn."""

from __future__ import annotations

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from yibao.cli import app
from yibao.fund.cli import fund_year
from yibao.fund.pdf import Chapter, bar_chart, write_pdf, year_chapters
from yibao.synth.config import SynthConfig
from yibao.synth.generate import generate
import datetime as dt


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    out = tmp_path_factory.mktemp("pdflake")
    generate(SynthConfig(persons=300, seed=5), out)
    return out


def _text(path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_the_report_holds_each_chapter_with_the_year_s_own_figures(lake, tmp_path):
    year = fund_year(lake, "zibo", None)
    path = tmp_path / "r.pdf"
    write_pdf("基金运行报告", year_chapters(year), path, dt.date(2025, 1, 31))
    text = _text(path)
    for heading in ("基金账户", "按月收支与结存", "月末结存", "基金风险预警", "主要指标"):
        assert heading in text
    employee = year.accounts.funds.set_index("fund").loc["310100"]
    assert f"{int(employee.spending_fen) / 100:,.2f}" in text  # the table keeps yuan to the fen
    march = year.accounts.monthly.set_index(["fund", "month"]).loc[("310100", 3), "balance_fen"]
    assert f"{int(march) / 100:,.2f}" in text  # the month-end balance table
    assert "划转大病保险" in text and "利息收入" in text  # the items table
    inpatient = next(i for i in year.indicators if i.value is not None and i.unit == "share")
    assert inpatient.shown() in text
    assert "2025-01-31" in text


def test_a_chapter_s_chart_is_drawn_with_its_series(tmp_path):
    chart = bar_chart("支出", ["甲", "乙"], {"本年": [1.0, 2.0], "目标": [1.5, 1.5]}, "万元")
    assert [list(s) for s in chart.contents[1].data] == [[1.0, 2.0], [1.5, 1.5]]
    path = tmp_path / "c.pdf"
    write_pdf("图", [Chapter("一章", [[["a", "b"], ["1", "2"]]], [chart], ["说明文字"])], path, dt.date(2025, 1, 1))
    text = _text(path)
    assert "一章" in text and "说明文字" in text and "支出 (万元)" in text


def test_fund_report_command_writes_the_pdf_and_the_workbook(lake, tmp_path):
    pdf, book = tmp_path / "r.pdf", tmp_path / "r.xlsx"
    res = CliRunner().invoke(app, ["fund", "report", "--lake", str(lake), "--pack", "zibo", "--pdf", str(pdf),
                                   "--xlsx", str(book)])
    assert res.exit_code == 0, res.output
    assert len(PdfReader(pdf).pages) >= 2 and book.stat().st_size > 0
    text = _text(pdf)
    assert "基金精算预测" in text and "可支付月数" in text and "2029" in text  # five years from 2024
    assert "年终清算" in text and "实际支付" in text  # the payment engine's year is booked by default


def test_fund_report_names_a_wrong_suffix(lake, tmp_path):
    res = CliRunner().invoke(app, ["fund", "report", "--lake", str(lake), "--pdf", str(tmp_path / "r.txt")])
    assert res.exit_code == 1 and "give a .pdf file" in res.output


def test_a_reform_adds_its_chapter_with_the_burden_by_decile(lake, tmp_path):
    from yibao.fund.pdf import reform_chapter
    from yibao.fund.simulate import simulate_reform
    from yibao.policy.pack import load_pack

    reform = tmp_path / "r.yaml"
    reform.write_text("name: 取消家庭共济\nref: 'simulation'\noverrides:\n  account.family_mutual_aid:\n"
                      "    2024-01-01: false\n", encoding="utf-8")
    sim = simulate_reform(lake, load_pack("zibo"), reform)
    chapter = reform_chapter(sim)
    deciles = sim.burden[sim.burden["by"] == "decile"]
    chart = chapter.drawings[0].contents[1]
    assert [list(s) for s in chart.data] == [[int(v) / 100 for v in deciles["b_mean_fen"]],
                                             [int(v) / 100 for v in deciles["r_mean_fen"]]]
    pdf = tmp_path / "r.pdf"
    res = CliRunner().invoke(app, ["fund", "report", "--lake", str(lake), "--pack", "zibo", "--pdf", str(pdf),
                                   "--reform", str(reform)])
    assert res.exit_code == 0, res.output
    assert "政策模拟 取消家庭共济" in _text(pdf)
