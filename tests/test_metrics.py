"""The built-in metric patterns: linear in the line, and finding what they always found."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys

from sm_notebook.metrics import MetricParser, step_of

# The patterns as they were before they were rewritten for linear time: the reference the
# rewrite must agree with (they are quadratic in a run of spaces, so only short lines here).
_NUM = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
_SEP = r"['\"]?\s*[:=]?\s*"
_EVAL = r"(?:val|valid|validation|eval|test)"
_NOT_EVAL = "".join(f"(?<!{w}{sep})" for w in ("val", "valid", "validation", "eval", "test")
                    for sep in " /-")
BEFORE = (
    ("loss", rf"(?i)(?<![\w.]){_NOT_EVAL}(?:train[_ ])?loss{_SEP}{_NUM}"),
    ("accuracy", rf"(?i)(?<![\w.]){_NOT_EVAL}(?:train[_ ])?acc(?:uracy)?{_SEP}{_NUM}"),
    ("val_loss", rf"(?i)\b{_EVAL}[_ /-]loss{_SEP}{_NUM}"),
    ("val_accuracy", rf"(?i)\b{_EVAL}[_ /-]acc(?:uracy)?{_SEP}{_NUM}"),
)
STEP_BEFORE = re.compile(r"(?i)\b(?:epoch|step|iter(?:ation)?)['\"]?\s*[:=]?\s*(\d+)")
TOKENS = ["loss", "Loss", "acc", "accuracy", "val", "valid", "eval", "test", "train",
          "epoch", "step", "iter", "iteration", "_", " ", "  ", "/", "-", ".", ":", "=", "'",
          '"', "0", "12", "3.5", ".5", "1e-3", "E+2", "+", "x", "ſ", "\t", "(", ","]


def test_the_built_in_patterns_find_what_they_found_before_on_random_lines():
    rng = random.Random(12)
    old = MetricParser(BEFORE)
    new = MetricParser()
    for _ in range(20_000):
        line = "".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 12)))
        assert new.parse(line) == old.parse(line), line
        found = STEP_BEFORE.search(line)
        assert step_of(line) == (float(found.group(1)) if found else None), line


LONG_LINES = {  # the shapes that made the old patterns quadratic, 1 MiB each
    "loss then spaces": "loss" + " " * (1 << 20) + "!",
    "epoch then spaces": "epoch 1 loss" + " " * (1 << 20) + "!",
    "a separator then spaces": "accuracy:" + " " * (1 << 20) + "x",
    "a quote then spaces": "val_loss'" + " " * (1 << 20) + "x",
    "spaces only": " " * (1 << 20),
    "names again and again": "val loss " * (1 << 17),
}


def test_a_1_mib_line_parses_in_milliseconds_with_the_built_in_patterns():
    # in a child, so the old patterns (hours on such lines) fail by the timeout, not hang
    script = (
        "import json, sys, time\n"
        "from sm_notebook.events import LogEvent\n"
        "from sm_notebook.metrics import MetricParser\n"
        "parser, out = MetricParser(), {}\n"
        "for name, line in json.loads(sys.stdin.read()).items():\n"
        "    began = time.perf_counter()\n"
        "    parser.points([LogEvent('2026-01-01T00:00:00Z', 'algo-1', line)])\n"
        "    out[name] = time.perf_counter() - began\n"
        "print(json.dumps(out))\n")
    run = subprocess.run([sys.executable, "-c", script], input=json.dumps(LONG_LINES),
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    seconds = json.loads(run.stdout)
    # milliseconds each (about 5-150 ms on a loaded 2-core machine); the old: 11 s at 20 KB
    assert max(seconds.values()) < 1.0, seconds

