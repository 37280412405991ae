"""How one option's text becomes a spec value and back: the kinds of value the grammar
declares (text, whole number, duration, flag, id list, KEY=VALUE pairs, ...), and the few
options whose values need more than one word (``--hp``/``--hps``, ``--input``)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import hyperparameters as hp
from ..checks import local_path, whole_number
from ..errors import SpecError
from ..spec import FRAME_PREFIX, Channel, MetricDefinition
from .expand import PLACEHOLDER, ExpandedLine

_DURATION = re.compile(r"^(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s?)?$")


@dataclass
class Reading:
    """What a value parser may look at: its option, the line, every option argparse read,
    the notebook's directory; DataFrames found in ``--input`` are collected in ``frames``."""

    option: str
    expected: str  # the accepted form (the option's metavar), for error messages
    args: Any  # argparse.Namespace
    line: ExpandedLine
    base: Path
    frames: dict[str, Any] = field(default_factory=dict)

    def text(self, raw: str) -> str:
        """A word of the line, expanded, as text."""
        return as_text(self.line.resolve(raw))


@dataclass(frozen=True)
class Kind:
    """How an option's value is read from the line and written back to it.

    ``parse(reading, raw)`` gets argparse's raw value (a list for ``repeated`` kinds) and
    returns the spec's value; ``render(value)`` gives the words after the flag, one per
    occurrence (``None``: the flag alone).  A kind without ``parse`` belongs to another
    option that reads it (``--content-type`` is read with ``--input``)."""

    parse: Callable[[Reading, Any], Any] | None
    render: Callable[[Any], list[str | None]] | None
    repeated: bool = False
    flag: bool = False


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def parse_duration(text: str) -> int | None:
    """``3600``, ``90m``, ``2h``, ``1d``, ``1h30m`` → seconds; None when malformed."""
    m = _DURATION.match(text.strip())
    if not m or not any(m.groups()):
        return None
    d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    return ((d * 24 + h) * 60 + mi) * 60 + s


def _integer(r: Reading, raw: str) -> int:
    value = r.line.resolve(raw)
    if isinstance(value, bool):
        raise SpecError(r.option, f"{value!r} is not an integer", "a whole number")
    if isinstance(value, int):
        return value
    number = whole_number(str(value))
    if number is None:
        raise SpecError(r.option, f"{value!r} is not an integer", "a whole number of ASCII "
                        "digits, such as 2")
    return number


def _duration(r: Reading, raw: str) -> int:
    value = r.line.resolve(raw)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    seconds = parse_duration(str(value))
    if seconds is None:
        raise SpecError(r.option, f"{value!r} is not a duration",
                        "seconds or a duration such as 90m, 2h, 1d, 1h30m")
    return seconds


def _id_list(r: Reading, raw: str) -> list[str]:
    """``a,b , c`` → ``["a", "b", "c"]`` (empty items dropped)."""
    return [part.strip() for part in r.text(raw).split(",") if part.strip()]


def pair(r: Reading, item: str) -> tuple[str, Any]:
    """``KEY=VALUE`` → (key, expanded value); the key must be there."""
    if "=" not in item.replace("\x00", ""):
        raise SpecError(r.option, f"{r.line.resolve(item)!r} has no '='", r.expected)
    key, raw_value = item.split("=", 1)
    key = r.text(key).strip()
    if not key:
        raise SpecError(r.option, f"{r.line.resolve(item)!r} has an empty name", r.expected)
    return key, r.line.resolve(raw_value)


def pairs(r: Reading, items: list[str]) -> list[tuple[str, Any]]:
    """Every ``KEY=VALUE`` of a repeated option, each key once."""
    out = []
    seen = set()
    for item in items:
        key, value = pair(r, item)
        if key in seen:
            raise SpecError(r.option, f"{key!r} given twice", r.expected)
        seen.add(key)
        out.append((key, value))
    return out


def _text_pairs(r: Reading, items: list[str]) -> dict[str, str]:
    return {key: as_text(value) for key, value in pairs(r, items)}


def _metrics(r: Reading, items: list[str]) -> list[MetricDefinition]:
    return [MetricDefinition(name, as_text(regex)) for name, regex in pairs(r, items)]


def _one(value: Any) -> list[str | None]:
    return [str(value)]


TEXT = Kind(lambda r, raw: r.text(raw), _one)
INT = Kind(_integer, _one)
DURATION = Kind(_duration, _one)
FLAG = Kind(lambda r, raw: bool(raw), lambda value: [None], flag=True)
TEXT_LIST = Kind(lambda r, raws: [r.text(p) for p in raws],
                 lambda values: [str(v) for v in values], repeated=True)
ID_LIST = Kind(_id_list, lambda ids: [",".join(ids)])
TEXT_PAIRS = Kind(_text_pairs, lambda mapping: [f"{k}={v}" for k, v in mapping.items()],
                  repeated=True)
METRICS = Kind(_metrics, lambda metrics: [f"{m.name}={m.regex}" for m in metrics],
               repeated=True)


def _json_object(r: Reading, raw: str) -> dict[str, Any]:
    """A JSON object written on the line, or a ``$dict`` of the notebook's."""
    value = r.line.resolve(raw)
    if isinstance(value, Mapping):
        return dict(value)
    if not isinstance(value, str):
        raise SpecError(r.option, f"a {type(value).__name__} is not a JSON object", r.expected)
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise SpecError(r.option, f"invalid JSON at column {exc.colno}: {exc.msg}",
                        r.expected) from None
    if not isinstance(parsed, dict):
        raise SpecError(r.option, f"{value} is a JSON {type(parsed).__name__}, not an object",
                        r.expected)
    return parsed


