"""The ``%%sm_train`` line: options table, tokenizer with explicit expansion, spec ⇄ line.

Expansion follows the shell, so it is predictable: text in single quotes is literal;
unquoted and double-quoted text expands ``$name`` (a variable), ``{expr}`` (a Python
expression) and ``$$``/``{{``/``}}`` (literal ``$``, ``{``, ``}``).  A name that does not
exist is an error naming the option, never a silently unexpanded line (IPython's own
expansion gives up on the whole line when one token fails).  ``{3}`` and ``{1,5}`` stay
literal, so unquoted regex quantifiers survive.  A token that is exactly one reference
(``$lr``, ``lr=$lr``, ``--hps $params``) keeps the object's type.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import hyperparameters as hp
from .errors import SpecError
from .spec import (
    DEFAULT_ENTRY_SCRIPT,
    FRAME_PREFIX,
    Channel,
    MetricDefinition,
    TrainingSpec,
)


@dataclass(frozen=True)
class Option:
    """One magic option: its flags, argparse keywords and one-line help."""

    flags: tuple[str, ...]
    help: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def dest(self) -> str:
        return self.flags[0].lstrip("-").replace("-", "_")


def _opt(flag: str, help: str, metavar: str | None = None, **kwargs: Any) -> Option:
    if metavar is not None:
        kwargs["metavar"] = metavar
    return Option((flag,), help, kwargs)


def _many(flag: str, help: str, metavar: str) -> Option:
    return Option((flag,), help, {"action": "append", "default": [], "metavar": metavar})


def _flag(flag: str, help: str) -> Option:
    return Option((flag,), help, {"action": "store_true"})


OPTIONS: list[Option] = [
    _opt("--mode", "where the job runs: local (a process here, the default), container "
         "(Docker) or sagemaker", "MODE"),
    _opt("--image", "training image: a URI or a name (container and sagemaker modes)", "IMAGE"),
    _opt("--image-kind", "toolkit (AWS's training toolkit: `train` runs under --hp-style v2, "
         "sm_notebook's launcher under v3), plain (Python only: the launcher runs the script) "
         "or own (a `train` of its own: docker run IMAGE train); detected in container mode",
         "KIND"),
    _opt("--instance-type", "ml.m5.xlarge, ... ; local_cpu or local_gpu imply --mode container",
         "TYPE"),
    _opt("--instance-count", "number of hosts (default 1)", "N"),
    _opt("--volume-gb", "storage volume per host in GB", "GB"),
    _many("--hp", "hyperparameter KEY=VALUE; VALUE is a JSON literal when it parses, else a "
          "string (repeatable)", "KEY=VALUE"),
    _opt("--hps", "hyperparameters from a .json/.yaml file or a $dict (--hp wins)", "SOURCE"),
    _opt("--hp-style", "how hyperparameters reach the script: v3 (the current SDK's "
         "ModelTrainer: strings as they are, the rest as JSON; the default) or v2 (the "
         "framework estimators and the training toolkit's `train`)", "STYLE"),
    _many("--input", "input channel NAME=PATH_OR_S3_URI, staged at /opt/ml/input/data/NAME "
          "(repeatable)", "NAME=URI"),
    _many("--content-type", "content type of a channel, NAME=TYPE (repeatable)", "NAME=TYPE"),
    _opt("--source-dir", "directory shipped with the cell (laid out beside the entry script)",
         "DIR"),
    _many("--dependencies", "file or directory copied beside the entry script (repeatable)",
          "PATH"),
    _opt("--requirements", "requirements file installed in the job's environment "
         "(checked, never installed, in local mode)", "PATH"),
    _opt("--entry-script", f"file name of the cell in the job (default {DEFAULT_ENTRY_SCRIPT}; "
         ".sh for a shell script), or the program of --source-dir to run", "NAME"),
    _opt("--command", "a shell command run in the code directory instead of the entry script, "
         "with the full SM_* environment (V3's SourceCode(command=...); no cell needed)", "CMD"),
    _opt("--distributed", "launcher for distributed training: torchrun", "KIND"),
    _opt("--processes-per-host", "processes per host for --distributed", "N"),
    _opt("--max-run", "stop the job after this long (seconds, or 90m, 2h, 1d)", "DURATION"),
    _flag("--spot", "use managed spot capacity (sagemaker mode)"),
    _opt("--max-wait", "maximum wait for spot capacity plus run time (seconds, or 2h)",
         "DURATION"),
    _opt("--checkpoint-s3", "S3 URI synced with /opt/ml/checkpoints (sagemaker mode)", "URI"),
    _opt("--keep-alive", "keep the instances warm this long after the job (warm pools)",
         "DURATION"),
    _opt("--role", "IAM role ARN the job runs as (sagemaker mode)", "ARN"),
    _opt("--subnets", "VPC subnets of the job, comma-separated (with --security-groups)",
         "IDS"),
    _opt("--security-groups", "VPC security groups of the job, comma-separated (with "
         "--subnets)", "IDS"),
    _flag("--network-isolation", "no network access from the training containers "
          "(sagemaker mode; the code comes as an input channel)"),
    _opt("--output", "where model.tar.gz and output.tar.gz go: a directory or an s3:// URI",
         "PATH"),
    _opt("--region", "AWS region", "REGION"),
    _opt("--job-name", "exact job name (unique)", "NAME"),
    _opt("--base-job-name", "prefix of a generated, timestamped job name", "NAME"),
    _many("--env", "environment variable KEY=VALUE for the script (repeatable)", "KEY=VALUE"),
    _many("--tag", "tag KEY=VALUE recorded with the job (repeatable)", "KEY=VALUE"),
    _many("--metric", "metric NAME=REGEX parsed from the log; the first group is the value "
          "(repeatable)", "NAME=REGEX"),
    _opt("--python", "Python interpreter for a local job (default: the kernel's)", "PATH"),
    _flag("--wait", "block until the job ends (interrupting stops a local job)"),
    _flag("--quiet", "show no progress, only the final status"),
    _flag("--form", "edit the job in an interactive form before launching"),
    _flag("--dry-run", "show the resolved spec and what would run, without running it"),
]

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$")
_REF = re.compile(r"\$\$|\{\{|\}\}|\$([A-Za-z_]\w*)|\{([^{}]*)\}")
_QUANTIFIER = re.compile(r"^\s*\d*\s*(,\s*\d*\s*)?$")
_SAFE_TOKEN = re.compile(r"^[\w@%+=:,./\-]+$")
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")


# ---- tokenizing and expansion ----------------------------------------------------------

def split_line(line: str) -> list[list[tuple[str, bool]]]:
    """Split like a POSIX shell; each token is a list of (text, expandable) segments."""
    tokens: list[list[tuple[str, bool]]] = []
    current: list[tuple[str, bool]] | None = None
    i, n = 0, len(line)

    def add(text: str, expand: bool) -> None:
        nonlocal current
        if current is None:
            current = []
        current.append((text, expand))

    while i < n:
        c = line[i]
        if c.isspace():
            if current is not None:
                tokens.append(current)
                current = None
            i += 1
        elif c == "'":
            end = line.find("'", i + 1)
            if end < 0:
                raise SpecError("line", "unclosed single quote", "matching '...' quotes")
            add(line[i + 1:end], False)
            i = end + 1
        elif c == '"':
            i += 1
            buf = []
            while True:
                if i >= n:
                    raise SpecError("line", "unclosed double quote", 'matching "..." quotes')
                ch = line[i]
                if ch == '"':
                    i += 1
                    break
                if ch == "\\" and i + 1 < n and line[i + 1] in '"\\$`{}':
                    if buf:
                        add("".join(buf), True)
                        buf = []
                    add(line[i + 1], False)
                    i += 2
                    continue
                buf.append(ch)
                i += 1
            add("".join(buf), True)
            if current is None:
                add("", False)
        elif _escapes(line, i):
            add(line[i + 1], False)
            i += 2
        else:
            j = i
            while j < n and not line[j].isspace() and line[j] not in "'\"" \
                    and not _escapes(line, j):
                j = _skip_braces(line, j)
            add(line[i:j], True)
            i = j
    if current is not None:
        tokens.append(current)
    return tokens


def _escapes(line: str, i: int) -> bool:
    """Outside quotes a backslash escapes only what the line gives meaning to (space, quotes,
    ``$``, braces, backslash); elsewhere it stays, so an unquoted ``\\d+`` regex survives."""
    return line[i] == "\\" and i + 1 < len(line) and line[i + 1] in _ESCAPABLE


_ESCAPABLE = frozenset(" \t'\"\\$`{}")


def _skip_braces(line: str, i: int) -> int:
    """Index after the character at ``i``; after the whole ``{expression}`` when one opens
    there, so ``--hp lr={base * 2}`` is one token (quotes and nesting inside are kept)."""
    if line[i] != "{" or line.startswith("{{", i):
        return i + 2 if line.startswith("{{", i) else i + 1
    depth, quote, j = 0, "", i
    while j < len(line):
        c = line[j]
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return i + 1  # no closing brace: an ordinary character


@dataclass
class ExpandedLine:
    """Argument strings for argparse plus the objects that whole-reference tokens stand for."""

    args: list[str]
    objects: list[Any]

    def resolve(self, text: str) -> Any:
        """A parsed value back to its object when it is exactly a placeholder, else text."""
        match = _PLACEHOLDER.fullmatch(text)
        if match:
            return self.objects[int(match.group(1))]
        return _PLACEHOLDER.sub(lambda m: str(self.objects[int(m.group(1))]), text)


def expand_line(line: str, namespace: Mapping[str, Any]) -> ExpandedLine:
    """Tokenize ``line`` and expand references from ``namespace`` (see module docstring)."""
    raw = split_line(line)
    result = ExpandedLine([], [])
    for index, segments in enumerate(raw):
        option = _option_context(raw, index)
        parts: list[Any] = []  # str pieces or _Obj
        for text, expandable in segments:
            parts.extend(_expand_segment(text, namespace, option) if expandable else [text])
        result.args.append(_join_parts(parts, result.objects))
    return result


class _Obj:
    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value


def _option_context(raw: list[list[tuple[str, bool]]], index: int) -> str:
    def plain(i: int) -> str:
        return "".join(t for t, _ in raw[i])

    here = plain(index)
    if here.startswith("--"):
        return here.split("=", 1)[0]
    if index > 0 and plain(index - 1).startswith("--"):
        return plain(index - 1)
    return "line"


def _expand_segment(text: str, namespace: Mapping[str, Any], option: str) -> list[Any]:
    parts: list[Any] = []
    pos = 0
    for m in _REF.finditer(text):
        parts.append(text[pos:m.start()])
        token, name, expr = m.group(0), m.group(1), m.group(2)
        if token == "$$":
            parts.append("$")
        elif token in ("{{", "}}"):
            parts.append(token[0])
        elif name is not None:
            if name not in namespace:
                raise SpecError(option, f"${name}: no variable named {name!r} in the notebook",
                                "an existing variable, or $$ for a literal $")
            parts.append(_Obj(namespace[name]))
        elif _QUANTIFIER.match(expr):
            parts.append(token)  # {3} or {1,5}: a regex quantifier, not an expression
        else:
            try:
                value = eval(expr, dict(namespace))
            except Exception as exc:
                raise SpecError(option, f"{{{expr}}}: {type(exc).__name__}: {exc}",
                                "a Python expression, or '...' quotes for literal text") from None
            parts.append(_Obj(value))
        pos = m.end()
    parts.append(text[pos:])
    return [p for p in parts if not (isinstance(p, str) and p == "")]


def _join_parts(parts: list[Any], objects: list[Any]) -> str:
    objs = [p for p in parts if isinstance(p, _Obj)]
    whole = len(objs) == 1 and (
        len(parts) == 1 or (len(parts) == 2 and isinstance(parts[0], str)
                            and parts[0].endswith("=") and isinstance(parts[1], _Obj)))
    if whole:
        objects.append(objs[0].value)
        prefix = parts[0] if len(parts) == 2 else ""
        return f"{prefix}\x00{len(objects) - 1}\x00"
    return "".join(p if isinstance(p, str) else str(p.value) for p in parts)


# ---- namespace → spec ----------------------------------------------------------------

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
        whole_object = _PLACEHOLDER.fullmatch(item.split("=", 1)[1]) is not None
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


def stray_value(raw: str, line: ExpandedLine) -> SpecError:
    """The error for a word no option takes (argparse would make a word after the options
    the variable name; only the first word is), naming the option it follows."""
    before = line.args[:line.args.index(raw)] if raw in line.args else []
    option = next((a.split("=", 1)[0] for a in reversed(before) if a.startswith("-")), "line")
    return SpecError(option, f"unexpected extra value {_str(line.resolve(raw))!r}",
                     "one value per option, quoted when it holds spaces; a variable name "
                     "comes first, as in %%sm_train job --wait")


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


# ---- spec → line ---------------------------------------------------------------------

def quote(token: str) -> str:
    """Quote a token so :func:`split_line` returns it unchanged and unexpanded."""
    if token and _SAFE_TOKEN.match(token):
        return token
    return "'" + token.replace("'", "'\"'\"'") + "'"


def _hp_text(value: Any) -> str:
    if isinstance(value, str) and hp.parse_value(value) == value and type(
            hp.parse_value(value)) is str:
        return value
    return json.dumps(value, separators=(",", ":"))


def render_line(spec: TrainingSpec, variable: str | None = None,
                skip: frozenset[str] = frozenset()) -> str:
    """The ``%%sm_train`` line that parses back to ``spec`` (launch flags not included);
    options in ``skip`` are left out (the form renders those from its own fields)."""
    out = ["%%sm_train"]
    if variable:
        out.append(variable)

    def add(flag: str, value: Any) -> None:
        if flag in skip:
            return
        text = quote(str(value))
        # a value starting with '-' would read as an option: attach it with '='
        out.extend([f"{flag}={text}"] if text.startswith("-") else [flag, text])

    add("--mode", spec.mode)
    add("--hp-style", spec.hp_style)
    simple = [("--entry-script", spec.entry_script if spec.entry_script != DEFAULT_ENTRY_SCRIPT
               else None), ("--source-dir", spec.source_dir),
              ("--requirements", spec.requirements), ("--image", spec.image),
              ("--image-kind", spec.image_kind),
              ("--instance-type", spec.instance_type),
              ("--instance-count", spec.instance_count if spec.instance_count != 1 else None),
              ("--volume-gb", spec.volume_gb)]
    for flag, value in simple:
        if value is not None:
            add(flag, value)
    for dep in spec.dependencies:
        add("--dependencies", dep)
    for key, value in spec.hyperparameters.items():
        add("--hp", f"{key}={_hp_text(value)}")
    for ch in spec.channels:
        add("--input", f"{ch.name}={ch.source}")
    for ch in spec.channels:
        if ch.content_type:
            add("--content-type", f"{ch.name}={ch.content_type}")
    rest = [("--distributed", spec.distribution), ("--processes-per-host",
            spec.processes_per_host), ("--max-run", spec.max_run),
            ("--max-wait", spec.max_wait), ("--checkpoint-s3", spec.checkpoint_s3),
            ("--keep-alive", spec.keep_alive), ("--role", spec.role), ("--output", spec.output),
            ("--region", spec.region), ("--job-name", spec.job_name),
            ("--base-job-name", spec.base_job_name), ("--python", spec.python),
            ("--command", spec.command)]
    for flag, value in rest:
        if value is not None:
            add(flag, value)
    if spec.spot and "--spot" not in skip:
        out.append("--spot")
    for flag, ids in (("--subnets", spec.subnets), ("--security-groups", spec.security_groups)):
        if ids:
            add(flag, ",".join(ids))
    if spec.network_isolation and "--network-isolation" not in skip:
        out.append("--network-isolation")
    for key, value in spec.environment.items():
        add("--env", f"{key}={value}")
    for key, value in spec.tags.items():
        add("--tag", f"{key}={value}")
    for m in spec.metrics:
        add("--metric", f"{m.name}={m.regex}")
    return " ".join(out)
