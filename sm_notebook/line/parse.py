"""The magic line → a spec and launch options: the whole of what `%%sm_train` parses."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import hyperparameters as hp
from ..cellscript import check_cell
from ..errors import SpecError
from ..spec import DEFAULT_ENTRY_SCRIPT, FRAME_PREFIX, Channel, MetricDefinition, TrainingSpec
from .argv import parse_args, stray_value
from .expand import PLACEHOLDER, ExpandedLine, expand_line
from .grammar import OPTIONS

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$")


@dataclass
class LaunchOptions:
    """How to launch (not part of the job's description)."""

    variable: str | None = None
    wait: bool = False
    quiet: bool = False
    form: bool = False
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)
    frames: dict[str, Any] = field(default_factory=dict)  # channel → DataFrame, as CSV


@dataclass
class Defaults:
    """``%config`` defaults applied where the line says nothing."""

    mode: str = "local"
    region: str | None = None
    role: str | None = None
    image: str | None = None
    instance_type: str | None = None
    hp_style: str = hp.DEFAULT_STYLE


def parse_line(line: str, cell: str, namespace: Mapping[str, Any], defaults: Defaults,
               base: Path) -> tuple[TrainingSpec, LaunchOptions]:
    """The magic's line and cell → a validated spec and the launch options (with the
    validation notes); :class:`SpecError`, naming the option, on any bad input."""
    expanded = expand_line(line, namespace)
    spec, launch = build_spec(parse_args(expanded), expanded, cell, defaults, base)
    launch.notes = spec.validate(base)
    check_cell(spec.cell, spec.entry_script)
    return spec, launch


def build_spec(args: Any, line: ExpandedLine, cell: str, defaults: Defaults | None = None,
               base_dir: Path | None = None) -> tuple[TrainingSpec, LaunchOptions]:
    """Interpret parsed options (``argparse.Namespace``) into a spec and launch options."""
    d = defaults or Defaults()
    base = base_dir or Path.cwd()
    text = line.resolve
    _check_values_given(args, line)
    if args.variable is not None and line.args[0] != args.variable:
        raise stray_value(args.variable, line)
    variable = text(args.variable) if args.variable else None
    if variable is not None and (not str(variable).isidentifier() or variable in _KEYWORDS):
        raise SpecError("variable", f"{variable!r} is not a valid Python name",
                        "an optional variable name before the options, e.g. %%sm_train job")
    instance_type = _str(text(args.instance_type)) if args.instance_type else d.instance_type
    mode = _str(text(args.mode)) if args.mode else None
    if mode is None:
        mode = "container" if instance_type in ("local_cpu", "local_gpu") else d.mode
    if mode == "local" and not args.instance_type:
        instance_type = None  # a configured default instance type is for remote modes

    hyper: dict[str, Any] = {}
    if args.hps:
        hyper.update(_load_hps(line.resolve(args.hps), base))
    for (key, value), item in zip(_pairs("--hp", args.hp, line, "KEY=VALUE"), args.hp,
                                  strict=True):  # --hp may override --hps, not itself
        whole_object = PLACEHOLDER.fullmatch(item.split("=", 1)[1]) is not None
        hyper[key] = value if whole_object else hp.parse_value(value)

    channels = []
    frames: dict[str, Any] = {}
    for item in args.input:
        name, source = _pair("--input", item, line, "NAME=PATH_OR_S3_URI")
        if _is_dataframe(source):  # staged as CSV in the job when it is launched
            frames[name] = source
            channels.append(Channel(name, f"{FRAME_PREFIX}{name}", "text/csv"))
            continue
        if not isinstance(source, str):
            raise SpecError("--input", f"{name}: a {type(source).__name__} is not a path",
                            "NAME=PATH, NAME=s3://bucket/prefix or NAME=$dataframe")
        if source.startswith(FRAME_PREFIX):
            raise SpecError("--input", f"{name}: {source} stands for a DataFrame",
                            f"{name}=$variable, the DataFrame itself")
        if not source.strip():
            raise SpecError("--input", f"{name}: no path after '='", "NAME=PATH_OR_S3_URI")
        channels.append(Channel(name, source))
    by_name = {c.name: c for c in channels}
    for name, ctype in _pairs("--content-type", args.content_type, line, "NAME=TYPE"):
        if name not in by_name:
            raise SpecError("--content-type", f"no --input channel named {name!r}",
                            "NAME=TYPE for a channel given with --input")
        by_name[name].content_type = str(ctype)

    spec = TrainingSpec(
        cell=cell,
        mode=mode,
        entry_script=_str(text(args.entry_script)) if args.entry_script else DEFAULT_ENTRY_SCRIPT,
        source_dir=_opt_str(args.source_dir, line),
        dependencies=[str(text(p)) for p in args.dependencies],
        requirements=_opt_str(args.requirements, line),
        image=_opt_str(args.image, line) or (d.image if mode != "local" else None),
        image_kind=_opt_str(args.image_kind, line),
        instance_type=instance_type,
        instance_count=_int("--instance-count", args.instance_count, line, 1),
        volume_gb=_int("--volume-gb", args.volume_gb, line, None),
        hyperparameters=hyper,
        channels=channels,
        distribution=_opt_str(args.distributed, line),
        processes_per_host=_int("--processes-per-host", args.processes_per_host, line, None),
        max_run=_duration("--max-run", args.max_run, line),
        spot=bool(args.spot),
        max_wait=_duration("--max-wait", args.max_wait, line),
        checkpoint_s3=_opt_str(args.checkpoint_s3, line),
        keep_alive=_duration("--keep-alive", args.keep_alive, line),
        subnets=_id_list(args.subnets, line),
        security_groups=_id_list(args.security_groups, line),
        network_isolation=bool(args.network_isolation),
        role=_opt_str(args.role, line) or (d.role if mode == "sagemaker" else None),
        output=_opt_str(args.output, line),
        region=_opt_str(args.region, line) or d.region,
        job_name=_opt_str(args.job_name, line),
        base_job_name=_opt_str(args.base_job_name, line),
        environment=dict(_pairs("--env", args.env, line, "KEY=VALUE", as_text=True)),
        tags=dict(_pairs("--tag", args.tag, line, "KEY=VALUE", as_text=True)),
        metrics=[MetricDefinition(n, r) for n, r in
                 _pairs("--metric", args.metric, line, "NAME=REGEX", as_text=True)],
        python=_opt_str(args.python, line),
        hp_style=_opt_str(args.hp_style, line) or d.hp_style,
        command=_opt_str(args.command, line),
    )
    launch = LaunchOptions(variable=variable, wait=args.wait, quiet=args.quiet, form=args.form,
                           dry_run=args.dry_run, frames=frames)
    return spec, launch


