"""The trainer's report and comparison: the page, the CSV, the JSON and scipy agree, and small
groups show nothing anywhere."""
import csv
import datetime as dt
import io
import json

import numpy as np
import pytest
import sqlalchemy as sa
from scipy import stats

from survey import services
from survey.bank import current_bank
from survey.extensions import db
from survey.models import Cohort, Role, Wave
from tests.conftest import Officer, csrf_token, make_agency, make_cohort, make_staff, publish

LETTERS = "ACDEFGHJKMNPRTW"


def answers_for(stigma: int, rest: int = 3) -> dict:
    """Form answers whose keyed stigma score is `stigma` and every other scale `rest`."""
    out = {}
    for item in current_bank().instrument_items("training"):
        value = stigma if item.construct == "stigma" else rest
        out[f"q_{item.code}"] = str(6 - value if item.reverse_keyed else value)
    return out


def code_for(i: int) -> dict:
    return {"mother_initial": LETTERS[i % 15], "father_initial": LETTERS[(i * 7) % 15],
            "birth_month": str(1 + i % 12), "older_siblings": str(i % 4),
            "birthplace_initial": LETTERS[(i * 3 + 1) % 15], "first_car_initial": "F"}


def take_survey(app, code, i, stigma):
    officer = Officer(app.test_client(), code)
    officer.start()
    officer.give_code(**code_for(i))
    officer.fields()
    assert officer.submit(answers_for(stigma)).status_code == 302


def run_cohort(app, setup, pre_scores, post_scores):
    for i, score in enumerate(pre_scores):
        take_survey(app, setup["pre"], i, score)
    with app.app_context():
        services.close_wave(db.session.get(Wave, setup["pre_id"]))
        services.open_wave(db.session.get(Wave, setup["post_id"]), hours=24)
    for i, score in enumerate(post_scores):
        take_survey(app, setup["post"], i, score)
    with app.app_context():  # figures are published once the surveys have closed
        services.close_wave(db.session.get(Wave, setup["post_id"]))


PRE = [4, 5, 3, 4, 4, 5, 3, 4]
POST = [3, 3, 3, 2, 4, 4, 2, 3]


@pytest.fixture
def trainer(client, auth, setup):
    auth.login(setup["trainer_email"])
    return client


