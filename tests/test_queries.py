"""The loader: real rows become the tidy frame analysis takes, in a fixed number of queries."""
import sqlalchemy as sa

from analysis.change import change_report
from analysis.scoring import scale_scores
from survey.extensions import db
from survey.models import Cohort, Response, Wave
from survey.queries import cohort_frames
from tests.conftest import count_statements


def test_demo_cohort_loads_links_and_scores(app, runner):
    runner.invoke(args=["demo"])
    with app.app_context():
        cohort = db.session.scalars(sa.select(Cohort).order_by(Cohort.id)).first()
        data = cohort_frames(cohort)
        n_responses = db.session.scalar(sa.select(sa.func.count()).select_from(Response)
                                        .join(Wave).where(Wave.cohort_id == cohort.id))
    answers = data.answers
    assert set(answers.columns) >= {"response_id", "wave", "wave_kind", "followup_days",
                                    "cohort", "linkage_key", "item", "value"}
    assert answers["response_id"].nunique() == n_responses
    assert len(answers) == n_responses * 25
    assert set(answers["wave_kind"]) == {"pre", "post", "followup"}
    linked = answers.dropna(subset=["linkage_key"])
    assert linked["linkage_key"].str.startswith(f"{cohort.id}:").all()
    scores = scale_scores(answers, data.items)
    report = change_report(scores)
    stigma = report.loc[("stigma", "linked")]
    assert stigma["n"] >= 15 and stigma["mean_diff"] < 0  # the demo's training lowers stigma
    assert 0.5 < stigma["linkage_rate"] <= 1


def test_loading_a_cohort_takes_the_same_queries_whatever_its_size(app, runner):
    runner.invoke(args=["demo"])
    with app.app_context():
        cohorts = db.session.scalars(sa.select(Cohort).order_by(Cohort.id)).all()
        counts = []
        for cohort in cohorts[:3]:
            with count_statements(db.engine) as statements:
                cohort_frames(cohort)
            counts.append(len(statements))
    assert len(set(counts)) == 1 and counts[0] <= 4, counts
