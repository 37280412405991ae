"""End to end in a real JupyterLab, driven in Debian's headless Chromium by Playwright
(``reference/test-infrastructure.md`` §2): notebooks are run as a user runs them, and the
dashboard is watched and clicked.  Screenshots are kept in ``test-artifacts/``."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
TOKEN = "smnb-test-token"
CHROMIUM = "/usr/bin/chromium"
# Text is read with expect(...).to_contain_text (the DOM's text, retried): JupyterLab gives
# cells `content-visibility: auto`, so a cell scrolled out of view has an empty innerText.
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server isolated from ~/.jupyter, serving a fresh folder."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    root.mkdir()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(base / "config"),
           "JUPYTER_DATA_DIR": str(base / "data"), "JUPYTER_RUNTIME_DIR": str(base / "run"),
           "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
           "SM_NOTEBOOK_JOBS_DIR": str(base / "jobs")}
    notices = base / "settings" / "@jupyterlab" / "apputils-extension"
    notices.mkdir(parents=True)
    (notices / "notification.jupyterlab-settings").write_text(
        json.dumps({"checkForUpdates": False, "fetchNews": "false"}))
    port = _free_port()
    with open(base / "jupyterlab.log", "w") as log:  # python3: this venv's own kernel
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
             "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
             f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
             "--LabApp.news_url=None"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("JupyterLab did not start:\n"
                                     + (base / "jupyterlab.log").read_text()[-3000:]) from None
            time.sleep(0.5)
    yield url, root, base
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield chromium
        chromium.close()


class Page:
    """A notebook open in JupyterLab, with the browser console's errors collected."""

    def __init__(self, browser, url: str, name: str):
        self.page = browser.new_page(viewport={"width": 1280, "height": 1100})
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error"
                     else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.goto(f"{url}/lab/tree/{name}?reset&token={TOKEN}")
        self.page.wait_for_selector(".jp-StatusBar-Widget :text('| Idle')", timeout=90_000)

    def run_all(self) -> None:
        self.page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        self.page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()

    def shot(self, name: str, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


def _notebook(root: Path, name: str, cells: list[str]) -> str:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nbformat.write(nb, root / name)
    return name


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
    name = _notebook(root, "long.ipynb", [
        "%load_ext sm_notebook",
        "%%sm_train job --job-name browser-long\n"
        "import time\n"
        "for step in range(1, 100_000):\n"
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
    name = _notebook(root, "form.ipynb", [
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
    snapshot = page.page.locator(".smnb-snapshot").first
    snapshot.wait_for(timeout=120_000)
    expect(snapshot).to_contain_text("Completed")
    expect(page.page.locator(".smnb-snapshot-log").first).to_contain_text(
        "epoch 60 loss=0.0167")  # the form's value reached it
    page.shot("form-job-completed")
    assert page.errors == []
