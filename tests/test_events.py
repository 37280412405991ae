"""Log lines, their on-disk records, and metrics parsed from them client-side."""

from __future__ import annotations

import re

import pytest

from sm_notebook.events import (
    DEFAULT_METRICS,
    LogEvent,
    MetricParser,
    iso_to_epoch,
    required_literal,
    step_of,
)


@pytest.mark.parametrize("message", ["plain", "tab\tinside", "back\\slash", "", "ünïcode ✓",
                                     "trailing space "])
def test_a_log_record_round_trips(message):
    event = LogEvent("2026-11-24T10:00:00.000001Z", "algo-2", message, "stderr")
    record = event.to_record()
    assert record.endswith("\n") and record.count("\n") == 1
    assert LogEvent.from_record(record) == event


def parse(line: str, definitions=None) -> list[tuple[str, float]]:
    return MetricParser(definitions).parse(line)


@pytest.mark.parametrize(("line", "found"), [
    ("epoch 1 loss=0.25", [("loss", 0.25)]),
    ("Epoch 3: train_loss: 1.5e-3 accuracy: 0.91", [("loss", 1.5e-3), ("accuracy", 0.91)]),
    ("{'loss': 0.5, 'eval_loss': 0.7, 'eval_accuracy': 0.8}",
     [("loss", 0.5), ("val_loss", 0.7), ("val_accuracy", 0.8)]),
    ("val_loss=0.4", [("val_loss", 0.4)]),            # not also reported as loss
    ("test acc: 97.5", [("val_accuracy", 97.5)]),
    ("val loss 0.3 train loss 0.2", [("loss", 0.2), ("val_loss", 0.3)]),
    ("Loss = -2", [("loss", -2.0)]),
    ("downloading loss_function.py", []),
    ("no metrics here", []),
])
def test_default_definitions_cover_common_spellings(line, found):
    assert parse(line) == found


def test_custom_definitions_replace_the_defaults_and_use_the_first_group():
    defs = [("throughput", r"([0-9.]+) samples/s"), ("lr", r"lr=([0-9.e-]+)")]
    assert parse("step 7 loss=1.0 lr=3e-4 812.5 samples/s", defs) == [
        ("throughput", 812.5), ("lr", 3e-4)]


def test_a_capture_that_is_not_a_number_is_dropped_as_sagemaker_does():
    assert parse("loss=nan-ish", [("loss", r"loss=(\S+)")]) == []


def test_points_carry_time_host_and_step_in_line_order():
    events = [LogEvent("2026-11-24T10:00:00.000000Z", "algo-1", "epoch 1 loss=0.5 acc=0.7"),
              LogEvent("2026-11-24T10:00:00.000000Z", "algo-1", "chatter"),
              LogEvent("2026-11-24T10:00:01.500000Z", "algo-2", "epoch 2 loss=0.4")]
    points = MetricParser().points(events)
    assert [(p.host, p.metric, p.value, p.step) for p in points] == [
        ("algo-1", "loss", 0.5, 1.0), ("algo-1", "accuracy", 0.7, 1.0),
        ("algo-2", "loss", 0.4, 2.0)]
    assert points[2].timestamp - points[0].timestamp == pytest.approx(1.5)
    assert points[0].timestamp == iso_to_epoch("2026-11-24T10:00:00.000000Z")


@pytest.mark.parametrize(("line", "step"), [
    ("Epoch 3/10 loss=1", 3.0), ("step: 120 loss 2", 120.0), ("iteration=7", 7.0),
    ("loss 0.1", None)])
def test_step_of_a_line(line, step):
    assert step_of(line) == step


@pytest.mark.parametrize(("regex", "literal"), [
    (r"loss=([0-9.]+)", ("loss=", False)),
    (r"([0-9.]+) samples/s", (" samples/s", False)),
    (r"(?i)Train_Loss=(\S+)", ("train_loss=", True)),
    (r"ab?c=(\d)", ("c=", False)),
    (r"(loss|acc)=(\d+)", ("=", False)),
    (r"(\d+)", ("", False)),
])
def test_the_prefilter_literal_is_text_every_match_contains(regex, literal):
    assert required_literal(re.compile(regex)) == literal


def test_the_prefilter_never_hides_a_match_the_regex_finds():
    lines = ["LOSS: 1", "loss=2", "Train loss 3", "val_loss 4", "x", "ACCURACY 0.5",
             "ſ loss 1"]
    for name, regex in DEFAULT_METRICS:
        compiled = re.compile(regex)
        expected = [(name, float(m.group(1))) for line in lines
                    if (m := compiled.search(line))]
        found = [hit for line in lines for hit in parse(line, [(name, regex)])]
        assert found == expected
