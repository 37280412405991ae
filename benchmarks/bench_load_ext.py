"""``%load_ext sm_notebook`` in a fresh IPython process, against the same start without it."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from .common import Result, median, spread

TARGET_MS = 150.0
HEAVY = ("boto3", "docker", "plotly", "pandas", "ipywidgets", "matplotlib")
SCRIPT = """
import json, sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
if {load}:
    shell.run_line_magic("load_ext", "sm_notebook")
    assert "sm_train" in shell.magics_manager.magics["cell"]
print(json.dumps([m for m in {heavy!r} if m in sys.modules]))
"""


def _start(load: bool) -> tuple[float, list[str]]:
    """Wall time of a whole process: interpreter, IPython shell, and (maybe) the extension."""
    code = SCRIPT.format(load=load, heavy=HEAVY)
    began = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    return (time.perf_counter() - began) * 1000, json.loads(out)


def run(repeat: int) -> Result:
    _start(True), _start(False)  # warm the file cache
    bare, loaded, heavy = [], [], set()
    for _ in range(repeat):  # interleaved, so drift hits both sides alike
        bare.append(_start(False)[0])
        ms, imported = _start(True)
        loaded.append(ms)
        heavy.update(imported)
    result = Result("%load_ext sm_notebook (fresh process)", median(loaded), "ms",
                    f"≤ +{TARGET_MS:g} ms", False, "bare IPython start", median(bare))
    result.passed = result.delta <= TARGET_MS and not heavy
    result.notes.append(f"spread: bare {spread(bare)} ms, loaded {spread(loaded)} ms")
    result.notes.append("heavy modules imported by load_ext: "
                        + (", ".join(sorted(heavy)) if heavy else "none"))
    result.notes.append("for scale (from the issue): importing V3 ModelTrainer ≈ 2600 ms, "
                        "V2 Estimator ≈ 2100 ms")
    return result