def test_page_csv_json_and_scipy_agree(app, trainer, setup):
    run_cohort(app, setup, PRE, POST)
    ref = stats.ttest_rel(POST, PRE)
    ci = ref.confidence_interval()
    diff = np.mean(np.subtract(POST, PRE))

    doc = json.loads(trainer.get(f"/trainer/cohorts/{setup['cohort_id']}/report.json").data)
    stigma = next(r for r in doc["tables"]["change"] if r["construct"] == "stigma")
    assert stigma["n"] == 8 and stigma["linkage_rate"] == 1.0
    waves = {w["wave_label"]: w for w in doc["tables"]["waves"]}
    assert waves["After training"]["linked"] == 8
    assert stigma["mean_diff"] == pytest.approx(diff, rel=1e-9)
    assert (stigma["ci_low"], stigma["ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert stigma["p_val"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert stigma["d_z"] == pytest.approx(ref.statistic / np.sqrt(8), rel=1e-9)
    means = {(r["construct"], r["wave_label"]): r for r in doc["tables"]["scale_means"]}
    assert means[("stigma", "Before training")]["mean"] == pytest.approx(np.mean(PRE))

    rows = list(csv.DictReader(io.StringIO(trainer.get(
        f"/trainer/cohorts/{setup['cohort_id']}/report.csv?table=change").text)))
    row = next(r for r in rows if r["construct"] == "stigma")
    assert float(row["mean_diff"]) == pytest.approx(diff, rel=1e-9)
    assert float(row["ci_low"]) == pytest.approx(ci.low, rel=1e-9)

    page = trainer.get(f"/trainer/cohorts/{setup['cohort_id']}/report").text
    assert f"{diff:+.2f}" in page and f"{ci.low:+.2f} to {ci.high:+.2f}" in page
    assert f"Stigma beliefs fell by {abs(diff):.2f} points" in page
    assert '<td class="num">8</td><td class="num">100%</td>' in page  # linked, linkage rate
    assert 'class="chart-spec"' in page and "<svg" in page


def close_waves(client, setup):
    token = csrf_token(client.get(f"/trainer/cohorts/{setup['cohort_id']}").text)
    for wave in ("pre_id", "post_id"):
        assert client.post(f"/trainer/waves/{setup[wave]}/close",
                           data={"csrf_token": token}).status_code == 302


def test_rank_tests_run_as_r_does_and_the_page_says_so(app, trainer, setup, monkeypatch):
    # 8 linked officers whose stigma changes tie (-1 five times): scipy's method="auto" would
    # run a permutation test here; the report must not
    def refuse(*args, **kwargs):
        raise AssertionError("a permutation test ran")
    monkeypatch.setattr(stats, "permutation_test", refuse)
    run_cohort(app, setup, PRE, POST)
    close_waves(trainer, setup)
    doc = json.loads(trainer.get(f"/trainer/cohorts/{setup['cohort_id']}/report.json").data)
    stigma = next(r for r in doc["tables"]["change"] if r["construct"] == "stigma")
    diffs = np.subtract(POST, PRE)
    ref = stats.wilcoxon(diffs[diffs != 0], correction=True, method="asymptotic")
    assert stigma["wilcoxon_p_val"] == pytest.approx(ref.pvalue, rel=1e-12)
    assert stigma["wilcoxon_method"] == "normal approximation, tie- and continuity-corrected"
    page = trainer.get(f"/trainer/cohorts/{setup['cohort_id']}/report").text
    assert ("the Wilcoxon signed-rank test for linked officers (normal approximation, tie- and "
            "continuity-corrected on Stigma beliefs") in page


def test_small_cohort_shows_no_figures_anywhere(app, trainer, setup):
    run_cohort(app, setup, PRE[:3], POST[:3])
    page = trainer.get(f"/trainer/cohorts/{setup['cohort_id']}/report").text
    assert "Withheld: fewer than 5 responses" in page
    # one line per table, not a row of "Withheld" per scale and survey
    means = page.split('id="means"')[1].split("</table>")[0]
    assert means.count("Withheld:") == 1 and "Withheld: fewer than 5 responses (10 of 10 rows)." \
        in means
    for anchor in ("change", "items", "alpha", "reliable", "typical"):
        if f'id="{anchor}"' in page:
            table = page.split(f'id="{anchor}"')[1].split("</table>")[0]
            assert table.count("Withheld:") <= 1, anchor
    assert "chart-spec" not in page  # no chart drawn from withheld figures
    for shown in (f"{np.mean(PRE[:3]):.2f}", f"{np.mean(POST[:3]):.2f}"):
        assert shown not in page
    assert "Fewer than 5 officers could be linked" in page

    doc = json.loads(trainer.get(f"/trainer/cohorts/{setup['cohort_id']}/report.json").data)
    for name in ("scale_means", "change", "reliability", "item_agreement"):
        for record in doc["tables"][name]:
            assert record["withheld"] is True, (name, record)
    for record in doc["tables"]["scale_means"]:
        assert record["mean"] is None and record["n"] is None
    for record in doc["tables"]["change"]:
        assert record["mean_diff"] is None and record["p_val"] is None
    assert not [s for s in doc["meta"]["sentences"] if "%" in s or "points" in s]

    for table in ("scale_means", "change", "item_agreement", "reliability"):
        rows = list(csv.DictReader(io.StringIO(trainer.get(
            f"/trainer/cohorts/{setup['cohort_id']}/report.csv?table={table}").text)))
        assert rows and all(r["withheld"] == "True" for r in rows)
        for value in ("mean", "mean_diff", "agree_share", "alpha"):
            assert all(r.get(value, "") == "" for r in rows), table
    for suffix in ("responses.sav", "responses.csv"):
        reply = trainer.get(f"/trainer/cohorts/{setup['cohort_id']}/{suffix}")
        assert reply.status_code == 200
    import pyreadstat
    import tempfile
    with tempfile.NamedTemporaryFile(suffix=".sav") as fh:
        fh.write(trainer.get(f"/trainer/cohorts/{setup['cohort_id']}/responses.sav").data)
        fh.flush()
        frame, _ = pyreadstat.read_sav(fh.name)
    assert len(frame) == 0


def test_unknown_table_is_a_404(trainer, setup):
    assert trainer.get(f"/trainer/cohorts/{setup['cohort_id']}/report.csv?table=x").status_code \
        == 404


def test_another_agencys_report_is_not_found(app, client, auth, setup):
    with app.app_context():
        other = make_agency("Other PD")
        email = make_staff(other, Role.TRAINER).email
    auth.login(email)
    for suffix in ("report", "report.json", "report.csv"):
        assert client.get(f"/trainer/cohorts/{setup['cohort_id']}/{suffix}").status_code == 404


def another_class(app, setup, name, pre_scores, post_scores) -> int:
    """A second class of the same agency, run like the first (see :func:`run_cohort`)."""
    with app.app_context():
        agency = db.session.get(Cohort, setup["cohort_id"]).agency
        cohort = make_cohort(agency, name=name)
        waves = {"pre": cohort.waves[0].join_code, "pre_id": cohort.waves[0].id,
                 "post": cohort.waves[1].join_code, "post_id": cohort.waves[1].id}
        cohort_id = cohort.id
    run_cohort(app, waves, pre_scores, post_scores)
    return cohort_id


def test_compare_lists_a_small_cohort_but_does_not_plot_it(app, trainer, setup):
    run_cohort(app, setup, PRE, POST)
    small_id = another_class(app, setup, "Tiny class", PRE[:3], POST[:3])
    page = trainer.get("/trainer/compare").text
    assert "Tiny class" in page and "No: too few linked officers" in page
    doc = json.loads(trainer.get("/trainer/compare.json").data)
    tiny = [r for r in doc["tables"]["changes"] if r["cohort_label"].startswith("Tiny")]
    assert tiny and all(r["withheld"] and r["mean_diff"] is None for r in tiny)
    big = next(r for r in doc["tables"]["changes"]
               if r["cohort_label"].startswith("Deflection") and r["construct"] == "stigma")
    assert big["mean_diff"] == pytest.approx(np.mean(np.subtract(POST, PRE)), rel=1e-9)
    # beside it, the class's after-training shares as its report shows them; none for Tiny
    assert (big["favourable_share"], big["neutral_share"], big["unfavourable_share"]) == \
        pytest.approx((2 / 8, 4 / 8, 2 / 8), abs=1e-12)
    assert all(r["favourable_share"] is None for r in tiny)
    assert '<td class="num">25% / 50% / 25%</td>' in page
    assert "Tiny" not in page.split('class="chart-spec"')[1].split("</script>")[0]
    # every row keeps its class id, withheld or not, as a whole number in JSON and CSV
    assert {r["cohort"] for r in tiny} == {small_id}
    assert big["cohort"] == setup["cohort_id"] and type(big["cohort"]) is int
    rows = list(csv.DictReader(io.StringIO(trainer.get("/trainer/compare.csv?table=changes").text)))
    assert {r["cohort"] for r in rows} == {str(setup["cohort_id"]), str(small_id)}


def test_compare_filters_by_topic_and_date(app, trainer, setup):
    with app.app_context():
        agency = db.session.get(Cohort, setup["cohort_id"]).agency
        import datetime as dt
        services.create_cohort(agency, name="Policy refresher", held_on=dt.date(2025, 3, 1),
                               trainer=None, topics=["policy_eligibility"])
    page = trainer.get("/trainer/compare?topic=policy_eligibility").text
    assert "Policy refresher" in page.split("Classes compared")[1]
    assert "Deflection basics (" not in page.split("Classes compared")[1]
    page = trainer.get("/trainer/compare?start=2026-01-01").text
    assert "Policy refresher" not in page.split("Classes compared")[1]


def test_csv_cells_cannot_run_as_formulas(app, trainer, setup):
    with app.app_context():
        cohort = db.session.get(Cohort, setup["cohort_id"])
        cohort.name = "=HYPERLINK(\"http://evil.example\")"
        db.session.commit()
    text = trainer.get("/trainer/compare.csv?table=changes").text + \
        trainer.get("/trainer/compare.csv?table=cohorts").text
    assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    assert "'=HYPERLINK" in text


# --- Response-level data for evaluators ----------------------------------------------------------

def test_spss_file_opens_back_with_its_labels(app, trainer, setup, tmp_path):
    import pyreadstat
    run_cohort(app, setup, PRE, POST)
    reply = trainer.get(f"/trainer/cohorts/{setup['cohort_id']}/responses.sav")
    assert reply.status_code == 200
    path = tmp_path / "r.sav"
    path.write_bytes(reply.data)
    frame, meta = pyreadstat.read_sav(str(path))
    assert len(frame) == 16 and frame["person"].nunique() == 8
    labels = dict(zip(meta.column_names, meta.column_labels))
    assert labels["STG01"] == "Addiction mostly comes from poor moral choices."
    assert meta.variable_value_labels["STG01"][1.0] == "Strongly disagree"
    assert meta.variable_value_labels["wave_kind"][2.0] == "After training"
    assert meta.variable_measure["STG01"] == "ordinal"
    assert meta.variable_measure["score_stigma"] == "scale"
    pre = frame.loc[frame["wave_kind"] == 1].set_index("person")["score_stigma"]
    post = frame.loc[frame["wave_kind"] == 2].set_index("person")["score_stigma"]
    assert sorted(post - pre.loc[post.index]) == sorted(np.subtract(POST, PRE))
    # Display formats an analyst expects: answers as whole numbers, the date as a scale DATE.
    assert meta.original_variable_types["STG01"] == "F1.0"
    assert meta.original_variable_types["score_stigma"] == "F4.2"
    assert meta.original_variable_types["wave_date"] == "DATE11"
    assert meta.variable_measure["wave_date"] == "scale"
    assert isinstance(frame["wave_date"].iloc[0], dt.date)
    # Reverse keying travels with the file, in the variable labels and the file's documents.
    reversed_items = [c for c, label in labels.items() if "[reverse-keyed in scores]" in label]
    assert reversed_items and all(c in meta.notes[0] + " ".join(meta.notes)
                                  for c in reversed_items)
    book = list(csv.DictReader(io.StringIO(
        trainer.get(f"/trainer/cohorts/{setup['cohort_id']}/codebook.csv").text)))
    assert sorted(r["variable"] for r in book if r["reverse_keyed"] == "yes") == \
        sorted(reversed_items)


def test_person_is_empty_for_a_response_no_other_survey_links(app, trainer, setup):
    """The codebook says person is empty when unlinked: an officer with a code seen only once
    (before training only, or a code nothing matched) gets no person number."""
    run_cohort(app, setup, PRE + [4], POST[:7])
    rows = list(csv.DictReader(io.StringIO(
        trainer.get(f"/trainer/cohorts/{setup['cohort_id']}/responses.csv").text)))
    assert len(rows) == 16
    people = [r["person"] for r in rows if r["person"]]
    assert len(people) == 14 and len(set(people)) == 7  # the seven linked officers, twice each
    assert sum(1 for r in rows if not r["person"]) == 2  # the two seen once


def test_response_files_hold_no_hashes_or_database_ids(app, trainer, setup):
    run_cohort(app, setup, PRE, POST)
    import re
    text = trainer.get(f"/trainer/cohorts/{setup['cohort_id']}/responses.csv").text
    assert not re.search(r"\b[0-9a-f]{32}\b", text)  # no linkage hash
    with app.app_context():
        from survey.models import Response
        ids = [str(i) for i in db.session.scalars(sa.select(Response.id))]
    assert not any(i in text or i.replace("-", "") in text for i in ids)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["respondent"] == "R0001" and rows[0]["person"].startswith("P")
    book = trainer.get(f"/trainer/cohorts/{setup['cohort_id']}/codebook.csv").text
    assert "STG01" in book and "reverse" in book.splitlines()[0]
    workbook = trainer.get(f"/trainer/cohorts/{setup['cohort_id']}/responses.xlsx")
    assert workbook.status_code == 200 and workbook.data[:2] == b"PK"


def test_a_wave_under_the_minimum_is_left_out_of_response_files(app, trainer, setup):
    run_cohort(app, setup, PRE, POST[:3])
    rows = list(csv.DictReader(io.StringIO(trainer.get(
        f"/trainer/cohorts/{setup['cohort_id']}/responses.csv").text)))
    assert len(rows) == 8 and {r["wave"] for r in rows} == {"Before training"}


def test_leaders_cannot_download_response_level_data(app, client, auth, setup):
    with app.app_context():
        agency = db.session.get(Cohort, setup["cohort_id"]).agency
        email = make_staff(agency, Role.LEADER).email
    auth.login(email)
    assert client.get(f"/trainer/cohorts/{setup['cohort_id']}/report").status_code == 200
    for suffix in ("responses.csv", "responses.xlsx", "responses.sav", "codebook.csv"):
        assert client.get(f"/trainer/cohorts/{setup['cohort_id']}/{suffix}").status_code == 403


def test_scale_means_follow_the_survey_order_not_the_opening_dates(app, setup):
    from survey.reports import cohort_report
    run_cohort(app, setup, PRE, POST)
    publish(app, setup["pre_id"], setup["post_id"])
    with app.app_context():
        pre, post = db.session.get(Wave, setup["pre_id"]), db.session.get(Wave, setup["post_id"])
        post.opens_at = pre.opens_at - dt.timedelta(days=3)   # "opened" before the pre wave
        db.session.commit()
        report = cohort_report(db.session.get(Cohort, setup["cohort_id"]))
    labels = list(dict.fromkeys(report.means["wave_label"]))
    assert labels == ["Before training", "After training"]
    assert list(report.means["construct"]) == sorted(report.means["construct"].unique()) * 2


def test_figures_that_round_to_zero_print_without_a_sign():
    from survey.reports.common import fixed
    from survey.web import number
    for value in (-0.001, -0.0049, 0.0, -0.0, 0.004):
        assert number(value, 2, True) == number(value) == fixed(value, sign=True) == "0.00"
    assert number(-0.006, 2, True) == "-0.01" and number(0.3, 2, True) == "+0.30"
    assert number(-0.3) == "-0.30" and number(float("nan"), 2, True) == "–"
    assert number(-0.0004, 3) == "0.000" and number(-0.0004, 4) == "-0.0004"


def test_in_brief_names_a_change_only_where_the_holm_column_supports_it():
    """The barriers case: an interval that excludes zero beside a Holm p of .079 is not a
    change the sentences may claim; the sentence says why, and the rule is stated."""
    from types import SimpleNamespace

    import pandas as pd

    from survey.reports import HEADLINE_RULE
    from survey.reports.cohort import _sentences
    change = pd.DataFrame({
        "construct_name": ["Perceived barriers", "Stigma beliefs", "Intention to deflect"],
        "n": [12, 12, 12], "mean_diff": [-0.25, -0.8, 0.05], "ci_low": [-0.48, -1.1, -0.2],
        "ci_high": [-0.02, -0.5, 0.3], "g_av": [-0.4, -1.2, 0.1], "effect": ["small"] * 3,
        "p_holm": [0.079, 0.0004, 0.7], "withheld": [False] * 3})
    empty = pd.DataFrame({"withheld": [], "item": [], "wave_label": []})
    report = SimpleNamespace(change=change, k=5, reliable=pd.DataFrame(),
                             typical=pd.DataFrame(), items=empty)
    sentences = _sentences(report)
    barriers = next(s for s in sentences if s.startswith("Perceived barriers"))
    assert "fell" not in barriers and "no clear change once the 3 scales" in barriers
    assert "Holm-adjusted p = .079" in barriers
    assert any(s.startswith("Stigma beliefs fell by 0.80") for s in sentences)
    assert "Holm-adjusted p" in HEADLINE_RULE


def test_favourable_shares_beside_each_mean_count_answers_by_the_scale_s_direction(
        app, trainer, setup):
    """Stigma (lower is better) keyed 4,5,3,4,4,5,3,4 before and 3,3,3,2,4,4,2,3 after; every
    other scale 3: the shares of answers below, at and above the midpoint, counted by hand."""
    run_cohort(app, setup, PRE, POST)
    doc = json.loads(trainer.get(f"/trainer/cohorts/{setup['cohort_id']}/report.json").data)
    means = {(r["construct"], r["wave_label"]): r for r in doc["tables"]["scale_means"]}
    expected = {("stigma", "Before training"): (0, 2 / 8, 6 / 8),
                ("stigma", "After training"): (2 / 8, 4 / 8, 2 / 8),
                ("intention", "After training"): (0, 1, 0)}
    for key, shares in expected.items():
        row = means[key]
        assert (row["favourable_share"], row["neutral_share"], row["unfavourable_share"]) \
            == pytest.approx(shares, abs=1e-12)
    page = trainer.get(f"/trainer/cohorts/{setup['cohort_id']}/report").text
    assert '<td class="num">0% / 25% / 75%</td>' in page
    assert '<td class="num">25% / 50% / 25%</td>' in page


def test_a_withheld_mean_withholds_its_shares(app, trainer, setup):
    run_cohort(app, setup, PRE[:3], POST[:3])
    doc = json.loads(trainer.get(f"/trainer/cohorts/{setup['cohort_id']}/report.json").data)
    for row in doc["tables"]["scale_means"]:
        assert row["withheld"] and row["favourable_share"] is None, row
    assert "33% /" not in trainer.get(f"/trainer/cohorts/{setup['cohort_id']}/report").text


def test_compare_pools_the_classes_changes_and_matches_the_meta_analysis(app, trainer, setup):
    """Two classes of eight: each class's stigma change and its variance s²/n, pooled by
    analysis.meta.random_effects (tested against metafor) exactly as the page shows."""
    import pandas as pd

    from analysis.meta import random_effects
    run_cohort(app, setup, PRE, POST)
    another_class(app, setup, "Second class", PRE, [4, 4, 2, 3, 4, 3, 3, 3])
    doc = json.loads(trainer.get("/trainer/compare.json").data)
    row = next(r for r in doc["tables"]["across_classes"] if r["construct"] == "stigma")
    diffs = [np.subtract(POST, PRE), np.subtract([4, 4, 2, 3, 4, 3, 3, 3], PRE)]
    ref = random_effects(pd.DataFrame({"effect": [d.mean() for d in diffs],
                                       "variance": [d.var(ddof=1) / 8 for d in diffs]}))
    assert row["k"] == 2
    assert row["effect"] == pytest.approx(ref.iloc[0]["effect"], rel=1e-9)
    assert row["tau2"] == pytest.approx(ref.iloc[0]["tau2"], abs=1e-9)
    page = trainer.get("/trainer/compare").text
    assert "Across classes: what to expect from the next one" in page
    assert f"{ref.iloc[0]['effect']:+.2f} (" in page.split('id="across"')[1]
