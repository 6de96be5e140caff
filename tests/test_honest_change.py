"""Issue 10, honest change: who got worse, whether the linked officers are typical, whether it
lasted, and whether the scales still hang together. Answers go in through the officers' real
forms; the report page, its CSV and its JSON are checked against numpy and scipy computed step by
step from the answers posted, and every figure is withheld for a group under the minimum size."""
import csv
import datetime as dt
import io
import json
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.trajectory import BOUNDARY_NOTE
from survey import services
from survey.reports import cohort as cohort_reports
from survey.reports import common as report_common
from survey.reports import compare as compare_reports
from survey.bank import current_bank
from survey.extensions import db
from survey.models import Agency, Wave
from tests.conftest import Officer

LETTERS = "ACDEFGHJKMNPRTW"
K = 5
HONEST_TABLES = ("effect_sizes", "reliable_change", "combined_change", "linked_vs_unlinked",
                 "trajectory")


# --- Answers through the real forms -------------------------------------------------------------

def code_for(i: int) -> dict:
    return {"mother_initial": LETTERS[i % 15], "father_initial": LETTERS[(i * 7) % 15],
            "birth_month": str(1 + i % 12), "older_siblings": str(i % 4),
            "birthplace_initial": LETTERS[(i * 3 + 1) % 15], "first_car_initial": "F"}


def keyed_answers(codes: list[str], levels: dict, twist: int) -> dict:
    """Keyed value (1-5, agreement with the construct) per item: the officer's level on each
    scale; stigma items spread around it (+1, -1 rotated by `twist`), and the first two barriers
    items run against their scale."""
    bank = current_bank()
    out, seen = {}, {}
    for code in codes:
        item = bank.items[code]
        level = levels.get(item.construct, 3)
        j = seen[item.construct] = seen.get(item.construct, -1) + 1
        if item.construct == "stigma":
            level += (1, -1, 0, 0, 0, 0)[(j + twist) % 6]
        elif item.construct == "barriers" and j < 2:
            level = 6 - level
        out[code] = int(np.clip(level, 1, 5))
    return out


def take(app, join_code: str, levels: dict, *, person: int | None, twist: int = 0) -> dict:
    """One officer answers a wave (with their personal code, or skipping it); returns the keyed
    values posted, by item code."""
    officer = Officer(app.test_client(), join_code)
    officer.start()
    if person is None:
        officer.give_code(skip=True)
    else:
        officer.give_code(**code_for(person))
    fields = officer.fields()
    keyed = keyed_answers([f[2:] for f in fields], levels, twist)
    bank = current_bank()
    form = {f"q_{c}": str(6 - v if bank.items[c].reverse_keyed else v) for c, v in keyed.items()}
    assert officer.submit(form).status_code == 302
    return keyed


def make_class(app, agency_id: int, name: str, followup: bool = True) -> dict:
    with app.app_context():
        agency = db.session.get(Agency, agency_id)
        cohort = services.create_cohort(agency, name=name, held_on=dt.date(2026, 11, 20),
                                        trainer=None, topics=["relapse"],
                                        followups=[90] if followup else [])
        waves = {w.kind: (w.id, w.join_code) for w in cohort.waves}
        return {"cohort_id": cohort.id, **{kind.value: waves[kind] for kind in waves}}


def run_wave(app, klass: dict, kind: str, officers: list[tuple]) -> list[dict]:
    """Open the wave, have `officers` ((person or None, levels), ...) answer it, close it."""
    wave_id, join_code = klass[kind]
    with app.app_context():
        services.open_wave(db.session.get(Wave, wave_id), hours=24)
    posted = [{"person": person, "keyed": take(app, join_code, levels, person=person,
                                                twist=i + len(kind))}
              for i, (person, levels) in enumerate(officers)]
    with app.app_context():
        services.close_wave(db.session.get(Wave, wave_id))
    return posted


