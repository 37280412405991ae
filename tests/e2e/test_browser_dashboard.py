"""The dashboard in a real JupyterLab, in both themes: every text readable against what is
actually drawn behind it, and a notebook saved while its job runs reopening on a note
that brings the dashboard back.  Screenshots are kept in ``test-artifacts/``."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.lab import Page, notebook, set_theme, shut_down_kernels

OURS = (".smnb-dashboard, .smnb-snapshot, .smnb-snapshot-log, .smnb-form, .smnb-saved, "
        ".smnb-comparison, .jp-RenderedPlotly")
FAILING = ("%%sm_train job --job-name theme-{theme}\n"
           "import time\n"
           "for step in range(1, 31):\n"
           "    print(f'step {{step}}/30 train_loss={{1 / step:.4f}} "
           "val_loss={{1.3 / step:.4f}}', flush=True)\n"
           "    time.sleep(0.4)\n"
           "raise ValueError('the loss diverged')\n")
SECOND = ("%%sm_train other --job-name theme-{theme}-b --wait --hp lr=0.3\n"
          "for step in range(1, 9):\n"
          "    print(f'step {{step}} train_loss={{0.8 / step:.4f}} val_loss={{1.1 / step:.4f}}')\n")
COMPARE = "%sm_compare theme-{theme} theme-{theme}-b"
FORM = "%%sm_train form_job --form\nprint('from the form')\n"


def unreadable(texts: list[dict]) -> list[dict]:
    """The texts in view under 4.5:1 (those out of view have nothing measured behind)."""
    return [t for t in texts if t["ratio"] < 4.5 and not t["offscreen"]]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_text_of_the_dashboard_the_snapshot_and_the_form_reads_in_either_theme(
        lab, browser, theme):
    url, root, base = lab
    set_theme(base, theme == "dark")
    name = notebook(root, f"theme-{theme}.ipynb", [
        "%load_ext sm_notebook", FAILING.format(theme=theme), SECOND.format(theme=theme),
        COMPARE.format(theme=theme), FORM])
    page = Page(browser, url, name, height=4200)
    expect(page.page.locator("body")).to_have_attribute(
        "data-jp-theme-light", "false" if theme == "dark" else "true")
    page.run_all()
    page.page.wait_for_function(
        "() => { const gd = document.querySelector('.smnb-dashboard .js-plotly-plot');"
        " return gd && gd.data && gd.data.length && gd.data[0].x.length >= 3 }",
        timeout=120_000)
    page.page.locator(".smnb-form").wait_for(timeout=60_000)
    comparison = page.page.locator(".smnb-comparison")
    expect(comparison).to_contain_text(f"theme-{theme}-b")
    expect(comparison).to_contain_text("marked: the hyperparameters that differ (lr)")
    expect(page.page.locator(".smnb-dashboard .smnb-progress").first).to_contain_text(
        "step ")  # the header's progress bar, with rate and time left
    live = page.contrast(OURS)
    page.shot(f"dashboard-live-{theme}")
    live_chart = page.page.locator(".smnb-dashboard .js-plotly-plot").first
    template_bg = live_chart.evaluate("gd => gd._fullLayout.paper_bgcolor")
    assert template_bg == ("rgba(0,0,0,0)" if theme == "dark" else "white")

    failed = page.page.locator(".smnb-snapshot", has_text="ValueError: the loss diverged")
    failed.wait_for(timeout=120_000)
    expect(failed).to_contain_text("(train.py, line 6)")  # the raise, as the cell numbers it
    expect(page.page.locator(".jp-RenderedPlotly.js-plotly-plot")).to_have_count(
        3, timeout=60_000)  # each job's final chart and the comparison's
    final = page.contrast(OURS)
    page.shot(f"dashboard-final-{theme}")

    for texts in (live, final):
        shown = {t["text"] for t in texts}
        assert not [t for t in texts if t["offscreen"]]  # every text was measured in view
        assert {"Launch", "raw", "log y"} <= shown  # the form, the chart's buttons
        assert any("[algo-1]" in t for t in shown)  # the log's host tags
        assert any(t.startswith("loss:") for t in shown)  # the subplot's title
        assert "lr" in shown and f"theme-{theme}-b" in shown  # the comparison's table
        assert unreadable(texts) == [], json.dumps(unreadable(texts), indent=1)
    assert any("ValueError: the loss diverged" in t["text"] for t in final)  # the failure
    assert page.errors == []


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_notebook_saved_while_its_job_runs_reopens_on_a_note_and_attach_brings_it_back(
        lab, browser, theme):
    url, root, base = lab
    set_theme(base, theme == "dark")
    job = f"saved-{theme}"
    name = notebook(root, f"saved-mid-run-{theme}.ipynb", [
        "%load_ext sm_notebook",
        f"%%sm_train job --job-name {job}\n"
        "import time\n"
        "for step in range(1, 900):  # at most 3 minutes, should the test fail\n"
        "    print(f'step {step} loss={1 / step:.4f}', flush=True)\n"
        "    time.sleep(0.2)\n",
        f"job = %sm_attach {job}"])
    page = Page(browser, url, name)
    page.run_cell(0)
    page.run_cell(1)
    page.page.wait_for_selector(".smnb-dashboard .js-plotly-plot", timeout=120_000)
    note = page.page.locator(f".smnb-saved-{job}")
    expect(note).to_be_hidden()  # while the dashboard is drawn
    page.page.wait_for_timeout(6_000)  # the note has been refreshed since the start
    page.save()
    saved = json.loads((root / name).read_text())
    assert "saved while the job ran" in json.dumps(saved["cells"][1]["outputs"])
    page.page.close()
    shut_down_kernels(url)  # as closing JupyterLab would: the widget models are gone

    reopened = Page(browser, url, name)
    note = reopened.page.locator(f".smnb-saved-{job}").first  # the attach adds one
    expect(note).to_be_visible(timeout=30_000)
    expect(note).to_contain_text("saved while the job ran")
    expect(note).to_contain_text(f"job = %sm_attach {job}")
    expect(note).to_contain_text(f"{job} · local · InProgress")
    lines = re.search(r"(\d+) lines", note.inner_text())
    assert lines and int(lines[1]) > 0  # the state when saved, not at the start
    expect(reopened.page.get_by_text("Error displaying widget")).to_be_hidden()
    reopened.shot(f"saved-mid-run-reopened-{theme}", full_page=False)
    texts = reopened.contrast(OURS)
    assert any("saved while the job ran" in t["text"] for t in texts)
    assert unreadable(texts) == [], json.dumps(unreadable(texts), indent=1)

    reopened.run_cell(0)
    reopened.run_cell(2)  # job = %sm_attach NAME
    reopened.page.wait_for_selector(".smnb-dashboard .js-plotly-plot", timeout=120_000)
    expect(note).to_be_hidden()  # the dashboard took its place
    reopened.shot(f"saved-mid-run-attached-{theme}", full_page=False)
    reopened.page.locator(".smnb-dashboard button", has_text="Stop").click()
    expect(reopened.page.locator(".smnb-snapshot").first).to_contain_text("Stopped",
                                                                        timeout=120_000)
    expect(note).to_be_hidden()  # and the job's final state keeps it hidden
    # what JupyterLab's widget manager logs for the saved widget output, and nothing else
    assert [e for e in reopened.errors if "widget model not found" not in e] == []

    # saved again once it ended, and reopened with no kernel: the final state, as it was
    reopened.save()
    reopened.page.close()
    shut_down_kernels(url)
    final = Page(browser, url, name)
    expect(final.page.locator(".smnb-snapshot").first).to_contain_text("Stopped")
    chart = final.page.locator(".jp-RenderedPlotly").first
    expect(chart).to_be_visible(timeout=60_000)  # plotly's own output: no widget state
    expect(final.page.locator(".smnb-snapshot-log").first).to_contain_text("loss=")
    expect(final.page.locator(f".smnb-saved-{job}").first).to_be_hidden()
    expect(final.page.get_by_text("Error displaying widget")).to_be_hidden()
    final.shot(f"saved-after-the-end-reopened-{theme}", full_page=False)
    texts = final.contrast(OURS)
    assert unreadable(texts) == [], json.dumps(unreadable(texts), indent=1)


TWO_HOSTS = ("%%sm_train job --job-name hosts-{theme} --mode container "
             "--image smnb-test/sklearn:1 --instance-count 2\n"
             "import os, time\n"
             "scale = 1.2 if os.environ['SM_CURRENT_HOST'] == 'algo-2' else 1.0\n"
             "for step in range(1, 61):\n"
             "    print(f'step {{step}}/60 loss={{scale / step:.4f}}', flush=True)\n"
             "    time.sleep(0.25)\n")
HEX = ("c => '#' + c.match(/\\d+/g).slice(0, 3)"
       ".map(n => (+n).toString(16).padStart(2, '0')).join('')")  # rgb(…) → #rrggbb


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_two_hosts_share_one_colour_rule_and_the_log_filters_by_host_and_by_regex(
        lab, browser, theme):
    url, root, base = lab
    set_theme(base, theme == "dark")
    name = notebook(root, f"hosts-{theme}.ipynb", ["%load_ext sm_notebook",
                                                  TWO_HOSTS.format(theme=theme)])
    page = Page(browser, url, name, height=1800)
    page.run_all()
    board = page.page.locator(".smnb-dashboard").first
    page.page.wait_for_function(
        "() => { const gd = document.querySelector('.smnb-dashboard .js-plotly-plot');"
        " return gd && gd.data && gd.data.filter(t => t.x.length >= 3).length >= 4 }",
        timeout=180_000)
    toggles = board.locator(".widget-toggle-button")
    expect(toggles).to_have_text(["algo-1", "algo-2"])
    expect(board.locator(".smnb-progress").first).to_contain_text("step ")  # step N/60
    # one rule: a host's log tag has the colour of its lines in the chart
    lines = board.locator(".js-plotly-plot").first.evaluate(
        "gd => Object.fromEntries(gd.data.filter(t => !t.name.endsWith('(smoothed)'))"
        ".map(t => [t.name, t.line.color]))")
    for slot, host in enumerate(["algo-1", "algo-2"]):  # the log is redrawn as it goes
        page.page.wait_for_function(
            f"([slot, host, colour]) => {{ const tag = document.querySelector("
            f"`.smnb-dashboard .smnb-log .smnb-src-${{slot}}`);"
            f" return tag && tag.textContent === `[${{host}}]`"
            f" && ({HEX})(getComputedStyle(tag).color) === colour }}",
            arg=[slot, host, lines[f"loss ({host})"].lower()], timeout=10_000)
    log = board.locator(".smnb-log")
    box = board.locator("input[placeholder^='filter the log']")
    box.fill("[algo-2]")  # the host tag as shown matches
    expect(log).not_to_contain_text("[algo-1]")
    expect(log).to_contain_text("[algo-2] step")
    box.fill("")
    toggles.nth(1).click()  # algo-2 off
    expect(log).not_to_contain_text("[algo-2]")
    expect(log).to_contain_text("[algo-1] step")
    toggles.nth(1).click()
    board.locator(".widget-checkbox input").check()  # regex
    box.fill(r"step 2/")
    expect(log).not_to_contain_text("step 20/")
    box.fill(r"step 2\d/")  # a regex: step 20 to 29 only
    expect(board.locator(".smnb-muted", has_text="(regex)").first).to_be_visible()
    texts = page.contrast(OURS)
    page.shot(f"two-hosts-filtered-{theme}")
    assert unreadable(texts) == [], json.dumps(unreadable(texts), indent=1)
    page.page.locator(".smnb-snapshot", has_text="Completed").wait_for(timeout=180_000)
    assert page.errors == []
