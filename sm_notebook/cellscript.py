"""The cell as a training script: it must compile, and IPython syntax is refused.

The cell runs outside IPython, so ``%magic`` and ``!shell`` lines would fail only after the
job started; they are caught here, with the cell's line numbers, before anything launches.
"""

from __future__ import annotations

from .errors import SpecError


def check_cell(cell: str, filename: str) -> None:
    """Raise :class:`SpecError` naming the line when a Python entry script does not compile."""
    if not cell.strip() or not filename.endswith(".py"):
        return
    if "\x00" in cell:  # compile() reports no line for it (and, on some 3.11s, no SyntaxError)
        number = cell.count("\n", 0, cell.index("\x00")) + 1
        raise SpecError("cell", f"line {number} of {filename}: a NUL character (\\x00)",
                        "a Python script that compiles")
    try:
        compile(cell, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        number = exc.lineno or 0
        lines = cell.splitlines()
        text = lines[number - 1].strip() if 0 < number <= len(lines) else (exc.text or "").strip()
        if text.startswith(("%", "!")):
            raise SpecError("cell", f"line {number}: IPython syntax {text[:60]!r} does not run in "
                            "a training script", "plain Python; use subprocess.run([...]) for "
                            "shell commands") from None
        raise SpecError("cell", f"line {number} of {filename}: {exc.msg}: {text[:80]!r}",
                        "a Python script that compiles") from None