# Ten linked officers (0-9) before and after; six more before only and five more after only,
# without a personal code; six of the linked answer the 90-day follow-up.
STIGMA_PRE = [5, 4, 5, 4, 4, 5, 4, 5, 4, 4]
STIGMA_POST = [2, 3, 5, 3, 4, 2, 4, 5, 3, 5]
KNOW_PRE = [1, 2, 2, 1, 3, 2, 1, 2, 3, 2]
KNOW_POST = [4, 2, 3, 4, 3, 1, 3, 2, 5, 2]
BAR_PRE = [2, 3, 4, 3, 2, 4, 3, 2, 3, 4]
BAR_POST = [2, 2, 3, 3, 2, 3, 2, 2, 3, 3]
PRE_ONLY = [{"stigma": s, "knowledge": kn, "barriers": b} for s, kn, b in
            zip([1, 2, 1, 2, 2, 1], [3, 3, 4, 2, 3, 4], [3, 3, 3, 3, 3, 4])]
POST_ONLY = [{"stigma": s, "knowledge": kn, "barriers": b} for s, kn, b in
             zip([2, 1, 2, 3, 2], [3, 4, 4, 3, 2], [2, 3, 2, 3, 3])]
FOLLOW = [{"stigma": s, "knowledge": kn, "barriers": b} for s, kn, b in
          zip([3, 3, 4, 3, 4, 3], [3, 2, 3, 3, 3, 2], [2, 3, 3, 3, 2, 3])]


def levels(stigma, knowledge, barriers):
    return [{"stigma": s, "knowledge": kn, "barriers": b}
            for s, kn, b in zip(stigma, knowledge, barriers)]


def run_full_class(app, agency_id, name="Deflection basics, honest", linked=10):
    klass = make_class(app, agency_id, name)
    pre = run_wave(app, klass, "pre",
                   list(enumerate(levels(STIGMA_PRE, KNOW_PRE, BAR_PRE)[:linked]))
                   + [(None, lv) for lv in PRE_ONLY])
    post = run_wave(app, klass, "post",
                    list(enumerate(levels(STIGMA_POST, KNOW_POST, BAR_POST)[:linked]))
                    + [(None, lv) for lv in POST_ONLY])
    # Five of the ten linked officers answer the follow-up: both halves are at least k, so the
    # change since after training and the path from before can both be shown (with four left
    # out, the two together would give those four officers' change away).
    follow = run_wave(app, klass, "followup", list(enumerate(FOLLOW[:min(linked, 5)])))
    return klass, {"pre": pre, "post": post, "followup": follow}


def scale(posted: list[dict], construct: str) -> dict:
    """Scale score (mean of the keyed items) per response: {person or ('anon', i): score}."""
    codes = [c for c, i in current_bank().items.items() if i.construct == construct]
    return {(r["person"] if r["person"] is not None else ("anon", n)):
            np.mean([r["keyed"][c] for c in codes if c in r["keyed"]])
            for n, r in enumerate(posted)}


def linked_arrays(posted, construct, before="pre", after="post"):
    b, a = scale(posted[before], construct), scale(posted[after], construct)
    people = sorted(p for p in b if p in a and not isinstance(p, tuple))
    return np.array([b[p] for p in people]), np.array([a[p] for p in people])


def unlinked(posted, construct, wave):
    return np.array([v for p, v in scale(posted[wave], construct).items()
                     if isinstance(p, tuple)])


@pytest.fixture
def trainer(client, auth, setup):
    auth.login(setup["trainer_email"])
    return client


def report_json(client, cohort_id):
    return json.loads(client.get(f"/trainer/cohorts/{cohort_id}/report.json").data)


def report_csv(client, cohort_id, table):
    reply = client.get(f"/trainer/cohorts/{cohort_id}/report.csv?table={table}")
    assert reply.status_code == 200
    return list(csv.DictReader(io.StringIO(reply.text)))


def row_for(rows, **match):
    return next(r for r in rows if all(r[k] == v for k, v in match.items()))


def section(page: str, anchor: str) -> str:
    """The HTML from the heading with id `anchor` up to the next h2 or h3."""
    start = page.index(f'id="{anchor}"')
    end = re.search(r"<h[23][ >]", page[start + 10:])
    return page[start:start + 10 + end.start()] if end else page[start:]


