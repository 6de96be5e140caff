"""Command-line tasks: the first administrator, demo data, the bank check."""
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Agency, Answer, Cohort, Response, Role, StaffUser, Wave, WaveKind
from survey import demo


def test_create_user_makes_the_agency_and_a_hashed_account(app, runner):
    result = runner.invoke(args=["create-user", "chief@example.org", "--agency", "Mesa PD",
                                 "--role", "admin", "--password", "long enough password"])
    assert result.exit_code == 0, result.output
    assert "Created admin chief@example.org in Mesa PD" in result.output
    with app.app_context():
        user = db.session.scalars(sa.select(StaffUser)).one()
        assert user.role is Role.ADMIN and user.agency.name == "Mesa PD"
        assert user.agency.min_group_size == 5
        assert user.check_password("long enough password")


def test_create_user_refuses_short_passwords_and_duplicates(app, runner):
    short = runner.invoke(args=["create-user", "a@example.org", "--agency", "X",
                                "--password", "short"])
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    runner.invoke(args=["create-user", "a@example.org", "--agency", "X",
                        "--password", "long enough password"])
    again = runner.invoke(args=["create-user", "A@example.org", "--agency", "X",
                                "--password", "long enough password"])
    assert again.exit_code != 0 and "already exists" in again.output


def test_demo_fills_an_empty_database_with_something_real(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    for email, _, _ in demo.USERS:
        assert email in result.output
    assert "Open now (Before training, Deflection basics, weekend shift):" in result.output
    assert "Open now (Agency pulse):" in result.output
    with app.app_context():
        cohorts = db.session.scalars(sa.select(Cohort)).all()
        assert len(cohorts) >= 3
        finished = [c for c in cohorts if c.waves[0].status().value == "closed"]
        assert len(finished) == 3
        for cohort in finished:
            pre, post = cohort.waves[0], cohort.waves[1]
            assert post.kind is WaveKind.POST
            pre_scores = _mean_stigma(pre.id)
            post_scores = _mean_stigma(post.id)
            assert post_scores < pre_scores  # a plausible shift after training
        training = sa.select(Response.id).join(Wave).where(Wave.cohort_id.is_not(None))
        linked = db.session.scalar(sa.select(sa.func.count()).select_from(Response).where(
            Response.id.in_(training), Response.linkage.is_not(None)))
        total = db.session.scalar(sa.select(sa.func.count()).select_from(training.subquery()))
        assert 0.6 < linked / total < 0.95  # realistic partial linkage
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer).where(
            Answer.response_id.in_(training))) == total * 25
        pulses = db.session.scalars(sa.select(Wave).where(Wave.kind == WaveKind.PULSE)).all()
        assert len(pulses) >= 12  # three years of quarterly pulses, and one open now


def _mean_stigma(wave_id):
    from survey.models import Item
    rows = db.session.execute(
        sa.select(Answer.value, Item.reverse_keyed).join(Item).join(Response)
        .where(Response.wave_id == wave_id, Item.code.like("STG%"))).all()
    return sum((6 - v) if rev else v for v, rev in rows) / len(rows)


def test_demo_refuses_a_database_with_data_unless_if_empty(app, runner):
    runner.invoke(args=["create-user", "a@example.org", "--agency", "Real PD",
                        "--password", "long enough password"])
    refused = runner.invoke(args=["demo"])
    assert refused.exit_code != 0 and "already holds data" in refused.output
    quiet = runner.invoke(args=["demo", "--if-empty"])
    assert quiet.exit_code == 0
    with app.app_context():
        assert db.session.scalars(sa.select(Agency.name)).all() == ["Real PD"]


def test_bank_check_summarises_the_bank(runner):
    result = runner.invoke(args=["bank", "check"])
    assert result.exit_code == 0
    assert "Item bank version 2: 46 items, 12 constructs" in result.output


def test_demo_reports_progress_to_the_end(app):
    from survey import demo
    steps = []
    with app.app_context():
        demo.load(progress=steps.append)
    assert sum(steps) == demo.STEPS and len(steps) == demo.STEPS


def test_make_run_the_next_day_still_leaves_something_open_to_try(app, runner):
    """The demo's training survey closes a day after loading; `make run` the next day (it runs
    `flask demo --if-empty`) opens a class held today and a pulse, and prints their codes."""
    from survey import services
    assert runner.invoke(args=["demo"]).exit_code == 0
    with app.app_context():
        for wave in demo.demo_join_codes():  # a day later, nothing is open any more
            services.close_wave(wave)
        assert demo.demo_join_codes() == []
    again = runner.invoke(args=["demo", "--if-empty"])
    assert again.exit_code == 0, again.output
    assert "opened a class held today" in again.output and "opened a pulse" in again.output
    assert "Open now (Before training, Deflection basics," in again.output
    assert "Open now (Agency pulse):" in again.output
    with app.app_context():
        assert {w.kind for w in demo.demo_join_codes()} == {WaveKind.PRE, WaveKind.PULSE}
    quiet = runner.invoke(args=["demo", "--if-empty"])  # while they are open, nothing more
    assert "opened" not in quiet.output
