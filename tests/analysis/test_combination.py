"""The linear audit of :func:`analysis.suppression.disclosed_groups`: what a reader can work out
by combining published sums, checked on cases solved by hand."""
from analysis.suppression import combination_guard, disclosed_groups

K = 5


def test_a_lone_after_only_officer_is_found_through_the_change():
    # 8 before (5 linked, 3 before only), 6 after (5 linked, 1 after only): the two means and
    # the linked change give S(after only) - S(before only), four officers.
    sizes = {"linked pre": 5, "before only": 3, "linked post": 5, "after only": 1}
    figures = [{"linked post": 1, "linked pre": -1}, {"linked pre": 1, "before only": 1},
               {"linked post": 1, "after only": 1}]
    assert disclosed_groups(sizes, figures, K) == {("before only", "after only")}
    assert disclosed_groups(sizes, figures[:2], K) == set()


def test_an_exact_remainder_and_a_guard_that_keeps_the_most_important_first():
    sizes = {"linked pre": 8, "before only": 2, "linked post": 8}
    figures = {"change": {"linked post": 1, "linked pre": -1},
               "after mean": {"linked post": 1},
               "before mean": {"linked pre": 1, "before only": 1}}
    assert disclosed_groups(sizes, list(figures.values()), K) == {("before only",)}
    assert combination_guard(sizes, figures, K) == ["before mean"]
    # A mean published earlier stays known: the other goes instead.
    assert combination_guard(sizes, {k: v for k, v in figures.items() if k != "before mean"},
                             K, known=[figures["before mean"]]) == ["after mean"]


def test_groups_count_officers_not_answer_sheets():
    # Ten linked, six of them at the follow-up: the change, the change since after training
    # and the change from before to the follow-up give the other four officers' change (eight
    # answer sheets, four officers).
    sizes = {("pre", "fu"): 6, ("post", "fu"): 6, ("fu", "fu"): 6,
             ("pre", "no fu"): 4, ("post", "no fu"): 4}
    people = {a: a[1] for a in sizes}
    figures = {"change": {("post", "fu"): 1, ("post", "no fu"): 1, ("pre", "fu"): -1,
                          ("pre", "no fu"): -1},
               "since after": {("fu", "fu"): 1, ("post", "fu"): -1},
               "from before": {("fu", "fu"): 1, ("pre", "fu"): -1}}
    assert disclosed_groups(sizes, list(figures.values()), K) == set()  # counted as sheets
    assert disclosed_groups(sizes, list(figures.values()), K, people=people) == {
        (("pre", "no fu"), ("post", "no fu"))}
    assert combination_guard(sizes, figures, K, people=people) == ["from before"]


def test_large_groups_are_never_flagged():
    sizes = {"a": 5, "b": 7}
    assert disclosed_groups(sizes, [{"a": 1}, {"b": 1}, {"a": 1, "b": 1}], K) == set()
