"""The ingest benchmark's closing table: each target beside what the run measured."""

from __future__ import annotations

from benchmarks.ingest import last_cycle, print_targets, target_rows


def _run(size, rate, first, last, rss, similar_ms, **extra):
    sqlite = {"rate": rate, "first_window_rate": first, "last_window_rate": last, "peak_rss": rss,
              "similar": {"median_ms": similar_ms, "p95_ms": similar_ms * 2}}
    return {"size": size, "sqlite": sqlite, **extra}


def test_targets_are_judged_on_the_sizes_they_name():
    results = [
        _run(10_000, 600, 610, 610, 700 * 2**20, 4.0, ratio=3.7, plain={"rate": 162}),
        _run(100_000, 500, 650, 400, 900 * 2**20, 6.0, ratio=2.6, plain={"rate": 192},
             postgresql={"rate": 340}),
        _run(1_000_000, 300, 640, 400, 1100 * 2**20, 12.0),
        {"warc": {"workers_cpu_seconds": [30.0, 10.0]}},
    ]
    ratio, flatness, similar, rss, postgresql, warc = [(measured, met) for _, measured, met in target_rows(results)]
    assert ratio == ("2.60x at 100,000 (500/s against 192/s)", False)
    assert flatness[1] is False and "1.60x" in flatness[0]  # 640 / 400
    assert similar[1] is True
    assert rss == ("1,100 MiB at 1,000,000", False)
    assert postgresql[1] is True
    assert warc[1] is False  # one worker did a third of the other's work


def test_a_run_short_of_the_target_size_says_so(capsys):
    print_targets([_run(100_000, 500, 700, 600, 800 * 2**20, 5.0)])
    out = capsys.readouterr().out
    assert "1.17x" in out and "not measured at that size" in out and "NOT MET" not in out


def test_the_last_cycle_is_the_last_whole_windows_holding_it():
    # (articles read at the window's end, articles/s, CPU ms per article, ...): 10,000 per window
    windows = [(10_000, 500.0, 3.0), (20_000, 400.0, 4.0), (30_000, 200.0, 6.0), (40_000, 400.0, 4.0)]
    cycle = last_cycle(windows, 20_000)
    assert cycle["articles"] == 20_000
    assert abs(cycle["rate"] - 20_000 / (50 + 25)) < 1e-9  # 50 s and 25 s: not the mean of the rates
    assert abs(cycle["cpu_ms"] - 5.0) < 1e-9
    assert last_cycle(windows, 30_000)["articles"] == 30_000
    assert last_cycle(windows, 35_000) is None  # the first window (the start) is never part of it


def test_flatness_is_judged_over_the_last_cycle_when_the_run_holds_one():
    run = _run(1_000_000, 300, 520, 250, 900 * 2**20, 8.0)
    run["sqlite"]["last_cycle"] = {"articles": 50_000, "rate": 420.0, "cpu_ms": 4.0}
    flatness = target_rows([run])[0]
    assert flatness[2] is True  # 520 / 420 = 1.24x, though the last window alone was 2.08x
    assert "1.24x" in flatness[1] and "2.08x" in flatness[1]
