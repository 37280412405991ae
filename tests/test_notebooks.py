"""Every notebook in notebooks/ runs top to bottom in a real kernel (nbclient)."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def execute(path: Path, workdir: Path) -> nbformat.NotebookNode:
    copy = workdir / path.name
    shutil.copy(path, copy)
    nb = nbformat.read(copy, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(workdir)}}).execute()
    return nb


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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_without_errors(path, jobs_dir, tmp_path):
    nb = execute(path, tmp_path)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    text = outputs_text(nb)
    assert "Traceback" not in text
    if path.stem == "quickstart":
        assert "quickstart OK" in text
        status = next(o for c in nb.cells for o in c.get("outputs", [])
                      if o.output_type == "display_data" and "smnb-snapshot" in
                      o.get("data", {}).get("text/html", ""))  # the dashboard's final state
        assert "application/vnd.jupyter.widget-view+json" not in status["data"]
        assert "<svg" in status["data"]["text/html"]  # the loss chart, static
        assert "Completed (Completed)" in status["data"]["text/plain"]
        assert "model artifacts:" in status["data"]["text/plain"]
        assert any(p.name.startswith("train-") for p in jobs_dir.iterdir())
