"""The package's shape, checked statically: no import cycles, mode knowledge in one table,
small modules, and the layering rules of ARCHITECTURE.md.

Every import counts, function-local ones included: a cycle hidden inside a function is
still a cycle.  Each check runs first on a small made-up package where it must fire, so
a checker that has gone blind fails too.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from sm_notebook import modes

PACKAGE = Path(__file__).resolve().parents[1] / "sm_notebook"
MAX_LINES = 500
#: where mode names may be compared: the table itself, and the backends it names
#: the modes table, and the backends of jobs and of endpoints (one serving module a mode)
MODE_KNOWERS = ("sm_notebook.modes", "sm_notebook.backends", "sm_notebook.serving")
PURE = ("sm_notebook.spec", "sm_notebook.modes", "sm_notebook.hyperparameters",
        "sm_notebook.contract", "sm_notebook.events", "sm_notebook.metrics",
        "sm_notebook.clock", "sm_notebook.jobdir", "sm_notebook.line", "sm_notebook.catalog",
        "sm_notebook.errors", "sm_notebook.launch", "sm_notebook.job", "sm_notebook.jobs",
        "sm_notebook.ui.chart_model", "sm_notebook.ui.plotly_figure", "sm_notebook.ui.series",
        "sm_notebook.ui.theme", "sm_notebook.ui.log_filter", "sm_notebook.ui.progress",
        "sm_notebook.ui.saved_note", "sm_notebook.ui.sweep_model", "sm_notebook.ui.sweep_figure",
        "sm_notebook.compare_runs", "sm_notebook.metricframe",
        "sm_notebook.jobsframe", "sm_notebook.serving.payload", "sm_notebook.ui.endpoint_text",
        "sm_notebook.tuning.ranges", "sm_notebook.tuning.objective", "sm_notebook.tuning.search",
        "sm_notebook.tuning.stopping", "sm_notebook.tuning.sweep_dir", "sm_notebook.tuning.line",
        "sm_notebook.tuning.capacity", "sm_notebook.distribution", "sm_notebook.jumpstart",
        "sm_notebook.labels")
CLOUD_AND_ENGINE = ("boto3", "botocore", "docker")
FRONTEND = ("IPython", "ipywidgets", "plotly", "anywidget", "traitlets", "matplotlib")
#: who may import them (serving/ and tuning/ will join the backends)
TOUCH_CLOUD = ("sm_notebook.backends", "sm_notebook.serving", "sm_notebook.tuning",
               "sm_notebook.runtime.container_supervisor")  # it drives the engine, beside
TOUCH_FRONTEND = ("sm_notebook.magics", "sm_notebook.ui")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # what it imports (a module, or module.name)
    names: tuple[str, ...]
    line: int


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules(root: Path) -> dict[str, Path]:
    return {module_name(root, p): p for p in sorted(root.rglob("*.py"))}


def imports_of(root: Path, path: Path) -> list[Import]:
    """Every import statement in the file, anywhere in it, with absolute targets."""
    name = module_name(root, path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [Import(name, a.name, (), node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append(Import(name, target, tuple(a.name for a in node.names), node.lineno))
    return found


def dependency_graph(root: Path) -> dict[str, set[str]]:
    """Module → the package's modules it imports (``from pkg import mod`` counts as mod)."""
    mods = package_modules(root)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        for imp in imports_of(root, path):
            candidates = [f"{imp.target}.{n}" for n in imp.names] or [imp.target]
            for cand in candidates:
                target = cand if cand in mods else imp.target
                while target and target not in mods:
                    target = target.rpartition(".")[0]
                if target and target != mod and not mod.startswith(f"{target}."):
                    graph[mod].add(target)  # a parent package's __init__ is not a cycle
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def mode_comparisons(root: Path, names: tuple[str, ...]) -> list[str]:
    """``mode == "local"``, ``x in ("container", "sagemaker")`` and the like, outside the
    modules allowed to know mode names."""
    found = []
    for mod, path in package_modules(root).items():
        if mod.startswith(tuple(k.replace("sm_notebook", root.name, 1) for k in MODE_KNOWERS)):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Compare):
                continue
            for operand in [node.left, *node.comparators]:
                values = operand.elts if isinstance(operand, ast.Tuple | ast.List | ast.Set) \
                    else [operand]
                if any(isinstance(v, ast.Constant) and v.value in names for v in values):
                    found.append(f"{mod}:{node.lineno}")
                    break
    return found


