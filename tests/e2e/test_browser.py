"""End to end in a real JupyterLab, driven in Debian's headless Chromium by Playwright
(``reference/test-infrastructure.md`` §2): notebooks are run as a user runs them, and the
dashboard is watched and clicked.  Screenshots are kept in ``test-artifacts/``."""

from __future__ import annotations

import shutil

from playwright.sync_api import expect

from tests.e2e.lab import ROOT, Page, notebook


def test_the_quickstart_runs_in_jupyterlab_and_its_dashboard_ends_completed(lab, browser):
    url, root, _ = lab
    shutil.copy(ROOT / "notebooks" / "quickstart.ipynb", root / "quickstart.ipynb")
    page = Page(browser, url, "quickstart.ipynb")
    page.run_all()
    snapshot = page.page.locator(".smnb-snapshot").first
    snapshot.wait_for(timeout=180_000)
    expect(snapshot).to_contain_text("Completed")
    snapshot.scroll_into_view_if_needed()
    page.shot("quickstart-completed", full_page=False)
    # the final chart is plotly's own output (drawn by JupyterLab's plotly renderer, no
    # widget): interactive, with the loss subplot titled by its last and best values
    final = page.page.locator(".jp-RenderedPlotly.js-plotly-plot").first
    final.wait_for(timeout=60_000)
    names = final.evaluate("gd => gd.data.map(t => t.name)")
    assert names == ["loss", "loss (smoothed)"]
    expect(final.locator(".annotation-text").first).to_contain_text("loss: ")
    expect(final.locator(".annotation-text").first).to_contain_text("(best ")
    expect(page.page.locator(".smnb-snapshot-log").first).to_contain_text("loss=")
    assert page.page.locator(".smnb-dashboard.widget-vbox").count() == 0  # widgets closed
    page.page.wait_for_selector(".jp-OutputArea-output :text('quickstart OK')",
                                timeout=120_000)
    snapshot.scroll_into_view_if_needed()
    page.shot("quickstart", full_page=False)
    assert page.errors == []


def test_a_running_job_is_charted_live_and_stopped_from_its_dashboard(lab, browser):
    url, root, _ = lab
    name = notebook(root, "long.ipynb", [
        "%load_ext sm_notebook",
        "%%sm_train job --job-name browser-long\n"
        "import time\n"
        "for step in range(1, 900):  # at most 3 minutes, should the test fail\n"
        "    print(f'step {step} loss={1 / step:.4f}', flush=True)\n"
        "    time.sleep(0.2)\n"])
    page = Page(browser, url, name)
    page.run_all()
    page.page.wait_for_selector(".smnb-dashboard .js-plotly-plot", timeout=120_000)
    page.page.wait_for_function(
        "() => { const gd = document.querySelector('.smnb-dashboard .js-plotly-plot');"
        " return gd && gd.data && gd.data.length && gd.data[0].x.length >= 5 }",
        timeout=120_000)
    page.shot("long-job-live")
    page.page.locator(".smnb-dashboard button", has_text="Stop").click()
    snapshot = page.page.locator(".smnb-snapshot").first
    snapshot.wait_for(timeout=120_000)
    expect(snapshot).to_contain_text("Stopped")
    page.shot("long-job-stopped")
    assert page.errors == []


def test_the_form_is_filled_in_and_launched_and_its_job_is_charted_to_completed(
        lab, browser):
    url, root, _ = lab
    name = notebook(root, "form.ipynb", [
        "%load_ext sm_notebook",
        "%%sm_train job --form\n"
        "import argparse, time\n"
        "parser = argparse.ArgumentParser()\n"
        "parser.add_argument('--epochs', type=int, default=1)\n"
        "args = parser.parse_args()\n"
        "for epoch in range(1, args.epochs + 1):\n"
        "    print(f'epoch {epoch} loss={1 / epoch:.4f}', flush=True)\n"
        "    time.sleep(0.3)\n"])
    page = Page(browser, url, name)
    page.run_all()
    form = page.page.locator(".smnb-form")
    form.wait_for(timeout=120_000)
    form.locator("button", has_text="hyperparameter").click()
    row = form.locator(".smnb-hp-row").first
    row.locator("input").nth(0).fill("epochs")
    row.locator("input").nth(1).fill("60")
    row.locator("input").nth(1).press("Enter")
    page.page.wait_for_selector(".smnb-form .smnb-line :text('--hp epochs=60')",
                                timeout=30_000)
    page.shot("form-filled")
    form.locator("button", has_text="Launch").click()
    page.page.wait_for_function(
        "() => { const gd = document.querySelector('.smnb-dashboard .js-plotly-plot');"
        " return gd && gd.data && gd.data.length && gd.data[0].x.length >= 3 }",
        timeout=120_000)
    page.shot("form-job-live")
    line = form.locator(".smnb-line")  # the launched line stays, to copy
    expect(line).to_contain_text("launched: %%sm_train job")
    expect(line).to_contain_text("the cell still says --form")
    line.locator("button", has_text="copy").click()
    expect(line.locator("button")).to_have_text("copied")
    copied = page.page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("%%sm_train job ") and "--hp epochs=60" in copied
    snapshot = page.page.locator(".smnb-snapshot").first
    snapshot.wait_for(timeout=120_000)
    expect(snapshot).to_contain_text("Completed")
    expect(page.page.locator(".smnb-snapshot-log").first).to_contain_text(
        "epoch 60 loss=0.0167")  # the form's value reached it
    page.shot("form-job-completed")
    assert page.errors == []
