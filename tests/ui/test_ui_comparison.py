"""``%sm_compare``: the jobs' metrics on shared subplots in one colour per job, and their
hyperparameters and final metrics side by side, as plain outputs a saved notebook keeps."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from IPython.core.error import UsageError

from sm_notebook.ui.snapshot import PLOTLY_MIME
from sm_notebook.ui.theme import LIGHT_SOURCES

SCRIPT = ("import argparse\n"
          "parser = argparse.ArgumentParser()\n"
          "parser.add_argument('--lr', type=float)\n"
          "parser.add_argument('--epochs', type=int)\n"
          "args = parser.parse_args()\n"
          "for epoch in range(1, args.epochs + 1):\n"
          "    print(f'epoch {epoch} train_loss={args.lr / epoch:.4f} "
          "val_loss={2 * args.lr / epoch:.4f}')\n")


@pytest.fixture
def two_runs(ip):
    for name, lr in (("run-a", 0.1), ("run-b", 0.3)):
        ip.run_cell_magic("sm_train", f"job --job-name {name} --wait --quiet --hp lr={lr} "
                          "--hp epochs=4", SCRIPT)
    return ["run-a", "run-b"]


def test_the_jobs_share_each_metric_s_subplot_one_colour_per_job(ip, two_runs):
    shown = ip.run_line_magic("sm_compare", " ".join(two_runs))
    figure, _table = (part.bundle for part in shown.parts)
    spec = figure[PLOTLY_MIME]
    raw = [t for t in spec["data"] if not t["name"].endswith("(smoothed)")]
    assert [t["name"] for t in raw] == ["loss (run-a)", "loss (run-b)", "val_loss (run-a)",
                                        "val_loss (run-b)"]  # train and val on one subplot
    assert {t["yaxis"] for t in raw} == {"y"}
    assert [t["line"]["color"] for t in raw] == [LIGHT_SOURCES[0], LIGHT_SOURCES[1]] * 2
    assert [t["line"]["dash"] for t in raw] == ["solid", "solid", "dash", "dash"]
    assert spec["layout"]["legend"]["title"]["text"].startswith("colour: job · dash: metric")
    (title,) = [a["text"] for a in spec["layout"]["annotations"]]
    assert title == "loss: loss best 0.025 (run-a) · val_loss best 0.05 (run-a)"
    assert "plotly.min.js" not in json.dumps(figure)  # no widget, no bundle
    texts = [t.text for t in ET.fromstring(figure["image/svg+xml"]).iter(
        "{http://www.w3.org/2000/svg}text")]
    assert title in texts  # the static fallback says the same


def test_the_table_marks_the_hyperparameters_that_differ(ip, two_runs):
    shown = ip.run_line_magic("sm_compare", " ".join(two_runs))
    table = shown.parts[-1].bundle
    assert table["text/plain"].splitlines()[:3] == [
        "job    status     lr*  epochs  loss   val_loss",
        "run-a  Completed  0.1  4       0.025  0.05",
        "run-b  Completed  0.3  4       0.075  0.15"]
    page = table["text/html"]
    assert page.count("font-weight:700") == 3  # the lr heading and its two cells
    assert 'class="smnb-src-0"' in page and 'class="smnb-src-1"' in page  # chart colours
    assert "marked: the hyperparameters that differ (lr)" in page
    frame = shown.table
    assert frame.loc["run-b", "lr"] == 0.3 and frame.loc["run-a", "val_loss"] == 0.05


def test_compare_takes_handles_too_and_shows_itself_once(ip, two_runs):
    import sm_notebook

    handle = ip.user_ns["job"]  # run-b, followed in this kernel
    shown = sm_notebook.compare(["run-a", handle])
    assert [run.name for run in shown.runs] == ["run-a", "run-b"]
    result = ip.run_cell("%sm_compare run-a run-b")
    assert result.success and result.result is not None  # the cell's value, shown once


@pytest.mark.parametrize(("line", "message"), [
    ("run-a", "%sm_compare: give two or more jobs"),
    ("run-a run-c", "%sm_compare: no job named 'run-c' .*did you mean run-[ab]"),
    ("run-a ../x", "%sm_compare: invalid job name '../x'"),
])
def test_bad_names_are_one_line_usage_errors(ip, two_runs, line, message):
    with pytest.raises(UsageError, match=message):
        ip.run_line_magic("sm_compare", line)
