"""The dashboard in a real JupyterLab, in both themes: every text readable against what is
actually drawn behind it, and a notebook saved while its job runs reopening on a note
that brings the dashboard back.  Screenshots are kept in ``test-artifacts/``."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.e2e.lab import Page, notebook, set_theme, shut_down_kernels

OURS = (".smnb-dashboard, .smnb-snapshot, .smnb-snapshot-log, .smnb-form, .smnb-saved, "
        ".smnb-comparison, .jp-RenderedPlotly")
FAILING = ("%%sm_train job --job-name theme-{theme}\n"
           "import time\n"
           "for step in range(1, 31):\n"
           "    print(f'step {{step}} train_loss={{1 / step:.4f}} val_loss={{1.3 / step:.4f}}',"
           " flush=True)\n"
           "    time.sleep(0.4)\n"
           "raise ValueError('the loss diverged')\n")
SECOND = ("%%sm_train other --job-name theme-{theme}-b --wait --hp lr=0.3\n"
          "for step in range(1, 9):\n"
          "    print(f'step {{step}} train_loss={{0.8 / step:.4f}} val_loss={{1.1 / step:.4f}}')\n")
COMPARE = "%sm_compare theme-{theme} theme-{theme}-b"
FORM = "%%sm_train form_job --form\nprint('from the form')\n"


def unreadable(texts: list[dict]) -> list[dict]:
    return [t for t in texts if t["ratio"] < 4.5]


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
    live = page.contrast(OURS)
    page.shot(f"dashboard-live-{theme}")
    live_chart = page.page.locator(".smnb-dashboard .js-plotly-plot").first
    template_bg = live_chart.evaluate("gd => gd._fullLayout.paper_bgcolor")
    assert template_bg == ("rgba(0,0,0,0)" if theme == "dark" else "white")

    page.page.locator(".smnb-snapshot", has_text="ValueError: the loss diverged").wait_for(
        timeout=120_000)
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


def test_a_notebook_saved_while_its_job_runs_reopens_on_a_note_and_attach_brings_it_back(
        lab, browser):
    url, root, base = lab
    set_theme(base, False)
    name = notebook(root, "saved-mid-run.ipynb", [
        "%load_ext sm_notebook",
        "%%sm_train job --job-name browser-saved\n"
        "import time\n"
        "for step in range(1, 900):  # at most 3 minutes, should the test fail\n"
        "    print(f'step {step} loss={1 / step:.4f}', flush=True)\n"
        "    time.sleep(0.2)\n",
        "job = %sm_attach browser-saved"])
    page = Page(browser, url, name)
    page.run_cell(0)
    page.run_cell(1)
    page.page.wait_for_selector(".smnb-dashboard .js-plotly-plot", timeout=120_000)
    note = page.page.locator(".smnb-saved-browser-saved")
    expect(note).to_be_hidden()  # while the dashboard is drawn
    page.page.wait_for_timeout(6_000)  # the note has been refreshed since the start
    page.save()
    saved = json.loads((root / name).read_text())
    assert "saved while the job ran" in json.dumps(saved["cells"][1]["outputs"])
    page.page.close()
    shut_down_kernels(url)  # as closing JupyterLab would: the widget models are gone

    reopened = Page(browser, url, name)
    note = reopened.page.locator(".smnb-saved-browser-saved").first  # the attach adds one
    expect(note).to_be_visible(timeout=30_000)
    expect(note).to_contain_text("saved while the job ran")
    expect(note).to_contain_text("job = %sm_attach browser-saved")
    expect(note).to_contain_text("browser-saved · local · InProgress")
    assert "0 lines" not in note.inner_text()  # the state when saved, not at the start
    expect(reopened.page.get_by_text("Error displaying widget")).to_be_hidden()
    reopened.shot("saved-mid-run-reopened", full_page=False)

    reopened.run_cell(0)
    reopened.run_cell(2)  # job = %sm_attach browser-saved
    reopened.page.wait_for_selector(".smnb-dashboard .js-plotly-plot", timeout=120_000)
    expect(note).to_be_hidden()  # the dashboard took its place
    reopened.shot("saved-mid-run-attached", full_page=False)
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
    expect(final.page.locator(".smnb-saved-browser-saved").first).to_be_hidden()
    expect(final.page.get_by_text("Error displaying widget")).to_be_hidden()
    final.shot("saved-after-the-end-reopened", full_page=False)
