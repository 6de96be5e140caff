"""Reports built from the loader and `analysis/`, small groups withheld before anything leaves:
the cohort report, the comparison of cohorts, pulses and the dashboard, response-level data."""
from .cohort import (HEADLINE_EFFECT, HEADLINE_RULE, HEADLINE_WHY, CohortReport, brief_lines,
                     cohort_report, withheld_summary)
from .common import RELIABILITY_MIN_N, like_with_like
from .compare import Comparison, compare_cohorts, filter_cohorts
from .pulses import Dashboard, Results, dashboard, officer_results, pulse_brief_lines
from .responses import ResponseData, response_data

__all__ = ["HEADLINE_EFFECT", "HEADLINE_RULE", "HEADLINE_WHY", "RELIABILITY_MIN_N",
           "CohortReport", "Comparison", "brief_lines", "pulse_brief_lines", "withheld_summary",
           "Dashboard", "ResponseData", "Results", "cohort_report", "compare_cohorts",
           "dashboard", "filter_cohorts", "like_with_like", "officer_results", "response_data"]
