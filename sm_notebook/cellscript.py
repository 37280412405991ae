"""The cell as a training script: it must compile, and IPython syntax is refused.

The cell runs outside IPython, so ``%magic`` and ``!shell`` lines would fail only after the
job started; they are caught here, with the cell's line numbers, before anything launches.

The script's first line is a comment standing for the cell's ``%%sm_train`` line, so every
line number a traceback, a check or an editor gives is the line as it stands in the cell.
"""

from __future__ import annotations

from .errors import SpecError

HEADER = "# (the cell's %%sm_train line: the lines below are numbered as in the cell)\n"


def script_text(cell: str, filename: str = "train.py") -> str:
    """The entry script written from ``cell`` (a program other than Python keeps its
    first line, which may be its ``#!``)."""
    body = cell if cell.endswith("\n") else cell + "\n"
    return HEADER + body if filename.endswith(".py") else body


def check_cell(cell: str, filename: str) -> None:
    """Raise :class:`SpecError` naming the line when a Python entry script does not compile."""
    if not cell.strip() or not filename.endswith(".py"):
        return
    script = script_text(cell, filename)
    if "\x00" in script:  # compile() reports no line for it (on some 3.11s no SyntaxError)
        number = script.count("\n", 0, script.index("\x00")) + 1
        raise SpecError("cell", f"line {number} of {filename}: a NUL character (\\x00)",
                        "a Python script that compiles")
    try:
        compile(script, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        number = exc.lineno or 0
        lines = script.splitlines()
        text = lines[number - 1].strip() if 0 < number <= len(lines) else (exc.text or "").strip()
        if text.startswith(("%", "!")):
            raise SpecError("cell", f"line {number}: IPython syntax {text[:60]!r} does not run in "
                            "a training script", "plain Python; use subprocess.run([...]) for "
                            "shell commands") from None
        raise SpecError("cell", f"line {number} of {filename}: {exc.msg}: {text[:80]!r}",
                        "a Python script that compiles") from None