def _is_dataframe(value: Any) -> bool:
    """A pandas DataFrame, recognised without importing pandas."""
    return type(value).__name__ == "DataFrame" and callable(getattr(value, "to_csv", None))


_KEYWORDS = {"None", "True", "False", "and", "or", "not", "in", "is", "if", "else", "for", "def",
             "class", "return", "import", "from", "lambda", "with", "as", "try", "while", "pass"}


def _check_values_given(args: Any, line: ExpandedLine) -> None:
    """An option given an empty value (``--mode ''``, ``--region $blank``) is an error, never
    silently the default."""
    for opt in OPTIONS:
        if opt.kwargs.get("action") == "store_true":
            continue
        given = getattr(args, opt.dest)
        for raw in given if isinstance(given, list) else [given]:
            value = None if raw is None else line.resolve(raw)
            if isinstance(value, str) and not value.strip():
                raise SpecError(opt.flags[0], "empty value",
                                f"{opt.flags[0]} {opt.kwargs.get('metavar', 'VALUE')}")


def _str(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _id_list(raw: str | None, line: ExpandedLine) -> list[str]:
    """``a,b , c`` → ``["a", "b", "c"]`` (empty items dropped)."""
    text = _opt_str(raw, line)
    return [part.strip() for part in text.split(",") if part.strip()] if text else []


def _opt_str(raw: str | None, line: ExpandedLine) -> str | None:
    return None if raw is None else _str(line.resolve(raw))


def _pair(option: str, item: str, line: ExpandedLine, form: str) -> tuple[str, Any]:
    if "=" not in item.replace("\x00", ""):
        raise SpecError(option, f"{line.resolve(item)!r} has no '='", form)
    key, raw_value = item.split("=", 1)
    key = _str(line.resolve(key)).strip()
    if not key:
        raise SpecError(option, f"{line.resolve(item)!r} has an empty name", form)
    return key, line.resolve(raw_value)


def _pairs(option: str, items: list[str], line: ExpandedLine, form: str,
           as_text: bool = False) -> list[tuple[str, Any]]:
    out = []
    seen = set()
    for item in items:
        key, value = _pair(option, item, line, form)
        if key in seen:
            raise SpecError(option, f"{key!r} given twice", form)
        seen.add(key)
        out.append((key, _str(value) if as_text else value))
    return out


def _int(option: str, raw: str | None, line: ExpandedLine, default: int | None) -> int | None:
    if raw is None:
        return default
    value = line.resolve(raw)
    if isinstance(value, bool):
        raise SpecError(option, f"{value!r} is not an integer", "a whole number")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise SpecError(option, f"{value!r} is not an integer", "a whole number") from None


def parse_duration(text: str) -> int | None:
    """``3600``, ``90m``, ``2h``, ``1d``, ``1h30m`` → seconds; None when malformed."""
    m = _DURATION.match(text.strip())
    if not m or not any(m.groups()):
        return None
    d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    return ((d * 24 + h) * 60 + mi) * 60 + s


def _duration(option: str, raw: str | None, line: ExpandedLine) -> int | None:
    if raw is None:
        return None
    value = line.resolve(raw)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    seconds = parse_duration(str(value))
    if seconds is None:
        raise SpecError(option, f"{value!r} is not a duration",
                        "seconds or a duration such as 90m, 2h, 1d, 1h30m")
    return seconds


def _load_hps(source: Any, base: Path) -> dict[str, Any]:
    if isinstance(source, Mapping):
        return dict(source)
    if not isinstance(source, str):
        raise SpecError("--hps", f"a {type(source).__name__} is not a dict or a file",
                        "PATH.json, PATH.yaml or a $dict variable")
    path = Path(source).expanduser()
    path = path if path.is_absolute() else base / path
    suffix = path.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise SpecError("--hps", f"{source}: unknown file type",
                        "PATH.json, PATH.yaml or a $dict variable")
    if not path.is_file():
        raise SpecError("--hps", f"{source} does not exist", "PATH.json, PATH.yaml or a $dict")
    text = path.read_text()
    try:
        if suffix == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise SpecError("--hps", f"{source}: invalid JSON at line {exc.lineno} column "
                        f"{exc.colno}: {exc.msg}", "a JSON object of hyperparameters") from None
    except Exception as exc:  # yaml.YAMLError
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SpecError("--hps", f"{source}: invalid YAML: {first}",
                        "a YAML mapping of hyperparameters") from None
    if not isinstance(data, dict):
        raise SpecError("--hps", f"{source} holds a {type(data).__name__}, not a mapping",
                        "a JSON object or YAML mapping of hyperparameters")
    return data


