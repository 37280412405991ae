"""The endpoint widget in a real JupyterLab, in both themes: a notebook trains a tiny local
job and shows ``predictor = job.deploy()``; a request is typed and sent, its reply and
latency shown; a bad one is one line; Delete stops the server.  Every text reads against
what is drawn behind it.  Screenshots are kept in ``test-artifacts/``."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from sm_notebook.runtime import processes
from sm_notebook.serving.predictor import Predictor
from tests.e2e.lab import Page, notebook, set_theme
from tests.e2e.test_browser_dashboard import unreadable
from tests.serving.test_local_endpoints import SCRIPT


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_request_typed_in_the_widget_is_answered_with_its_latency_and_delete_stops_it(
        lab, browser, theme):
    url, root, base = lab
    set_theme(base, theme == "dark")
    name = f"ep-{theme}"
    nb = notebook(root, f"endpoint-{theme}.ipynb", [
        "%load_ext sm_notebook",
        f"%%sm_train job --job-name {name} --wait --quiet\n{SCRIPT}",
        "predictor = job.deploy()\npredictor"])
    folder = base / "jobs" / ".endpoints" / name
    page = Page(browser, url, nb)
    try:
        page.run_all()
        widget = page.page.locator(".smnb-endpoint.widget-vbox")
        badge = widget.locator(".smnb-badge")
        expect(badge).to_have_text("InService", timeout=180_000)
        expect(widget.locator(".smnb-url")).to_contain_text("http://127.0.0.1:")
        box = widget.locator("textarea")
        expect(box).to_have_value("[[1.0, 2.0]]")
        box.fill("[[3.0, 4.5]]")
        send = widget.locator("button", has_text="Send")
        send.click()
        expect(widget.locator(".smnb-reply")).to_have_text("[[6.0, 9.0]]", timeout=30_000)
        expect(widget.locator(".smnb-latency")).to_have_text(re.compile(r"^[\d,.]+ ms$"))
        expect(widget.locator(".smnb-endpoint-log")).to_contain_text("POST /invocations 200")
        widget.scroll_into_view_if_needed()
        page.shot(f"endpoint-reply-{theme}", full_page=False)
        texts = page.contrast(".smnb-endpoint")
        assert {"Send", "Delete", "[[6.0, 9.0]]"} <= {t["text"] for t in texts}
        assert unreadable(texts) == [], json.dumps(unreadable(texts), indent=1)

        box.fill("[[3.0, 4.5]")  # not JSON: one line, and nothing sent
        send.click()
        expect(widget.locator(".smnb-reply-error")).to_have_text(
            re.compile(r"^not JSON: Expecting ',' delimiter: .* \(choose CSV to send it as "
                       r"text/csv\)$"))
        widget.locator(".widget-toggle-button", has_text="CSV").click()
        box.fill("1.0,2.0\n0.5,0.25")
        send.click()
        expect(widget.locator(".smnb-reply")).to_have_text("[[2.0, 4.0], [1.0, 0.5]]")

        record = Predictor(folder).record
        assert processes.running(record.pid, record.identity)
        widget.locator("button", has_text="Delete").click()
        expect(badge).to_have_text("Deleted", timeout=60_000)
        expect(widget.locator("button", has_text="Send")).to_be_disabled()
        expect(widget.locator(".smnb-hint")).to_contain_text("job.deploy() serves the model")
        assert Predictor(folder).status == "Deleted"
        assert not processes.running(record.pid, record.identity)
        page.shot(f"endpoint-deleted-{theme}", full_page=False)
        assert page.errors == []
    finally:
        if (folder / "endpoint.json").exists() and Predictor(folder).status != "Deleted":
            Predictor(folder).delete()  # a failed test leaves no server behind
        page.page.close()


def test_a_headless_run_saves_the_plain_text_form_and_no_widget(jobs_dir, monkeypatch):
    """nbclient (no Jupyter server, so nothing draws a widget): the text, as output."""
    import nbformat
    from nbclient import NotebookClient

    for frontend in ("JPY_SESSION_NAME", "VSCODE_PID"):  # as if the tests ran in one
        monkeypatch.delenv(frontend, raising=False)
    name = "ep-headless"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in [
        "%load_ext sm_notebook",
        f"%%sm_train job --job-name {name} --wait --quiet\n{SCRIPT}",
        "predictor = job.deploy()\npredictor",
        "predictor.delete()"]])
    folder = jobs_dir / ".endpoints" / name
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3").execute()
        (shown,) = nb.cells[2].outputs
        assert shown.output_type == "display_data" and set(shown.data) == {"text/plain"}
        lines = shown.data["text/plain"].splitlines()
        assert re.fullmatch(rf"{name} · local · InService · http://127\.0\.0\.1:\d+", lines[0])
        assert lines[1] == "predictor.predict(data)  ·  predictor.logs()  ·  predictor.delete()"
        assert Predictor(folder).status == "Deleted"
    finally:
        if (folder / "endpoint.json").exists() and Predictor(folder).status != "Deleted":
            Predictor(folder).delete()
