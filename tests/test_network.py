"""The network's benchmarks, through the routes on both engines: an agency that has not opted
in contributes nothing and sees nothing; a group needs 5 other agencies and 50 officers, and
widens when the narrow one is too small; the agency is never in its own group; and an attacker
who watches one agency's benchmarks while agencies opt in and out can never subtract two of
them to isolate fewer than 5 agencies."""
import datetime as dt
import json
import re

import numpy as np
import pytest
import sqlalchemy as sa
from scipy import stats

from survey import services
from survey.bank import current_bank
from survey.extensions import db
from survey.models import Agency, PublishedPart, PublishedResult, Role
from tests.conftest import (AuthActions, Officer, close_all, csrf_token, make_agency,
                            make_staff)


def pulse(app, agency_id, levels, days_ago=10):
    """A pulse of `agency_id` answered at these keyed levels, closed and published."""
    with app.app_context():
        agency = db.session.get(Agency, agency_id)
        code = services.start_pulse(agency, None, opens_on=dt.date.today()
                                    - dt.timedelta(days=days_ago), days_open=days_ago + 5).join_code
    for level in levels:
        officer = Officer(app.test_client(), code)
        officer.start()
        officer.questions()
        answers = {f"q_{i.code}": str(6 - level if i.reverse_keyed else level)
                   for i in current_bank().instrument_items("pulse")}
        assert officer.submit(answers).status_code == 302
    close_all(app, agency_id)


def member(app, name, levels, *, state="IL", headcount=60, opt_in=True):
    """An agency of the network with one published pulse; returns its id."""
    with app.app_context():
        agency = make_agency(name, headcount=headcount)
        agency.state, agency.benchmark_opt_in = state, opt_in
        db.session.commit()
        agency_id = agency.id
    pulse(app, agency_id, levels)
    return agency_id


def leader_of(app, agency_id):
    with app.app_context():
        email = make_staff(db.session.get(Agency, agency_id), Role.LEADER).email
    client = app.test_client()
    assert AuthActions(client).login(email).status_code == 302
    return client


def benchmark_of(client):
    return {r["construct"]: r for r in json.loads(
        client.get("/leadership/dashboard.json").data)["tables"]["benchmark"]}


def among(page):
    return page.split('id="among"')[1].split("</section>")[0]


def test_a_benchmark_against_five_similar_agencies_matches_numpy_and_scipy(app):
    others = {member(app, f"PD {i}", [2 + i % 3] * 10): 2 + i % 3 for i in range(5)}
    own = member(app, "Home PD", [4] * 6 + [3] * 4)
    client = leader_of(app, own)
    pulse(app, own, [4] * 6 + [3] * 4, days_ago=5)  # publishes again, the others in place
    table = benchmark_of(client)
    means = np.array(sorted(others.values()), dtype=float)
    row = table["intention"]
    assert row["n_agencies"] == 5 and row["officers"] == 50
    assert row["median"] == pytest.approx(np.median(means))
    assert (row["q1"], row["q3"]) == pytest.approx(tuple(np.percentile(means, [25, 75])))
    assert row["percentile"] == pytest.approx(stats.percentileofscore(means, 3.6, kind="mean"))
    assert not row["widened"]
    page = among(client.get("/leadership/").text)
    assert "Compared with 5 agencies of a similar size in the same census region" in page
    # cynicism: lower is better, so "better than" counts the agencies above this one
    cynicism = re.search(r"Cynicism.*?</tr>", page, re.S).group(0)
    better = 100 - stats.percentileofscore(means, 3.6, kind="mean")
    assert f"{round(better)}% of them" in cynicism


def test_an_agency_that_has_not_opted_in_gives_nothing_and_sees_nothing(app):
    for i in range(5):
        member(app, f"PD {i}", [3] * 10)
    outsider = member(app, "Outsider PD", [5] * 10, opt_in=False)
    own = member(app, "Home PD", [4] * 10)
    pulse(app, own, [4] * 10, days_ago=5)
    row = benchmark_of(leader_of(app, own))["intention"]
    assert row["n_agencies"] == 5 and row["median"] == pytest.approx(3.0)  # not the outsider's 5
    page = among(leader_of(app, outsider).get("/leadership/").text)
    assert "does not take part" in page and "Compared with" not in page
    with app.app_context():
        names = db.session.scalars(sa.select(PublishedPart.name).join(
            PublishedResult, PublishedResult.id == PublishedPart.result_id).where(
            PublishedResult.subject == f"agency:{outsider}")).all()
    assert "network.json" not in names


def test_a_small_group_shows_nothing_and_a_narrow_one_widens(app):
    for i in range(3):
        member(app, f"IL PD {i}", [3] * 10)
    for i in range(2):
        member(app, f"CA PD {i}", [3] * 10, state="CA")
    own = member(app, "Home PD", [4] * 10)
    pulse(app, own, [4] * 10, days_ago=5)
    client = leader_of(app, own)
    table = benchmark_of(client)
    assert table["intention"]["widened"] and table["intention"]["n_agencies"] == 5
    page = among(client.get("/leadership/").text)
    assert "agencies of a similar size in any region" in page and "the group is wider" in page
    # Too few officers: five agencies of nine officers each are 45.
    small = [member(app, f"Small PD {i}", [3] * 9, state="TX") for i in range(5)]
    home = member(app, "Texas PD", [4] * 10, state="TX", headcount=700)  # another size band
    pulse(app, home, [4] * 10, days_ago=5)
    client = leader_of(app, home)
    assert benchmark_of(client)["intention"]["n_agencies"] == 11  # everyone: widened to all
    assert small


