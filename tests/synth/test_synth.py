"""The synthetic region: determinism, schemas, valid codes, clinical coherence, calibration and the
injected fraud patterns, on a small region generated once per module."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from yibao.catalog.codes import icd9, icd10
from yibao.errors import ValidationError
from yibao.ids import parse_id_number, validate_admdvs, validate_credit_code, validate_fixmedins_code
from yibao.lake.io import read_table
from yibao.lake.schema import FRAUD_LABELS, TABLES
from yibao.synth import DEFAULT_FRAUD_RATES, SynthConfig, generate
from yibao.synth import data as sdata

RATES = {"split_stay": 0.05, "bed_hanging": 0.03, "duplicate_charge": 0.01, "item_swap": 0.01, "overdose": 0.01,
         "sex_violation": 0.002, "age_violation": 0.002, "overlapping_stay": 0.03, "after_death": 0.3,
         "upcoding": 0.08, "ring": 0.005}
PERSONS = 5000


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    out = tmp_path_factory.mktemp("region")
    summary = generate(SynthConfig(persons=PERSONS, seed=7, fraud_rates=RATES), out)
    tables = {t: read_table(out, t).to_pandas() for t in TABLES if t != "contributions"}
    return out, summary, tables


def test_every_table_is_written_in_the_lake_schema(region):
    out, summary, _ = region
    for table, schema in TABLES.items():
        if table == "contributions":  # the registry computes contributions
            continue
        t = read_table(out, table)
        assert t.schema.names == schema.names, table
        assert t.schema.equals(schema), table
        assert t.num_rows == summary.counts[table], table
    assert summary.counts["persons"] == PERSONS
    assert summary.counts["claim_lines"] > summary.counts["claims"]


def _files(folder):
    return {p.relative_to(folder): pq.read_table(p) for p in sorted(folder.rglob("*.parquet"))}


def test_same_seed_gives_identical_files_and_another_seed_differs(tmp_path):
    cfg = SynthConfig(persons=1500, seed=3, chunk_persons=1000)
    generate(cfg, tmp_path / "a")
    generate(cfg, tmp_path / "b")
    generate(SynthConfig(persons=1500, seed=4, chunk_persons=1000), tmp_path / "c")
    a, b, c = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    a, b, c = ({str(k): v for k, v in x.items()} for x in (a, b, c))
    assert a.keys() == b.keys() and len(a) >= 10
    for k in a:
        assert a[k].equals(b[k]), k
        assert (tmp_path / "a" / k).read_bytes() == (tmp_path / "b" / k).read_bytes(), k
    assert not a["persons.parquet"].equals(c["persons.parquet"])
    assert not a[next(k for k in a if "claims" in str(k))].equals(c[next(k for k in c if "claims" in str(k))])


def test_identifiers_are_valid_unique_and_consistent(region):
    _, _, t = region
    persons = t["persons"]
    assert persons["certno"].is_unique and persons["psn_no"].is_unique
    for row in persons.itertuples():
        info = parse_id_number(row.certno)
        assert info.birth_date == row.birth_date and info.sex == row.sex, row
        assert info.admdvs == row.admdvs
    for code in t["employers"]["uscc"]:
        validate_credit_code(code)
    assert t["employers"]["uscc"].is_unique
    inst = t["institutions"]
    for code, kind in zip(inst["fixmedins_code"], inst["kind"]):
        validate_fixmedins_code(code)
        assert code[0] == ("P" if kind == "pharmacy" else "H")
    assert inst["fixmedins_code"].is_unique
    for col in ("admdvs",):
        for v in pd.concat([persons[col], inst[col], t["employers"][col], t["regions"][col]]).unique():
            validate_admdvs(v)
    claims = t["claims"]
    assert claims["claim_id"].is_unique
    assert set(claims["psn_no"]) <= set(persons["psn_no"])
    assert set(claims["fixmedins_code"]) <= set(inst["fixmedins_code"])


def test_households_deaths_and_population_shape(region):
    _, summary, t = region
    p = t["persons"]
    sizes = p.groupby("household_id").size()
    assert 2.0 < sizes.mean() < 3.2 and sizes.max() <= 6
    assert (p.groupby("household_id")["admdvs"].nunique() == 1).all()
    dead = p[p["death_date"].notna()]
    assert 0.003 * PERSONS < len(dead) < 0.02 * PERSONS
    assert (dead["death_date"] >= dead["birth_date"]).all()
    # deaths concentrate in old age
    age = 2024 - pd.to_datetime(dead["birth_date"]).dt.year
    assert age.median() > 65
    row = {r["metric"]: r for r in summary.calibration}
    assert abs(row["60+ share"]["ratio"] - 1) < 0.05
    assert 0.48 < (p["sex"] == "1").mean() < 0.53


def test_enrolment_mix_changes_and_double_enrolments(region):
    _, _, t = region
    e = t["enrollments"]
    p = t["persons"]
    main = e.drop_duplicates("psn_no")
    assert set(e["insutype"]) == {"310", "390"}
    emp = e[e["insutype"] == "310"]
    assert emp["contribution_base_fen"][emp["psn_type"] == "11"].notna().all()
    assert e["contribution_base_fen"][e["insutype"] == "390"].isna().all()
    assert (emp["emp_kind"] == "flexible").any() and (emp["emp_kind"] == "employer").any()
    assert emp["civil_servant"].any()
    assert set(e["psn_type"][e["insutype"] == "390"]) >= {"1402", "1403", "15", "16"}
    active = (main["psn_type"] == "11").sum()
    retired = (main["psn_type"] == "12").sum()
    assert 2.2 < active / retired < 3.1
    # scheme changers: two spells back to back in different schemes
    multi = e[e["psn_no"].duplicated(keep=False)].sort_values(["psn_no", "start_date"])
    g = multi.groupby("psn_no")
    changed = g.apply(lambda s: (s["end_date"].iloc[0] is not None) and s["insutype"].nunique() == 2
                      and pd.notna(s["end_date"].iloc[0]) and (s["start_date"].iloc[1] - s["end_date"].iloc[0]).days == 1,
                      include_groups=False)
    assert changed.sum() >= 5
    # double enrolments: two spells that overlap
    overlap = g.apply(lambda s: s["start_date"].iloc[1] <= (s["end_date"].iloc[0] if pd.notna(s["end_date"].iloc[0])
                                                            else s["start_date"].iloc[1]), include_groups=False)
    assert overlap.sum() >= PERSONS // 1000
    # spells of the dead end at death
    dead = p.set_index("psn_no")["death_date"].dropna()
    last = e.sort_values("start_date").groupby("psn_no").last()
    assert (last.loc[dead.index, "end_date"] == dead).all()
    ids = t["identities"]
    assert 0.04 < len(ids) / PERSONS < 0.08
    assert set(ids["identity"]) >= {"tekun", "dibao", "disabled"}
    res_share = ids["psn_no"].isin(main["psn_no"][main["insutype"] == "390"]).mean()
    assert res_share > 0.8


def test_institutions_scale_with_population(region):
    _, _, t = region
    inst = t["institutions"]
    local = inst[inst["admdvs"].str.startswith("3703")]
    assert set(local["level"][local["kind"] == "hospital"]) >= {"3", "2", "1"}
    assert (local["kind"] == "pharmacy").sum() >= 0.5 * 160 * PERSONS / 1e6
    l3 = local[(local["kind"] == "hospital") & (local["level"] == "3")]
    assert l3["beds"].mean() > local[local["kind"] == "primary"]["beds"].mean()
    assert (inst["agreement_start"] <= pd.Timestamp("2024-12-31").date()).all()


def test_every_diagnosis_and_procedure_is_a_real_code(region):
    _, _, t = region
    c = t["claims"]
    dx = c["diagnoses"].dropna().str.split("|").explode()
    assert icd10().validate_many(dx.unique()).all()
    px = c["procedures"].dropna().str.split("|").explode()
    assert len(px) > 0 and icd9().validate_many(px.unique()).all()
    conds = sdata.conditions()
    assert 80 <= len(conds) <= 150
    assert icd10().validate_many(conds["icd10"]).all()
    assert icd10().validate_many(conds["comorbid"].str.split("|").explode().replace("", np.nan).dropna()).all()
    assert icd9().validate_many(conds["procedures"].str.split("|").explode().replace("", np.nan).dropna()).all()
    assert icd10().validate_many(sdata.chronic_diseases()["icd10"]).all()
    assert icd10().validate_many(sdata.outpatient_mix()["icd10"]).all()
    assert (conds["source"].str.len() > 0).all()


@pytest.fixture(scope="module")
def stay_model():
    from yibao.synth.claims import build_model
    from yibao.synth.institutions import build_institutions
    from yibao.synth.population import build_population

    cfg = SynthConfig(persons=PERSONS, seed=7)
    pop, _ = build_population(cfg, np.random.default_rng([cfg.seed, 0]))
    return build_model(cfg, pop, build_institutions(cfg, np.random.default_rng([cfg.seed, 1])))


@pytest.mark.parametrize("dx, procedures", [
    ("K35", ("47.0",)), ("H25", ("13.41", "13.71")), ("O80", ("73.59",)), ("O82", ("74.1",)),
    ("S72", ("79.35", "81.51", "81.52")), ("I21", ("36.06", "00.66")), ("I25", ("36.06", "00.66", "88.56")),
    ("J18", ()), ("K80", ("51.23",)),
])
def test_procedures_fit_the_principal_diagnosis(stay_model, dx, procedures):
    """Stays of the conditions coded ``dx``, 300 drawn as the generator draws them: a region of a few
    thousand persons holds a gallstone stay about one time in two."""
    from yibao.synth.claims import _stays

    m = stay_model
    cond = np.flatnonzero(m.cond["icd10"].str.startswith(dx).to_numpy())
    assert len(cond) > 0
    rng = np.random.default_rng(2)
    women = np.flatnonzero((m.pop.sex == 2) & (m.pop.age >= 20) & (m.pop.age <= 40))  # any condition's stay fits
    who = women[rng.integers(0, len(women), 300)]
    c = cond[rng.integers(0, len(cond), 300)]
    b = _stays(rng, m, who, c, m.pop.start[who], np.full(300, "2101", object))
    px = pd.Series(b.cols["proc"]).dropna()
    if not procedures:
        assert px.empty
    else:
        assert len(px) > 0 and px.map(lambda p: p.startswith(procedures)).all()


def test_conditions_respect_sex_and_age(region):
    _, _, t = region
    c = t["claims"].merge(t["persons"][["psn_no", "sex", "birth_date"]], on="psn_no")
    fraud = set(t["fraud_labels"]["claim_id"])
    c = c[~c["claim_id"].isin(fraud)]
    c["principal"] = c["diagnoses"].str.split("|").str[0]
    age = (pd.to_datetime(c["adm_date"]) - pd.to_datetime(c["birth_date"])).dt.days / 365.25
    for table in (sdata.conditions(), sdata.outpatient_mix()):
        limits = table.set_index("icd10")
        rows = c["principal"].isin(limits.index) & c["los"].notna() if table is sdata.conditions() else \
            c["principal"].isin(limits.index) & c["los"].isna() & (c["med_type"].isin(["11", "13", "41"]))
        sub, a = c[rows], age[rows]
        lim = limits.loc[sub["principal"]]
        sex_ok = (lim["sex"].to_numpy() == "") | (lim["sex"].to_numpy() == sub["sex"].to_numpy())
        assert sex_ok.all()
        assert (a.to_numpy() >= lim["min_age"].to_numpy() - 1).all()
        assert (a.to_numpy() <= lim["max_age"].to_numpy() + 1).all()
    births = c[c["med_type"] == "52"]
    assert len(births) > 0 and (births["sex"] == "2").all()
    newborn = c[c["newborn_weight_g"].notna()]
    assert len(newborn) > 0 and newborn["diagnoses"].str.startswith("P").all()
    assert newborn["newborn_weight_g"].between(500, 6000).all()


def test_claim_kinds_and_cross_region_cases(region):
    _, _, t = region
    c = t["claims"]
    assert set(c["med_type"]) >= {"11", "13", "14", "9901", "41", "2101", "28", "52"}
    assert c["chronic_disease"][c["med_type"] == "14"].notna().all()
    assert c["chronic_disease"][c["med_type"] != "14"].isna().all()
    away = c[c["out_of_region"]]
    assert len(away) > 0 and set(away["filing"]) <= {"filed", "referred", "emergency", "unfiled"}
    assert (away["mdtrtarea_admdvs"] != away["insuplc_admdvs"]).all()
    home = c[~c["out_of_region"]]
    assert home["filing"].isna().all() and (home["mdtrtarea_admdvs"] == home["insuplc_admdvs"]).all()
    stays = c[c["los"].notna()]
    assert ((pd.to_datetime(stays["dscg_date"]) - pd.to_datetime(stays["adm_date"])).dt.days == stays["los"]).all()
    assert (stays["dscg_date"] <= pd.Timestamp("2024-12-31").date()).all()
    assert (c["dscg_way"][c["los"].notna()].notna()).all()


def test_lines_are_priced_from_the_catalog(region):
    _, _, t = region
    lines, claims, cat = t["claim_lines"], t["claims"], t["catalog"]
    assert (lines["amount_fen"] == (lines["qty"] * lines["price_fen"]).round().astype("int64")).all()
    assert (lines["qty"] >= 1).all() and (lines["qty"] == lines["qty"].round()).all()
    total = lines.groupby("claim_id")["amount_fen"].sum()
    assert (claims.set_index("claim_id")["medfee_sumamt_fen"] == total.reindex(claims["claim_id"]).fillna(0).to_numpy()).all()
    caps = cat.set_index("item_code")["price_cap_fen"]
    assert lines["item_code"].isin(caps.index).all()
    assert (lines["price_fen"].to_numpy() <= caps.loc[lines["item_code"]].to_numpy()).all()
    assert set(lines["kind"]) == {"drug", "service", "consumable"}
    assert (cat.set_index("item_code").loc[lines["item_code"], "item_class"] == "C").any()  # some 丙类 lines
    line_no = lines.groupby("claim_id")["line_no"].agg(["min", "max", "count"])
    assert (line_no["min"] == 1).all() and (line_no["max"] == line_no["count"]).all()


def test_lines_are_coherent_with_the_diagnosis(region):
    _, _, t = region
    lines, claims, cat = t["claim_lines"], t["claims"], t["catalog"].set_index("item_code")
    clean = claims[~claims["claim_id"].isin(t["fraud_labels"]["claim_id"])]
    names = lines.merge(clean[["claim_id", "diagnoses", "procedures", "med_type"]], on="claim_id")
    names["name"] = cat.loc[names["item_code"], "name"].to_numpy()
    diabetes = names[names["diagnoses"].str.startswith("E11.9") & (names["kind"] == "drug")]
    words = "|".join(sdata.drug_groups()["antidiabetic"])
    share = diabetes.groupby("claim_id")["name"].apply(lambda s: s.str.contains(words).any()).mean()
    assert share > 0.8
    surgery = names[names["procedures"].str.startswith("47.0", na=False)]
    per_claim = surgery.groupby("claim_id")["name"].apply(lambda s: s.str.contains("阑尾").any() and s.str.contains("麻醉").any())
    assert per_claim.mean() > 0.9
    stays = names[names["med_type"] == "2101"]
    # every stay is charged a shared-ward bed (普通病房床位费 110900001…) and nursing every day
    beds = stays[stays["item_code"].str.startswith("110900001")]
    assert beds["claim_id"].nunique() == stays["claim_id"].nunique()
    assert stays.groupby("claim_id")["name"].apply(lambda s: s.str.contains("级护理").any()).all()


def test_calibration_is_within_tolerance(region):
    _, summary, t = region
    rows = {r["metric"]: r for r in summary.calibration}
    tolerances = {
        "职工 admissions per person-year": 0.25, "居民 admissions per person-year": 0.25,
        "职工 outpatient visits per person-year": 0.1, "居民 outpatient visits per person-year": 0.1,
        "职工 chronic visits per person-year": 0.25, "居民 chronic visits per person-year": 0.25,
        "职工 cost per stay (yuan)": 0.2, "居民 cost per stay (yuan)": 0.2,
        "职工 LOS (days)": 0.12, "居民 LOS (days)": 0.12,
        "职工 cost per outpatient claim (yuan)": 0.3, "居民 cost per outpatient claim (yuan)": 0.3,
        "居民 cost per stay, level 3 (yuan)": 0.25, "LOS, level 3 (days)": 0.15, "LOS, level 2 (days)": 0.15,
        "职工 share": 0.05,
    }
    for metric, tol in tolerances.items():
        assert abs(rows[metric]["ratio"] - 1) < tol, rows[metric]
        assert rows[metric]["ref"]
    # recomputed from the files: stays per enrolled person and cost per stay rise with the level
    c, inst = t["claims"], t["institutions"].set_index("fixmedins_code")
    stays = c[c["los"].notna()]
    assert 0.15 < len(stays) / PERSONS < 0.3
    level = inst.loc[stays["fixmedins_code"], "level"].to_numpy()
    cost = stays["medfee_sumamt_fen"].to_numpy()
    assert cost[level == "3"].mean() > cost[level == "2"].mean() > 0
    per_person = len(c) / PERSONS
    assert 7 < per_person < 12


def _labelled(t, label):
    f = t["fraud_labels"]
    return f[f["label"] == label]


def test_every_fraud_label_is_present_at_its_rate(region):
    _, summary, t = region
    f = t["fraud_labels"]
    assert set(f["label"]) == set(FRAUD_LABELS)
    assert set(f["claim_id"]) <= set(t["claims"]["claim_id"])
    stays = t["claims"][t["claims"]["med_type"] == "2101"]
    n_split = len(_labelled(t, "split_stay")) / 2
    eligible = (stays["los"] >= 3).sum()  # split stays are at least 3 + 3 days after splitting
    assert 0.3 * RATES["split_stay"] < n_split / eligible < 2.5 * RATES["split_stay"]
    dup = len(_labelled(t, "duplicate_charge")) / len(t["claims"])
    assert 0.2 * RATES["duplicate_charge"] < dup < 1.5 * RATES["duplicate_charge"]
    assert summary.fraud == f["label"].value_counts().to_dict()


def test_split_stays_are_two_stays_with_a_short_gap(region):
    _, _, t = region
    c = t["claims"].set_index("claim_id")
    s = _labelled(t, "split_stay")
    first = s[s["detail"].str.startswith("first part")]
    assert len(first) > 0
    other = first["detail"].str.split(" ").str[-1]
    a, b = c.loc[first["claim_id"]], c.loc[other]
    assert (a["psn_no"].to_numpy() == b["psn_no"].to_numpy()).all()
    assert (a["fixmedins_code"].to_numpy() == b["fixmedins_code"].to_numpy()).all()
    gap = (pd.to_datetime(b["adm_date"]).to_numpy() - pd.to_datetime(a["dscg_date"]).to_numpy()).astype("timedelta64[D]").astype(int)
    assert ((gap >= 1) & (gap <= 3)).all()


def test_bed_hanging_stays_have_only_daily_charges(region):
    _, _, t = region
    lines = t["claim_lines"]
    hang = _labelled(t, "bed_hanging")["claim_id"]
    counts = lines[lines["claim_id"].isin(hang)].groupby("claim_id")["kind"].agg(["count", lambda k: (k == "drug").sum()])
    assert len(counts) > 0 and (counts["count"] <= 4).all() and (counts.iloc[:, 1] == 0).all()
    normal = lines[lines["claim_id"].isin(t["claims"]["claim_id"][t["claims"]["med_type"] == "2101"]) & ~lines["claim_id"].isin(hang)]
    assert normal.groupby("claim_id").size().median() >= 10


def test_line_level_patterns_are_visible(region):
    _, _, t = region
    lines, persons, claims = t["claim_lines"], t["persons"].set_index("psn_no"), t["claims"].set_index("claim_id")
    cat = t["catalog"].set_index("item_code")
    dup = _labelled(t, "duplicate_charge")
    d = lines[lines["claim_id"].isin(dup["claim_id"])]
    twice = d.groupby(["claim_id", "item_code", "service_date"]).size().groupby("claim_id").max()
    assert len(twice) == len(dup) and (twice >= 2).all()
    swap = _labelled(t, "item_swap")
    for row in swap.itertuples():
        was = row.detail.split(" ")[-1]
        billed = lines[lines["claim_id"] == row.claim_id]
        assert billed["price_fen"].max() > cat.loc[was, "price_cap_fen"]
    over = _labelled(t, "overdose")
    for row in over.itertuples():
        qty, was = (float(x) for x in row.detail.removeprefix("quantity ").split(" for "))
        drugs = lines[(lines["claim_id"] == row.claim_id) & (lines["kind"] == "drug")]
        # 5–10 times the drawn quantity, and beyond a long prescription's 90 units
        assert qty in set(drugs["qty"]) and qty >= 5 * was and qty > 90
    for label in ("sex_violation", "age_violation"):
        for row in _labelled(t, label).itertuples():
            item = cat.loc[row.detail]
            person = persons.loc[claims.loc[row.claim_id, "psn_no"]]
            assert row.detail in set(lines["item_code"][lines["claim_id"] == row.claim_id])
            if label == "sex_violation":
                assert item["restrict_sex"] != person["sex"]
            else:
                adm = pd.Timestamp(claims.loc[row.claim_id, "adm_date"])
                age = int((adm - pd.Timestamp(person["birth_date"])).days / 365.25)
                lo, hi = item["restrict_min_age"], item["restrict_max_age"]
                assert (pd.notna(lo) and age < lo) or (pd.notna(hi) and age > hi)
    # outside the labelled claims no line breaks a sex or age restriction
    restricted = cat[cat["restrict_sex"].notna()].index
    labelled = set(t["fraud_labels"]["claim_id"])
    clean = lines[~lines["claim_id"].isin(labelled)]
    assert not clean["item_code"].isin(restricted).any()


def test_stay_level_patterns_are_visible(region):
    _, _, t = region
    claims = t["claims"]
    c = claims.set_index("claim_id")
    persons = t["persons"].set_index("psn_no")
    for row in _labelled(t, "after_death").itertuples():
        death = persons.loc[c.loc[row.claim_id, "psn_no"], "death_date"]
        assert death is not None and c.loc[row.claim_id, "adm_date"] > death
    stays = claims[claims["los"].notna()]
    for row in _labelled(t, "overlapping_stay").itertuples():
        me = c.loc[row.claim_id]
        other = c.loc[row.detail.split(" ")[-1]]
        assert other["psn_no"] == me["psn_no"] and other["fixmedins_code"] != me["fixmedins_code"]
        assert me["adm_date"] < other["dscg_date"] and other["adm_date"] < me["dscg_date"]
    up = _labelled(t, "upcoding")
    assert len(up) > 0
    for row in up.itertuples():
        severe, mild = row.detail.split(" ")[1], row.detail.split(" ")[3]
        assert c.loc[row.claim_id, "diagnoses"].split("|")[0] == severe != mild
    # an upcoded stay costs what the mild condition costs: below the severe condition's typical stay
    median = stays.groupby(stays["diagnoses"].str.split("|").str[0])["medfee_sumamt_fen"].median()
    up_cost = c.loc[up["claim_id"], "medfee_sumamt_fen"]
    severe = up["detail"].str.split(" ").str[1]
    assert (up_cost.to_numpy() < median.loc[severe].to_numpy() * 1.5).mean() > 0.6


def test_default_rates_cover_every_label():
    assert set(DEFAULT_FRAUD_RATES) == set(FRAUD_LABELS)


@pytest.mark.parametrize("kwargs, field", [
    ({"persons": 10}, "persons"), ({"year": 1800}, "year"), ({"share_60_plus": 1.5}, "share_60_plus"),
    ({"active_retired_ratio": 0}, "active_retired_ratio"), ({"fraud_rates": {"made_up": 0.1}}, "fraud_rates"),
    ({"fraud_rates": {"split_stay": 0.9}}, "fraud_rates.split_stay"), ({"chunk_persons": 10}, "chunk_persons"),
])
def test_bad_configuration_is_refused_naming_the_field(kwargs, field):
    with pytest.raises(ValidationError) as e:
        SynthConfig(**kwargs)
    assert e.value.field == field


def test_unknown_region_is_refused():
    with pytest.raises(ValidationError, match="unknown region"):
        sdata.region("atlantis")


def test_configured_retired_ratio_is_followed(tmp_path):
    s = generate(SynthConfig(persons=4000, seed=2, active_retired_ratio=1.47, region="shenyang", with_lines=False), tmp_path)
    row = {r["metric"]: r for r in s.calibration}["在职:退休"]
    assert abs(row["generated"] / 1.47 - 1) < 0.12
    e = read_table(tmp_path, "enrollments").to_pandas()
    assert e["admdvs"].str.startswith("2101").mean() > 0.99


def test_cli_builds_a_region(tmp_path):
    from typer.testing import CliRunner

    from yibao.cli import app

    result = CliRunner().invoke(app, ["synth", "--persons", "800", "--seed", "9", "--out", str(tmp_path), "--no-lines"])
    assert result.exit_code == 0, result.output
    assert "calibration" in result.output
    assert read_table(tmp_path, "persons").num_rows == 800


def test_rows_do_not_depend_on_the_chunk_size(tmp_path):
    for name, chunk in (("small", 5_000), ("large", 20_000)):
        generate(SynthConfig(persons=11_000, seed=5, chunk_persons=chunk, with_lines=False), tmp_path / name)
    parts = {name: len(list((tmp_path / name / "claims").glob("*.parquet"))) for name in ("small", "large")}
    assert parts == {"small": 3, "large": 1}
    for table in ("claims", "fraud_labels", "persons", "enrollments"):
        assert read_table(tmp_path / "small", table).equals(read_table(tmp_path / "large", table)), table
