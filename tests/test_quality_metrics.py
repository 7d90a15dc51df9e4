"""The clustering figures the quality benchmark and `archive calibrate` report."""

from __future__ import annotations

from archive.core import metrics

GOLD = {"a": 1, "b": 1, "c": 1, "d": 2, "e": 2, "f": 3}


def test_perfect_clustering_scores_one():
    pred = {k: f"x{v}" for k, v in GOLD.items()}
    assert metrics.pairwise(GOLD, pred).f1 == 1.0
    assert metrics.bcubed(GOLD, pred).f1 == 1.0
    assert metrics.adjusted_rand_index(GOLD, pred) == 1.0
    assert metrics.chaining(GOLD, pred) == metrics.Chaining(0, 0)


def test_one_merged_cluster_counts_pairs_and_chaining():
    pred = {k: 0 for k in GOLD}  # everything chained into one cluster
    prf = metrics.pairwise(GOLD, pred)
    assert (prf.true_positives, prf.predicted, prf.gold) == (4, 15, 4)
    assert prf.recall == 1.0 and prf.precision == round(4 / 15, 4)
    assert metrics.chaining(GOLD, pred) == metrics.Chaining(misplaced=3, fused_clusters=1)
    assert metrics.adjusted_rand_index(GOLD, pred) == 0.0


def test_singletons_have_full_precision_no_recall():
    pred = {k: k for k in GOLD}
    prf = metrics.pairwise(GOLD, pred)
    assert (prf.precision, prf.recall) == (1.0, 0.0)
    b3 = metrics.bcubed(GOLD, pred)
    assert b3.precision == 1.0 and b3.recall == round((3 * 1 / 3 + 2 * 1 / 2 + 1) / 6, 4)


def test_labelled_pairs_and_threshold_table():
    pred = {"a": 1, "b": 1, "c": 2}
    prf = metrics.labelled_pairs([("a", "b", True), ("a", "c", True), ("b", "c", False), ("a", "z", False)], pred)
    assert (prf.true_positives, prf.predicted, prf.gold) == (1, 1, 2)
    table = metrics.threshold_table([(0.9, True), (0.5, True), (0.4, False), (0.1, False)], [0.3, 0.45, 0.95])
    assert [(r.precision, r.recall) for r in table] == [(round(2 / 3, 4), 1.0), (1.0, 1.0), (1.0, 0.0)]


def test_intervals_of_a_perfect_clustering_are_one():
    pred = {k: f"x{v}" for k, v in GOLD.items()}
    interval = metrics.pairwise_interval(GOLD, pred)
    assert (interval.precision, interval.recall, interval.f1) == ((1.0, 1.0),) * 3
    together = metrics.labelled_interval([("a", "b", True), ("d", "e", True), ("a", "f", False)], pred)
    assert together.f1 == (1.0, 1.0)


def test_pairwise_interval_draws_whole_units():
    # Unit 1's gold pair was found, unit 2's was split: a draw holds both units (recall 0.5, half
    # the draws), unit 1 twice (1.0) or unit 2 twice (0.0), a quarter each.
    gold = {"a": 1, "b": 1, "c": 2, "d": 2}
    pred = {"a": "x", "b": "x", "c": "y", "d": "z"}
    assert metrics.pairwise_interval(gold, pred, rounds=4000, level=0.4).recall == (0.5, 0.5)
    assert metrics.pairwise_interval(gold, pred, rounds=4000, level=0.9).recall == (0.0, 1.0)


def test_pairwise_interval_counts_false_merges_across_drawn_units():
    # Both units fused: with both drawn, 2 of the 6 predicted pairs are right; with one unit drawn
    # twice, its copies are two samples of it and nothing crosses them.
    gold = {"a": 1, "b": 1, "c": 2, "d": 2}
    pred = {k: 0 for k in gold}
    assert metrics.pairwise(gold, pred).precision == round(2 / 6, 4)
    interval = metrics.pairwise_interval(gold, pred, rounds=4000, level=0.4)
    assert interval.precision == (round(2 / 6, 4), 1.0)
    units = {"a": "t", "b": "t", "c": "t", "d": "t"}  # one topic: every draw is the whole sample
    assert metrics.pairwise_interval(gold, pred, units).precision == (round(2 / 6, 4),) * 2


def test_labelled_interval_draws_pairs_reproducibly():
    pred = {"a": 1, "b": 1, "c": 2, "d": 3}
    pairs = [("a", "b", True), ("c", "d", True)]
    assert metrics.labelled_interval(pairs, pred, rounds=4000, level=0.4).recall == (0.5, 0.5)
    assert metrics.labelled_interval(pairs, pred, seed=7) == metrics.labelled_interval(pairs, pred, seed=7)
    # nothing to draw: the figures of no pairs at all, as `PRF.from_counts(0, 0, 0)` gives them
    assert metrics.labelled_interval([], pred).f1 == (1.0, 1.0) == metrics.pairwise_interval({}, {}).f1
