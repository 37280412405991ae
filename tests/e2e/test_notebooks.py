"""Every notebook in notebooks/ runs top to bottom in a real kernel (nbclient)."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]

# The notebooks shipped (not the executed copies the README's quickstart command writes)
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("*.ipynb")
                   if not p.stem.endswith("-run"))
# The SageMaker notebook runs against moto's server and the service simulator, in
# test_sagemaker_jobs.py; every other notebook runs here.
LOCAL_NOTEBOOKS = [p for p in NOTEBOOKS if p.stem != "sagemaker"]


def execute(path: Path, workdir: Path) -> nbformat.NotebookNode:
    copy = workdir / path.name
    shutil.copy(path, copy)
    nb = nbformat.read(copy, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(workdir)}}).execute()
    return nb


def _final_outputs(cell) -> tuple[dict, dict, dict]:
    """The dashboard's three final outputs (head, chart, log) in a cell (the saved-note
    output between them is emptied when the job ends)."""
    shown = [o for o in cell.outputs if o.output_type == "display_data"
             and o.get("data") != {"text/plain": ""}]
    head = next(i for i, o in enumerate(shown)
                if "smnb-snapshot" in o.get("data", {}).get("text/html", ""))
    return shown[head], shown[head + 1], shown[head + 2]


def outputs_text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.append(str(out.get("data", {}).get("text/plain", "")))
            parts.append(str(out.get("data", {}).get("text/html", "")))
    return "\n".join(parts)


def test_there_is_a_quickstart_notebook():
    assert ROOT / "notebooks" / "quickstart.ipynb" in NOTEBOOKS


def test_there_are_quickstart_container_and_sagemaker_notebooks_and_each_is_run():
    assert [p.stem for p in NOTEBOOKS] == ["container", "quickstart", "sagemaker"]
    assert set(LOCAL_NOTEBOOKS) | {ROOT / "notebooks" / "sagemaker.ipynb"} == set(NOTEBOOKS)


@pytest.mark.parametrize("path", LOCAL_NOTEBOOKS, ids=[p.stem for p in LOCAL_NOTEBOOKS])
def test_notebook_runs_without_errors(path, jobs_dir, tmp_path, monkeypatch):
    # The container notebook's image: the Debian test image (no registry here); a user gets
    # python:3.12-slim from Docker Hub.
    monkeypatch.setenv("SMNB_IMAGE", "smnb-test/sklearn:1")
    nb = execute(path, tmp_path)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    text = outputs_text(nb)
    assert "Traceback" not in text
    if path.stem == "quickstart":
        assert "quickstart OK" in text
        cell = next(c for c in nb.cells if any(
            "smnb-snapshot" in o.get("data", {}).get("text/html", "")
            for o in c.get("outputs", [])))  # the dashboard's final outputs
        status, chart, log = _final_outputs(cell)
        assert all("application/vnd.jupyter.widget-view+json" not in o["data"]
                   for o in (status, chart, log))
        # the chart: plotly's JSON for JupyterLab and VS Code, matplotlib's SVG elsewhere
        assert "application/vnd.plotly.v1+json" in chart["data"]
        assert chart["data"]["image/svg+xml"].startswith("<svg")
        assert "loss=" in log["data"]["text/html"]
        assert "· Completed ·" in status["data"]["text/plain"]
        saved = nbformat.writes(nb)
        assert "plotly.min" not in saved and len(saved) < 400_000  # no plotly.js inside
        assert "model artifacts:" in status["data"]["text/plain"]
        assert any(p.name.startswith("train-") for p in jobs_dir.iterdir())
        assert_reads_without_a_kernel(nb)
    if path.stem == "container":
        assert "container notebook OK" in text


def assert_reads_without_a_kernel(nb: nbformat.NotebookNode) -> None:
    """nbconvert's HTML (nbviewer and GitHub show the same outputs): the final state,
    matplotlib's chart and the log, in that order, with no widget left to fail."""
    import base64
    import re

    from nbconvert import HTMLExporter

    page, _ = HTMLExporter().from_notebook_node(nb)
    outputs = page[page.index("smnb-snapshot"):page.index("smnb-snapshot-log")]
    assert ">Completed</span>" in outputs  # the header's status
    (image,) = re.findall(r'<img [^>]*src="data:image/svg\+xml;base64,([^"]+)"', outputs)
    svg = base64.b64decode(image).decode()
    assert svg.startswith("<svg") and "loss: " in svg  # the chart, with its title
    log = page[page.index("smnb-snapshot-log"):]
    assert "loss=" in log[:20_000]
    assert "Error displaying widget" not in page and "saved while the job ran" not in page
