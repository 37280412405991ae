"""The sweep dashboard in a real JupyterLab, in both themes: a notebook runs a local grid
sweep of four trials, two at once; the trial table gains rows while the sweep runs and
sorts by a click on a heading, the parallel-coordinates plot is drawn, a save mid-sweep
keeps the note that brings it back, and the sweep's end leaves the final table and figure
as plain outputs.  Every text reads against what is drawn behind it.  Screenshots are
kept in ``test-artifacts/``."""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.lab import Page, notebook, set_theme
from tests.e2e.test_browser_dashboard import unreadable
from tests.tuning.test_local_sweeps import CLIMB as CLIMB_QUICKLY

#: a trial climbs to x × 8 after a pause: rows and curves come while others still run
CLIMB = "import time\ntime.sleep(8)\n" + CLIMB_QUICKLY  # a wide window, on a busy machine too


def tune(name: str, more: str = "") -> str:
    """The cell: a grid sweep of x over 0..3, two trials at once."""
    return (f"%%sm_tune sweep --job-name {name} --hp-range x=int:0:3 --metric "
            "score='score=([-0-9.]+)' --objective Maximize:score --strategy grid "
            f"--max-jobs 4 --max-parallel 2{more}\n{CLIMB}")


PARCOORDS = ("() => { const gd = document.querySelector('.smnb-sweep .js-plotly-plot');"
             " const t = gd && gd.data && gd.data.find(t => t.type === 'parcoords');"
             " return !!(t && t.dimensions[0].values.length"
             " && gd.querySelector('.parcoords .y-axis')); }")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_sweep_table_gains_rows_live_and_the_parallel_coordinates_are_drawn(
        lab, browser, theme):
    url, root, base = lab
    set_theme(base, theme == "dark")
    sweep = f"sweep-{theme}"
    name = notebook(root, f"sweep-{theme}.ipynb", ["%load_ext sm_notebook", tune(sweep)])
    meta = base / "jobs" / ".sweeps" / sweep / "sweep.json"
    page = Page(browser, url, name, height=1800)
    try:
        page.run_all()
        rows = page.page.locator(".smnb-sweep .smnb-sweep-table tbody tr")
        seen: list[tuple[int, str]] = []  # (rows, the sweep's status then)
        deadline = time.monotonic() + 180
        while not page.page.evaluate(PARCOORDS) or rows.count() < 4:
            status = json.loads(meta.read_text()).get("status") if meta.exists() else ""
            seen.append((rows.count(), status))
            assert time.monotonic() < deadline, seen[-5:]
            page.page.wait_for_timeout(100)
        running = {n for n, status in seen if status == "InProgress"}
        assert 2 in running and 4 not in {n for n, _ in seen if n < 4}  # two, then four
        assert json.loads(meta.read_text())["status"] == "InProgress"  # still running

        widget = page.page.locator(".smnb-sweep.widget-vbox")
        expect(widget.locator(".smnb-badge").first).to_have_text("InProgress")
        live_figure = page.page.locator(".smnb-sweep .js-plotly-plot").first
        assert live_figure.locator(".parcoords .y-axis").count() == 2  # x, and the objective
        background = live_figure.evaluate("gd => gd._fullLayout.paper_bgcolor")
        assert background == ("rgba(0,0,0,0)" if theme == "dark" else "white")
        labels = widget.locator(".parcoords .axis-title").all_text_contents()
        assert labels == ["x", "score (maximize)"]
        heading = widget.locator(".smnb-sweep-table th", has_text="score")
        heading.click()  # sorted in the browser: best first
        expect(heading).to_have_attribute("aria-sort", "descending")
        first = rows.first
        expect(first).to_have_class("smnb-best")
        expect(first.locator("td").first).to_have_text("★")
        expect(page.page.locator(f".smnb-saved-{sweep}")).to_be_hidden()  # while drawn
        page.save()  # mid-sweep: the saved notebook holds the note that brings it back
        saved = json.dumps(json.loads((root / name).read_text())["cells"][1]["outputs"])
        assert "saved while the sweep ran" in saved and f"%sm_attach {sweep}" in saved
        widget.scroll_into_view_if_needed()
        page.shot(f"sweep-live-{theme}", full_page=False)
        live = page.contrast(".smnb-sweep")
        assert {"Stop all", "#", "job", "status"} <= {t["text"] for t in live}
        assert unreadable(live) == [], json.dumps(unreadable(live), indent=1)

        final = page.page.locator(".smnb-sweep-snapshot")
        expect(final).to_contain_text("Completed", timeout=120_000)
        expect(final.locator("tr.smnb-best")).to_contain_text(f"{sweep}-004")
        figure = page.page.locator(".jp-RenderedPlotly.js-plotly-plot")
        expect(figure.locator(".parcoords .y-axis")).to_have_count(2, timeout=60_000)
        expect(page.page.locator(".smnb-sweep.widget-vbox")).to_have_count(0)
        final.scroll_into_view_if_needed()
        page.shot(f"sweep-final-{theme}", full_page=False)
        ended = page.contrast(".smnb-sweep-snapshot")
        assert unreadable(ended) == [], json.dumps(unreadable(ended), indent=1)
        assert page.errors == []
    finally:
        page.page.close()


def test_a_headless_run_saves_the_sweep_s_final_table_and_figure(jobs_dir, monkeypatch):
    """nbclient (nothing draws a widget): the text while it runs, and at the end of the
    ``--wait`` cell the final table (text and HTML) and figure (plotly's JSON and SVG)."""
    import nbformat
    from nbclient import NotebookClient

    for frontend in ("JPY_SESSION_NAME", "VSCODE_PID"):  # as if the tests ran in one
        monkeypatch.delenv(frontend, raising=False)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in [
        "%load_ext sm_notebook",
        tune("headless-sweep", " --wait")]])
    NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    shown = [o for o in nb.cells[1].outputs if o.output_type == "display_data"]
    assert all("application/vnd.jupyter.widget-view+json" not in o.data for o in shown)
    head, figure = shown
    text = head.data["text/plain"].splitlines()
    assert text[0].startswith("sweep headless-sweep · Completed · 4/4 trials (4 completed)")
    assert text[2].startswith("★") and "headless-sweep-004" in text[2]
    assert "smnb-sweep-snapshot" in head.data["text/html"]
    kinds = [t["type"] for t in figure.data["application/vnd.plotly.v1+json"]["data"]]
    assert "parcoords" in kinds
    assert figure.data["image/svg+xml"].startswith("<svg")
    assert figure.data["text/plain"].startswith("best score so far: 24 (headless-sweep-004)")
    printed = "".join(o.get("text", "") for o in nb.cells[1].outputs
                      if o.output_type == "stream")
    assert "trial 4 Completed: x=3 → 24" in printed  # the --wait loop's lines