def test_no_two_benchmarks_an_agency_sees_differ_by_fewer_than_five_agencies(app):
    """The attacker is the home agency's leader, reading its benchmark after each pulse while
    one agency opts out and another opts in: the group never moves by 1 to 4 agencies."""
    ids = [member(app, f"PD {i}", [3] * 10) for i in range(6)]
    own = member(app, "Home PD", [4] * 10)
    client = leader_of(app, own)
    seen = [benchmark_of(client)]
    assert seen[0]["intention"]["n_agencies"] == 6

    def set_opt_in(agency_id, value):
        with app.app_context():
            db.session.get(Agency, agency_id).benchmark_opt_in = value
            db.session.commit()

    set_opt_in(ids[0], False)  # one leaves: the group of 6 would become 5
    pulse(app, own, [4] * 10, days_ago=8)
    seen.append(benchmark_of(client))
    assert seen[-1] == {}  # nothing rather than a group one agency smaller
    assert "Not enough agencies take part yet" in among(client.get("/leadership/").text)
    newcomer = member(app, "New PD", [5] * 10)  # one joins: 5 + 1, two away from the first
    pulse(app, own, [4] * 10, days_ago=6)
    seen.append(benchmark_of(client))
    assert seen[-1] == {}
    set_opt_in(ids[0], True)  # the first group is whole again (and one more is waiting)
    pulse(app, own, [4] * 10, days_ago=4)
    seen.append(benchmark_of(client))
    assert seen[-1]["intention"]["n_agencies"] == 6  # the first group, held
    assert seen[-1]["intention"]["median"] == seen[0]["intention"]["median"]
    for i in range(4):  # enough newcomers to move the group by 5
        member(app, f"Later PD {i}", [2] * 10)
    pulse(app, own, [4] * 10, days_ago=2)
    seen.append(benchmark_of(client))
    assert seen[-1]["intention"]["n_agencies"] == 11
    shown = [t["intention"]["n_agencies"] for t in seen if t]
    assert all(a == b or abs(a - b) >= 5 for a in shown for b in shown), shown
    assert newcomer


def test_the_administrator_opts_in_with_the_statement_and_it_is_audited(app):
    with app.app_context():
        agency = make_agency("Admin PD", headcount=60)
        email = make_staff(agency, Role.ADMIN).email
        agency_id = agency.id
    client = app.test_client()
    assert AuthActions(client).login(email).status_code == 302
    page = client.get("/admin/settings").text
    assert "Never answer sheets, personal codes, units, shifts or comments" in page
    assert 'name="benchmark_opt_in"' in page and "checked" not in page.split(
        'name="benchmark_opt_in"')[1].split(">")[0]
    form = dict(re.findall(r'name="([a-z_]+)" (?:type="[a-z]+" )?value="([^"]*)"', page))
    data = {"csrf_token": csrf_token(page), "min_group_size": "5",
            "min_comment_group_size": "10", "pulse_cadence": "quarterly", "headcount": "60",
            "units": "", "shifts": "Days", "kind": "municipal", "state": "IL",
            "program_model": "partner", "benchmark_opt_in": "y", "comment_prompt": "",
            "retention_months": ""}
    assert form is not None
    reply = client.post("/admin/settings", data=data)
    assert reply.status_code == 302, reply.text
    with app.app_context():
        agency = db.session.get(Agency, agency_id)
        assert agency.benchmark_opt_in and agency.state == "IL" and agency.kind == "municipal"
    audit = client.get("/admin/audit").text
    assert "benchmark_opt_in" in audit or "Benchmark" in audit
    bad = client.post("/admin/settings", data={**data, "state": "ZZ"})
    assert bad.status_code == 200 and "Not a valid choice" in bad.text


def test_the_agency_toggling_its_own_opt_in_cannot_force_a_new_group(app):
    """The attacker is the home agency's administrator: opting out and in again, after one
    agency joined the network, must not show a group one agency larger than the one before."""
    for i in range(6):
        member(app, f"PD {i}", [3] * 10)
    own = member(app, "Home PD", [4] * 10)
    client = leader_of(app, own)
    assert benchmark_of(client)["intention"]["n_agencies"] == 6
    member(app, "New PD", [1] * 10)
    for value in (False, True):
        with app.app_context():
            db.session.get(Agency, own).benchmark_opt_in = value
            db.session.commit()
        pulse(app, own, [4] * 10, days_ago=8 if value is False else 6)
    row = benchmark_of(client)["intention"]
    assert row["n_agencies"] == 6 and row["median"] == pytest.approx(3.0)  # the first group


def test_an_open_pulse_with_interim_results_keeps_the_last_closed_pulse_in_the_network(app):
    ids = [member(app, f"PD {i}", [3] * 10) for i in range(5)]
    with app.app_context():
        agency = db.session.get(Agency, ids[0])
        agency.interim_results = True
        db.session.commit()
        services.start_pulse(agency, None, opens_on=dt.date.today() - dt.timedelta(days=1),
                             days_open=10)
    from survey import publishing
    with app.app_context():
        publishing.publish_agency(ids[0])
        body = publishing.part(publishing.latest(publishing.agency_subject(ids[0])),
                               "network.json")
    assert len(json.loads(body)["scales"]) == 8  # its closed pulse, not the open one


def test_a_group_that_adds_or_drops_one_agency_to_an_earlier_one_is_never_shown():
    """Three views G1 = L1 + S, G2 = L2, G3 = L1 + L2 differ pairwise by at least 5 agencies,
    yet G1 - G3 + G2 would isolate S: each side must hold 0 or at least 5 the other lacks."""
    from analysis.benchmarks import apart
    L1, L2, S = list(range(5)), list(range(10, 15)), [99]
    assert apart(L1 + S, L2) and not apart(L1 + L2, L1 + S)
    assert apart(L1 + L2, L1) and apart(L1, L1) and not apart(L1 + S, L1)