def long_modules(root: Path, limit: int = MAX_LINES) -> list[str]:
    return [f"{mod} ({n} lines)" for mod, path in package_modules(root).items()
            if (n := len(path.read_text().splitlines())) > limit]


def private_imports(root: Path) -> list[str]:
    """``from sibling import _helper``: a private name used across modules."""
    found = []
    for mod, path in package_modules(root).items():
        for imp in imports_of(root, path):
            if imp.target.split(".")[0] != root.name:
                continue
            found += [f"{mod}:{imp.line} {imp.target}.{n}" for n in imp.names
                      if n.startswith("_") and not n.startswith("__")]
    return found


def within(module: str, packages: tuple[str, ...]) -> bool:
    """``module`` is one of ``packages`` or inside one (``ui.theme`` is not ``ui.theme_x``)."""
    return any(module == p or module.startswith(p + ".") for p in packages)


def forbidden_imports(root: Path, libraries: tuple[str, ...], allowed: tuple[str, ...],
                      only: tuple[str, ...] | None = None) -> list[str]:
    """Imports of ``libraries`` from modules outside ``allowed`` (or, with ``only``, from
    those modules in ``only``)."""
    found = []
    for mod, path in package_modules(root).items():
        if only is not None and not within(mod, only):
            continue
        if only is None and within(mod, allowed):
            continue
        for imp in imports_of(root, path):
            if imp.target.split(".")[0] in libraries:
                found.append(f"{mod}:{imp.line} {imp.target}")
    return found


# ---- the checkers see what they should -------------------------------------------------

@pytest.fixture
def bad_package(tmp_path: Path) -> Path:
    """A package that breaks every rule once."""
    root = tmp_path / "sm_notebook"
    (root / "ui").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "ui" / "__init__.py").write_text("")
    (root / "job.py").write_text("def html():\n    from .ui import text\n")
    (root / "ui" / "text.py").write_text("from ..job import html\nfrom ..spec import _x\n")
    (root / "spec.py").write_text("import boto3\n_x = 1\nok = mode == 'local'\n"
                                  + "\n" * MAX_LINES)
    return root


def test_the_checks_fire_on_a_package_that_breaks_the_rules(bad_package: Path):
    assert cycles(dependency_graph(bad_package)) == [["sm_notebook.job",
                                                      "sm_notebook.ui.text"]]
    assert mode_comparisons(bad_package, modes.NAMES) == ["sm_notebook.spec:3"]
    assert long_modules(bad_package) == [f"sm_notebook.spec ({MAX_LINES + 3} lines)"]
    assert private_imports(bad_package) == ["sm_notebook.ui.text:2 sm_notebook.spec._x"]
    assert forbidden_imports(bad_package, CLOUD_AND_ENGINE, TOUCH_CLOUD) == [
        "sm_notebook.spec:1 boto3"]


# ---- the package -------------------------------------------------------------------------

def test_no_import_cycles_inside_the_package_function_local_imports_included():
    assert cycles(dependency_graph(PACKAGE)) == []


def test_mode_names_are_compared_only_in_the_modes_table_and_the_backends():
    assert mode_comparisons(PACKAGE, modes.NAMES) == []


def test_every_module_is_under_500_lines():
    assert long_modules(PACKAGE) == []


def test_no_private_name_is_imported_across_modules():
    assert private_imports(PACKAGE) == []


def test_only_the_backends_touch_boto3_and_docker():
    assert forbidden_imports(PACKAGE, CLOUD_AND_ENGINE, TOUCH_CLOUD) == []


def test_only_the_magics_and_the_ui_touch_ipython_and_widgets():
    assert forbidden_imports(PACKAGE, FRONTEND, TOUCH_FRONTEND) == []


def test_pure_modules_import_no_frontend_cloud_or_engine_library():
    assert forbidden_imports(PACKAGE, FRONTEND + CLOUD_AND_ENGINE, (), only=PURE) == []


@pytest.mark.parametrize("mode", modes.NAMES)
def test_every_mode_of_the_table_has_a_backend_that_says_it_runs_that_mode(mode: str):
    from sm_notebook import backends

    assert backends.backend_class(mode).mode == mode