JSON_OBJECT = Kind(_json_object, lambda value: [json.dumps(value, separators=(",", ":"))])


# ---- hyperparameters: --hps (a file or a dict), then each --hp over it -------------------

def hp_text(value: Any) -> str:
    """A hyperparameter value as ``--hp KEY=`` text that parses back to the same value."""
    if isinstance(value, str) and hp.parse_value(value) == value and type(
            hp.parse_value(value)) is str:
        return value
    return json.dumps(value, separators=(",", ":"))


def _hyperparameters(r: Reading, items: list[str]) -> dict[str, Any]:
    hyper: dict[str, Any] = {}
    if r.args.hps:
        hyper.update(load_hps(r.line.resolve(r.args.hps), r.base))
    # each --hp may override --hps, not itself; a whole $reference keeps the object
    for (key, value), item in zip(pairs(r, items), items, strict=True):
        whole_object = PLACEHOLDER.fullmatch(item.split("=", 1)[1]) is not None
        hyper[key] = value if whole_object else hp.parse_value(value)
    return hyper


HYPERPARAMETERS = Kind(_hyperparameters,
                       lambda hps: [f"{k}={hp_text(v)}" for k, v in hps.items()], repeated=True)
READ_WITH_HP = Kind(None, None)  # --hps: merged into --hp's values, never rendered


def load_hps(source: Any, base: Path) -> dict[str, Any]:
    """``--hps``: a dict from the notebook, or a .json/.yaml file of hyperparameters."""
    if isinstance(source, Mapping):
        return dict(source)
    if not isinstance(source, str):
        raise SpecError("--hps", f"a {type(source).__name__} is not a dict or a file",
                        "PATH.json, PATH.yaml or a $dict variable")
    path = local_path("--hps", base, source)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise SpecError("--hps", f"{source}: unknown file type",
                        "PATH.json, PATH.yaml or a $dict variable")
    if not path.is_file():
        raise SpecError("--hps", f"{source} does not exist", "PATH.json, PATH.yaml or a $dict")
    data = _read_mapping_file(source, path.read_text(), suffix)
    if not isinstance(data, dict):
        raise SpecError("--hps", f"{source} holds a {type(data).__name__}, not a mapping",
                        "a JSON object or YAML mapping of hyperparameters")
    return data


def _read_mapping_file(source: str, text: str, suffix: str) -> Any:
    try:
        if suffix == ".json":
            return json.loads(text)
        return _load_yaml(source, text)
    except SpecError:
        raise
    except json.JSONDecodeError as exc:
        raise SpecError("--hps", f"{source}: invalid JSON at line {exc.lineno} column "
                        f"{exc.colno}: {exc.msg}", "a JSON object of hyperparameters") from None
    except Exception as exc:  # yaml.YAMLError
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SpecError("--hps", f"{source}: invalid YAML: {first}",
                        "a YAML mapping of hyperparameters") from None


def _load_yaml(source: str, text: str) -> Any:
    """YAML without aliases: ``*name`` repeats a value by reference, and nine of them
    nested in 1 KB (the "billion laughs") stand for a billion items."""
    import yaml  # only when a YAML file is read

    class NoAliases(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                alias = self.peek_event()
                raise SpecError("--hps", f"{source}: line {alias.start_mark.line + 1}: YAML "
                                f"alias *{alias.anchor} is not accepted (a value repeated by "
                                "reference can stand for billions of items)",
                                "a YAML mapping that writes each value out, without *aliases")
            return super().compose_node(parent, index)

    return yaml.load(text, Loader=NoAliases)  # a SafeLoader


# ---- channels: --input NAME=SOURCE, then --content-type NAME=TYPE of those ---------------

def _is_dataframe(value: Any) -> bool:
    """A pandas DataFrame, recognised without importing pandas."""
    return type(value).__name__ == "DataFrame" and callable(getattr(value, "to_csv", None))


def _channel(r: Reading, name: str, source: Any) -> Channel:
    if _is_dataframe(source):  # staged as CSV in the job when it is launched
        r.frames[name] = source
        return Channel(name, f"{FRAME_PREFIX}{name}", "text/csv")
    if not isinstance(source, str):
        raise SpecError("--input", f"{name}: a {type(source).__name__} is not a path",
                        "NAME=PATH, NAME=s3://bucket/prefix or NAME=$dataframe")
    if source.startswith(FRAME_PREFIX):
        raise SpecError("--input", f"{name}: {source} stands for a DataFrame",
                        f"{name}=$variable, the DataFrame itself")
    if not source.strip():
        raise SpecError("--input", f"{name}: no path after '='", "NAME=PATH_OR_S3_URI")
    return Channel(name, source)


def _channels(r: Reading, items: list[str]) -> list[Channel]:
    channels = [_channel(r, *pair(r, item)) for item in items]  # duplicates: validation
    by_name = {c.name: c for c in channels}
    types = Reading("--content-type", "NAME=TYPE", r.args, r.line, r.base)
    for name, ctype in pairs(types, r.args.content_type):
        if name not in by_name:
            raise SpecError("--content-type", f"no --input channel named {name!r}",
                            "NAME=TYPE for a channel given with --input")
        by_name[name].content_type = str(ctype)
    return channels


CHANNELS = Kind(_channels, lambda channels: [f"{c.name}={c.source}" for c in channels],
                repeated=True)
CONTENT_TYPES = Kind(None, lambda channels: [f"{c.name}={c.content_type}" for c in channels
                                             if c.content_type], repeated=True)