# --- The report, checked against scipy ----------------------------------------------------------

def test_report_shows_honest_change_and_agrees_with_scipy(app, trainer, setup, monkeypatch):
    klass, posted = run_full_class(app, setup["agency_id"])
    cid = klass["cohort_id"]
    doc = report_json(trainer, cid)
    tables = doc["tables"]
    page = trainer.get(f"/trainer/cohorts/{cid}/report").text
    pre, post = linked_arrays(posted, "stigma")
    assert len(pre) == 10

    # Effect sizes side by side (Lakens 2013), with r.
    ref = stats.ttest_rel(post, pre)
    diff = post - pre
    d_av = diff.mean() / ((pre.std(ddof=1) + post.std(ddof=1)) / 2)
    g_av = d_av * (1 - 3 / (4 * 20 - 9))
    effect = row_for(tables["effect_sizes"], construct="stigma")
    assert effect["n"] == 10 and effect["withheld"] is False
    assert effect["d_z"] == pytest.approx(ref.statistic / np.sqrt(10), rel=1e-9)
    assert effect["d_av"] == pytest.approx(d_av, rel=1e-9)
    assert effect["g_av"] == pytest.approx(g_av, rel=1e-9)
    assert effect["r"] == pytest.approx(np.corrcoef(pre, post)[0, 1], rel=1e-9)
    for name in ("d_z", "d_av", "g_av"):
        assert effect[f"{name}_ci_low"] < effect[name] < effect[f"{name}_ci_high"]
    assert effect["in_sentences"] == "g_av" and doc["meta"]["effect_size_in_sentences"] == "g_av"
    sizes = section(page, "effect-sizes")
    assert f"{effect['d_av']:+.2f} ({effect['d_av_ci_low']:+.2f} to " \
        f"{effect['d_av_ci_high']:+.2f})" in sizes
    assert "The sentences under “In brief” use Hedges' <i>g</i><sub>av</sub>" in sizes
    assert "not inflated by the correlation" in sizes

    # Reliable change (Jacobson & Truax 1991) with the bank's reference alpha of .80.
    threshold = stats.norm.ppf(0.975) * np.sqrt(2) * pre.std(ddof=1) * np.sqrt(1 - 0.80)
    lower, higher = int((diff < -threshold).sum()), int((diff > threshold).sum())
    assert lower >= 2 and higher >= 1  # some improved and some got worse
    rc = row_for(tables["reliable_change"], construct="stigma")
    assert rc["reliability"] == pytest.approx(0.80) and rc["reliability_source"] == "reference"
    assert rc["threshold"] == pytest.approx(threshold, rel=1e-9)
    assert (rc["n_lower"], rc["n_higher"], rc["n_none"]) == (lower, higher, 10 - lower - higher)
    assert rc["favourable"] == "lower"  # less stigma is better: fewer is improvement
    assert (rc["n_improved"], rc["n_worse"]) == (lower, higher)
    assert rc["share_worse"] == pytest.approx(higher / 10)
    kpre, kpost = linked_arrays(posted, "knowledge")
    kthreshold = stats.norm.ppf(0.975) * np.sqrt(2) * kpre.std(ddof=1) * np.sqrt(0.2)
    know = row_for(tables["reliable_change"], construct="knowledge")
    assert know["favourable"] == "higher"
    assert know["n_improved"] == int((kpost - kpre > kthreshold).sum())
    assert know["n_worse"] == int((kpost - kpre < -kthreshold).sum())
    csv_rc = row_for(report_csv(trainer, cid, "reliable_change"), construct="stigma")
    assert float(csv_rc["n_improved"]) == lower and float(csv_rc["n_worse"]) == higher
    reliable = section(page, "reliable")
    assert 'id="chart-reliable"' in reliable and "<svg" in reliable
    assert f"{lower} ({lower / 10:.0%})" in reliable and f"{higher} ({higher / 10:.0%})" in reliable
    assert "0.80, the item bank’s reference value" in reliable
    assert "Stigma beliefs <span class=\"hint\">(lower is better)</span>" in reliable
    assert f"stigma beliefs: {lower} improved and {higher} got worse" in page

    # All the evidence in one test (Derrick et al. 2017, T_new2), step by step.
    x1 = np.r_[pre, unlinked(posted, "stigma", "pre")]
    x2 = np.r_[post, unlinked(posted, "stigma", "post")]
    na, nb, nc = 6, 5, 10
    n1, n2 = na + nc, nb + nc
    v1, v2 = x1.var(ddof=1), x2.var(ddof=1)
    r = np.corrcoef(pre, post)[0, 1]
    se = np.sqrt(v1 / n1 + v2 / n2 - 2 * r * np.sqrt(v1 * v2) * nc / (n1 * n2))
    t = (x2.mean() - x1.mean()) / se
    gamma = (v1 / n1 + v2 / n2) ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
    dof = (nc - 1) + (gamma - nc + 1) / (na + nb + 2 * nc) * (na + nb)
    p = 2 * stats.t.sf(abs(t), dof)
    crit = stats.t.ppf(0.975, dof)
    combined = row_for(tables["combined_change"], construct="stigma")
    assert (combined["n_paired"], combined["n_before_only"], combined["n_after_only"]) == \
        (10, 6, 5)
    assert combined["t"] == pytest.approx(t, rel=1e-9)
    assert combined["dof"] == pytest.approx(dof, rel=1e-9)
    assert combined["p_val"] == pytest.approx(p, rel=1e-9)
    assert combined["ci_low"] == pytest.approx(x2.mean() - x1.mean() - crit * se, rel=1e-9)
    assert "mean_before" not in combined and "mean_after" not in combined  # no means of mixes
    csv_combined = row_for(report_csv(trainer, cid, "combined_change"), construct="stigma")
    assert float(csv_combined["t"]) == pytest.approx(t, rel=1e-9)
    evidence = section(page, "combined")
    assert f"{t:+.2f} ({dof:.1f})" in evidence and "10 / 6 / 5" in evidence
    paired = stats.ttest_rel(post, pre).confidence_interval()
    assert f"{diff.mean():+.2f} ({paired.low:+.2f} to {paired.high:+.2f}), p" in evidence

    # Are the linked officers typical? Their before scores against the unlinked officers'.
    rest = unlinked(posted, "stigma", "pre")
    welch = stats.ttest_ind(pre, rest, equal_var=False)
    ci = welch.confidence_interval()
    typical = row_for(tables["linked_vs_unlinked"], construct="stigma")
    assert (typical["n_linked"], typical["n_unlinked"]) == (10, 6)
    assert typical["mean_diff"] == pytest.approx(pre.mean() - rest.mean(), rel=1e-9)
    assert (typical["ci_low"], typical["ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert typical["p_val"] == pytest.approx(welch.pvalue, rel=1e-9)
    assert typical["differs"] is True
    assert "mean_linked" not in typical and "mean_unlinked" not in typical
    sentence = ("Officers whose answers could be linked started higher on stigma beliefs "
                f"({pre.mean() - rest.mean():+.2f} points")
    assert typical["note"].startswith(sentence) and "may not hold for the others" in \
        typical["note"]
    assert sentence in section(page, "typical") and sentence in page.split('id="surveys"')[0]
    assert any(s.startswith(sentence) for s in doc["meta"]["sentences"])

    # Did it last? Change from before at the follow-up, with retention.
    fpre, ffollow = linked_arrays(posted, "stigma", "pre", "followup")
    assert len(fpre) == 5
    later = stats.ttest_rel(ffollow, fpre)
    lci = later.confidence_interval()
    path = row_for(tables["trajectory"], construct="stigma", wave_kind="followup")
    assert path["n"] == 5 and path["followup_days"] == 90
    assert path["mean_diff"] == pytest.approx((ffollow - fpre).mean(), rel=1e-9)
    assert (path["ci_low"], path["ci_high"]) == pytest.approx((lci.low, lci.high), rel=1e-9)
    assert path["retention"] == pytest.approx(5 / 16)
    after = row_for(tables["trajectory"], construct="stigma", wave_kind="post")
    assert after["mean_diff"] == pytest.approx(diff.mean(), rel=1e-9)
    lasting = section(page, "trajectory")
    assert 'id="chart-trajectory"' in lasting and "<svg" in lasting
    assert f"{(ffollow - fpre).mean():+.2f} ({lci.low:+.2f} to {lci.high:+.2f})" in lasting
    assert "5 (31%)" in lasting

    # Does the scale still mean the same thing? Two barriers statements run against the rest.
    codes = barrier_codes(posted["pre"][0])  # in the form's order: the first two run against
    flagged = sorted(codes[:2])
    checks = [r for r in tables["reliability"] if r["construct"] == "barriers"]
    assert len(checks) == 3 and all(r["alpha_low"] is True for r in checks)
    assert all(r["items_against"] == ", ".join(flagged) for r in checks)
    values = np.array([[r["keyed"][c] for c in codes] for r in posted["pre"]], dtype=float)
    for j, code in enumerate(codes):
        fit = row_for(tables["item_rest"], item=code, wave_label="Before training")
        rest_sum = values.sum(axis=1) - values[:, j]
        assert fit["item_rest"] == pytest.approx(np.corrcoef(values[:, j], rest_sum)[0, 1])
        assert fit["against_scale"] is (code in flagged)
    stigma_alpha = row_for(tables["reliability"], construct="stigma",
                           wave_label="Before training")
    assert stigma_alpha["alpha"] == pytest.approx(cronbach(posted["pre"], "stigma"), rel=1e-9)
    consistency = section(page, "alpha")
    assert "Alpha below 0.6" in consistency
    assert f"Runs against its scale: {', '.join(flagged)}" in consistency
    assert "runs against its scale</strong>" in consistency  # the statement-level flag

    # Every new table is in the exports and linked from the page.
    for name in HONEST_TABLES + ("item_rest",):
        assert name in tables and tables[name]
        assert f"table={name}" in page

    # With a lower bar for the class's own alpha, the report uses it and says so.
    # (a method change reaches published reports through `flask results publish`)
    monkeypatch.setattr(report_common, "RELIABILITY_MIN_N", 10)
    assert "Published" in app.test_cli_runner().invoke(args=["results", "publish"]).output
    own = row_for(report_json(trainer, cid)["tables"]["reliable_change"], construct="stigma")
    assert own["reliability_source"] == "cohort pre-wave alpha"
    assert own["reliability"] == pytest.approx(cronbach(posted["pre"], "stigma"), rel=1e-9)
    assert "the class’s own before-training alpha" in \
        trainer.get(f"/trainer/cohorts/{cid}/report").text


def barrier_codes(response) -> list[str]:
    return [c for c in response["keyed"] if current_bank().items[c].construct == "barriers"]


def cronbach(posted: list[dict], construct: str) -> float:
    codes = sorted(c for c in posted[0]["keyed"] if current_bank().items[c].construct ==
                   construct)
    values = np.array([[r["keyed"][c] for c in codes] for r in posted], dtype=float)
    k = values.shape[1]
    return k / (k - 1) * (1 - values.var(axis=0, ddof=1).sum() / values.sum(axis=1).var(ddof=1))


# --- Small groups show nothing ----------------------------------------------------------------

def test_three_linked_officers_show_none_of_it(app, trainer, setup):
    klass, posted = run_full_class(app, setup["agency_id"], name="Three linked", linked=3)
    cid = klass["cohort_id"]
    doc = report_json(trainer, cid)
    for name in HONEST_TABLES + ("follow_up",):
        rows = doc["tables"][name]
        assert rows, name
        for row in rows:
            assert row["withheld"] is True, (name, row)
            for column in ("mean_diff", "d_z", "g_av", "n_improved", "n_worse", "share_none",
                           "threshold", "t", "p_val", "ci_low", "r", "g", "differs"):
                assert row.get(column) is None, (name, column)
        for row in report_csv(trainer, cid, name):
            assert row["withheld"] == "True"
            for column in ("mean_diff", "d_z", "n_improved", "n_worse", "t", "ci_low", "g"):
                assert row.get(column, "") == "", (name, column)
    # The follow-up had three answers: its alpha and item-rest correlations are withheld too.
    for name, value in (("reliability", "alpha"), ("item_rest", "item_rest")):
        for row in doc["tables"][name]:
            if row["wave_label"] == "90-day follow-up":
                assert row["withheld"] and row[value] is None, (name, row)
                assert row.get("alpha_low") is None and not row.get("items_against")
                assert row.get("against_scale") is None
    assert not [s for s in doc["meta"]["sentences"]
                if "improved" in s or "started" in s or "points" in s and "linked" in s]

    page = trainer.get(f"/trainer/cohorts/{cid}/report").text
    assert "chart-reliable" not in page and "chart-trajectory" not in page
    for anchor in ("effect-sizes", "reliable", "typical", "trajectory"):
        body = section(page, anchor).split("<tbody>")[1].split("</tbody>")[0]
        rows = re.findall(r"<tr>.*?</tr>", body, flags=re.S)
        assert rows and all("Withheld: fewer than 5 responses" in r for r in rows), anchor
        if anchor != "trajectory":  # the trajectory keeps each survey's response count
            assert '<td class="num">' not in body, anchor
    for row in re.findall(r"<tr>.*?</tr>", section(page, "combined").split("<tbody>")[1],
                          flags=re.S):
        assert "Withheld: fewer than 5 responses" in row
    pre, post = linked_arrays(posted, "stigma")
    assert f"{(post - pre).mean():+.2f} (" not in page


def test_a_small_unlinked_remainder_cannot_be_worked_out(app, trainer, setup):
    """Eight officers linked, two more before training only, none after only: the before
    mean of all, the after mean of all (= the linked) and the linked change would give the two
    officers' mean away, so the before-training figures and the combined test are withheld."""
    klass = make_class(app, setup["agency_id"], "Two left early", followup=False)
    eight = levels(STIGMA_PRE[:8], KNOW_PRE[:8], BAR_PRE[:8])
    pre = run_wave(app, klass, "pre", list(enumerate(eight)) + [(None, lv) for lv in
                                                                 PRE_ONLY[:2]])
    post = run_wave(app, klass, "post", list(enumerate(
        levels(STIGMA_POST[:8], KNOW_POST[:8], BAR_POST[:8]))))
    cid = klass["cohort_id"]
    doc = report_json(trainer, cid)
    tables = doc["tables"]
    for row in tables["scale_means"]:
        if row["wave_label"] == "Before training":
            assert row["withheld"] and row["mean"] is None, row
            assert "subtraction" in row["withheld_reason"]
        else:
            assert not row["withheld"] and row["mean"] is not None
    assert all(r["withheld"] and r["agree_share"] is None for r in tables["item_agreement"]
               if r["wave_label"] == "Before training")
    for row in tables["combined_change"]:
        assert row["withheld"] and "subtraction" in row["withheld_reason"], row
    assert all(r["withheld"] for r in tables["linked_vs_unlinked"])
    change = row_for(tables["change"], construct="stigma")
    assert change["n"] == 8 and change["mean_diff"] is not None  # the change itself is shown
    everyone = np.mean(list(scale({"pre": pre}["pre"], "stigma").values()))
    page = trainer.get(f"/trainer/cohorts/{cid}/report").text
    assert f"{everyone:.2f}" not in page.split('id="downloads"')[0].split('id="means"')[1]
    assert f"{everyone:.2f}" not in json.dumps(tables["scale_means"])
    assert post  # the after wave was answered


@pytest.mark.parametrize("paired, before_only, after_only, shown", [
    (10, 0, 0, True),     # everyone linked: the combined test is the paired test
    (10, 6, 5, True),     # both remainders of at least k
    (10, 6, 0, True),     # a remainder of k or more in one wave only
    (4, 6, 6, False),     # fewer than k linked
    (10, 2, 0, False),    # two officers before only: worked out by subtraction
    (10, 0, 4, False),    # four after only
    (10, 9, 1, False),    # one after only, whatever the other wave
])
def test_combined_test_withheld_when_a_remainder_is_small(paired, before_only, after_only,
                                                         shown):
    raw = pd.DataFrame({"construct": ["stigma"], "n_paired": [paired],
                        "n_before_only": [before_only], "n_after_only": [after_only],
                        "mean_before": [3.0], "mean_after": [2.5], "mean_diff": [-0.5],
                        "r": [0.5], "se": [0.1], "t": [-5.0], "dof": [20.0], "p_val": [0.001],
                        "ci_low": [-0.7], "ci_high": [-0.3]}).set_index("construct")
    table = cohort_reports._combined_table(raw, pd.Series({"stigma": "Stigma beliefs"}), K)
    row = table.iloc[0]
    assert bool(row["withheld"]) is not shown
    assert pd.isna(row["mean_diff"]) is not shown and pd.isna(row["t"]) is not shown
    assert "mean_before" not in table.columns


# --- The comparison -----------------------------------------------------------------------------

def test_compare_shows_reliable_change_and_the_pooled_trajectory(app, trainer, setup,
                                                                  monkeypatch):
    big, posted = run_full_class(app, setup["agency_id"], name="Big class")
    other, _ = run_full_class(app, setup["agency_id"], name="Other class")
    small, _ = run_full_class(app, setup["agency_id"], name="Tiny class", linked=3)
    query = "&".join(f"cohort={c['cohort_id']}" for c in (big, other, small))
    doc = json.loads(trainer.get(f"/trainer/compare.json?{query}").data)
    mine = row_for(doc["tables"]["reliable_change"], cohort=big["cohort_id"],
                   construct="stigma")
    # worked out here from what the officers posted (Jacobson & Truax 1991, the item bank's
    # reference reliability for stigma), not from the report's own code
    pre, post = linked_arrays(posted, "stigma")
    threshold = stats.norm.ppf(0.975) * np.sqrt(2) * pre.std(ddof=1) * np.sqrt(1 - 0.80)
    diff = post - pre
    improved, worse = int((diff < -threshold).sum()), int((diff > threshold).sum())
    assert mine["reliability"] == pytest.approx(0.80)
    assert mine["threshold"] == pytest.approx(threshold, rel=1e-9)
    assert (mine["n"], mine["n_improved"], mine["n_worse"], mine["n_none"]) \
        == (len(diff), improved, worse, len(diff) - improved - worse)
    tiny = [r for r in doc["tables"]["reliable_change"] if r["cohort"] == small["cohort_id"]]
    assert tiny and all(r["withheld"] and r["n_worse"] is None for r in tiny)

    pooled = [r for r in doc["tables"]["pooled_trajectory"] if r["construct"] == "stigma"]
    assert [r["time_label"] for r in pooled] == ["After training", "Follow-up ~3 months"]
    assert all(r["converged"] and not r["withheld"] for r in pooled)
    # The tiny class is not in the model: only the two big classes' ten linked officers each.
    assert pooled[0]["n"] == 20 and pooled[1]["n"] == 10
    assert all(r["ci_low"] < r["mean_diff"] < r["ci_high"] for r in pooled)
    assert "random intercept per linked officer" in pooled[0]["model"]

    page = trainer.get(f"/trainer/compare?{query}").text
    assert 'id="chart-reliable"' in page and 'id="chart-pooled"' in page
    assert pooled[0]["model"] == "Linear mixed model: score ~ time point + cohort, random " \
        "intercept per linked officer; REML"
    assert pooled[0]["model"] + ". The change from before training is assumed the same in " \
        "every class" in page
    assert f"{pooled[1]['mean_diff']:+.2f} ({pooled[1]['ci_low']:+.2f} to " \
        f"{pooled[1]['ci_high']:+.2f})" in page
    for name in ("reliable_change", "pooled_trajectory", "changes", "tests"):
        assert f"table={name}" in page
        assert trainer.get(f"/trainer/compare.csv?{query}&table={name}").status_code == 200
    spec = page.split('data-target="chart-reliable">')[1].split("</script>")[0]
    assert "Tiny class" not in spec

    # A boundary fit shows the stated fallback model, and says so in one sentence.
    fit = compare_reports.pooled_trajectory

    def boundary(scores, **kw):
        out = fit(scores, **kw)
        stigma = out["construct"] == "stigma"
        out.loc[stigma, "fit_warning"] = BOUNDARY_NOTE
        out.loc[stigma, "model"] = "Ordinary least squares: score ~ time point + cohort"
        return out
    monkeypatch.setattr(compare_reports, "pooled_trajectory", boundary)
    app.test_cli_runner().invoke(args=["results", "publish"])  # drops kept comparisons
    page = trainer.get(f"/trainer/compare?{query}").text
    assert f"Stigma beliefs: {BOUNDARY_NOTE} Model: Ordinary least squares" in page
    assert pooled[0]["model"] + ". The change from before training" in page

    # A model that did not converge shows no estimate, and says so.

    def stalled(scores, **kw):
        out = fit(scores, **kw)
        out.loc[out["construct"] == "stigma", "converged"] = False
        return out
    monkeypatch.setattr(compare_reports, "pooled_trajectory", stalled)
    app.test_cli_runner().invoke(args=["results", "publish"])  # drops kept comparisons
    doc = json.loads(trainer.get(f"/trainer/compare.json?{query}").data)
    for row in doc["tables"]["pooled_trajectory"]:
        if row["construct"] == "stigma":
            assert row["withheld"] and row["mean_diff"] is None and row["ci_low"] is None
            assert "did not converge" in row["withheld_reason"]
        else:
            assert row["mean_diff"] is not None
    page = trainer.get(f"/trainer/compare?{query}").text
    assert "The model did not converge for Stigma beliefs, so no estimate is shown" in page
    assert f"{pooled[1]['mean_diff']:+.2f} ({pooled[1]['ci_low']:+.2f}" not in page


def test_the_reference_reliability_comes_from_the_item_bank():
    from survey.bank import BankError, bank_files, parse_bank, read_toml
    for path in bank_files():
        bank = parse_bank(read_toml(path))
        assert {c.reference_alpha for c in bank.constructs.values()} == {0.80}, path.name
    assert report_common.reference_alphas()["stigma"] == 0.80
    raw = read_toml(bank_files()[-1])
    del raw["constructs"][0]["reference_alpha"]
    assert parse_bank(raw).constructs[raw["constructs"][0]["code"]].reference_alpha is None
    for bad in (1.2, 0, "0.8", True):
        raw["constructs"][0]["reference_alpha"] = bad
        with pytest.raises(BankError, match="reference_alpha"):
            parse_bank(raw)


def test_classes_without_linked_officers_render_and_withhold(app, trainer, setup):
    """Before-training answers only, nobody giving a personal code, or no after-training
    survey: the report and the comparison still render, with nothing linked to show."""
    only_pre = make_class(app, setup["agency_id"], "Before only")
    run_wave(app, only_pre, "pre", [(None, lv) for lv in PRE_ONLY])
    nobody = make_class(app, setup["agency_id"], "Nobody linked")
    run_wave(app, nobody, "pre", [(None, lv) for lv in PRE_ONLY])
    run_wave(app, nobody, "post", [(None, lv) for lv in POST_ONLY + POST_ONLY[:1]])
    run_wave(app, nobody, "followup", [(None, lv) for lv in FOLLOW])
    for klass in (only_pre, nobody):
        assert trainer.get(f"/trainer/cohorts/{klass['cohort_id']}/report").status_code == 200
    tables = report_json(trainer, nobody["cohort_id"])["tables"]
    for name in HONEST_TABLES:
        assert tables[name] and all(r["withheld"] for r in tables[name]), name
    assert report_json(trainer, only_pre["cohort_id"])["tables"]["reliable_change"] == []
    page = trainer.get("/trainer/compare")
    assert page.status_code == 200 and "chart-pooled" not in page.text
    doc = json.loads(trainer.get("/trainer/compare.json").data)
    assert all(r["withheld"] for r in doc["tables"]["reliable_change"])
    assert doc["tables"]["pooled_trajectory"] == []
