"""Log lines, their on-disk records, and metrics parsed from them client-side."""

from __future__ import annotations

import re

import pytest

from sm_notebook.clock import iso_to_epoch
from sm_notebook.events import LogEvent
from sm_notebook.jobdir import parse_records
from sm_notebook.metrics import DEFAULT_METRICS, MetricParser, required_literal, step_of


@pytest.mark.parametrize("message", [
    "plain", "tab\tinside", "\ttwo\t\ttabs\t", "back\\slash", "C:\\temp\\new", "escaped \\n \\t",
    "", "ünïcode ✓", "trailing space ", "progress\r", "\x1b[32mgreen\x1b[0m"])
def test_a_log_record_round_trips(message):
    event = LogEvent("2026-11-24T10:00:00.000001Z", "algo-2", message, "stderr")
    record = event.to_record()
    assert record.endswith("\n") and record.count("\n") == 1
    assert record == f"2026-11-24T10:00:00.000001Z\talgo-2\tstderr\t{message}\n"
    assert LogEvent.from_record(record) == event
    assert LogEvent.from_record(record[:-1]) == event  # a line read without its newline
    assert parse_records(record.encode()) == [event]   # how job.log is read back


@pytest.mark.parametrize(("message", "lines"), [
    ("first\nsecond", ["first", "second"]),
    ("a\r\nb\n", ["a", "b", ""]),
    ("\n", ["", ""]),
    ("tab\there\nback\\slash\n\nend", ["tab\there", "back\\slash", "", "end"]),
])
def test_a_message_with_line_breaks_becomes_one_record_per_line(message, lines):
    # job.log is read line by line: one record must never span two lines
    event = LogEvent("2026-11-24T10:00:00.000001Z", "algo-1", message)
    records = event.to_record()
    assert records.count("\n") == len(lines)
    again = [LogEvent.from_record(r) for r in records.splitlines(keepends=True)]
    assert again == [event._replace(message=line) for line in lines]
    assert parse_records(records.encode()) == again  # nothing lost when read back


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
    ("", []),
    ("Epoch 1/10 - loss: 0.5 - accuracy: 0.9 - val_loss: 0.4 - val_accuracy: 0.91",
     [("loss", 0.5), ("accuracy", 0.9), ("val_loss", 0.4), ("val_accuracy", 0.91)]),
    ('{"train_loss": 1e-05, "val_acc": 0.5}', [("loss", 1e-05), ("val_accuracy", 0.5)]),
    ("train loss 1.2E+01", [("loss", 12.0)]),
    ("LOSS=.5 acc=97.", [("loss", 0.5), ("accuracy", 97.0)]),
    ("val/loss: 0.3 train/loss: 0.2", [("loss", 0.2), ("val_loss", 0.3)]),
    ("val-loss=0.3 valid/acc=0.6", [("val_loss", 0.3), ("val_accuracy", 0.6)]),
    ("eval_loss: 0.7", [("val_loss", 0.7)]),
    ("validation accuracy: 0.75", [("val_accuracy", 0.75)]),
    ("loss_scale: 65536", []),                      # fp16 loss scale is not a loss
    ("epoch_loss=2 val.loss=3", []),
])
def test_default_definitions_cover_common_spellings(line, found):
    assert parse(line) == found


@pytest.mark.parametrize("line", ["val_loss=0.4", "val loss 0.4", "val/loss: 0.4",
                                  "val-loss 0.4", "eval_loss=0.4", "test loss: 0.4",
                                  "validation_loss=0.4", "VAL_LOSS: 0.4"])
def test_a_validation_loss_is_never_also_reported_as_the_loss(line):
    assert parse(line) == [("val_loss", 0.4)]


def test_custom_definitions_replace_the_defaults_and_use_the_first_group():
    defs = [("throughput", r"([0-9.]+) samples/s"), ("lr", r"lr=([0-9.e-]+)")]
    assert parse("step 7 loss=1.0 lr=3e-4 812.5 samples/s", defs) == [
        ("throughput", 812.5), ("lr", 3e-4)]


@pytest.mark.parametrize(("definitions", "line", "found"), [
    # SageMaker MetricDefinitions as users write them (aws docs / SDK examples)
    ([("train:loss", r"Train_Loss=([0-9\.]+)")], "Epoch 2 Train_Loss=0.25;",
     [("train:loss", 0.25)]),
    ([("loss", r"loss: ([0-9\.e\-+]+)")], "step 9 loss: 3.5e-05", [("loss", 3.5e-05)]),
    ([("loss", r"loss: ([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)")], "loss: 2E+3",
     [("loss", 2000.0)]),
    ([("epoch", r"epoch (\d+) loss=([0-9.]+)")], "epoch 4 loss=0.5", [("epoch", 4.0)]),
    ([("a", r"a=([0-9.]+)"), ("b", r"b=([0-9.]+)"), ("c", r"c=([0-9.]+)")],
     "c=3 a=1 b=2", [("a", 1.0), ("b", 2.0), ("c", 3.0)]),  # definition order
    ([("loss", r"loss=([0-9.]+)")], "nothing to see", []),
    ([("loss", r"loss=([0-9.]+)")], "loss=1 loss=2", [("loss", 1.0)]),  # first match
    ([("loss", r"(?i)LOSS=([0-9.]+)")], "Loss=4", [("loss", 4.0)]),
    ([("loss", r"Loss=([0-9.]+)")], "loss=4", []),  # case-sensitive unless the regex says
])
def test_sagemaker_style_definitions(definitions, line, found):
    assert parse(line, definitions) == found


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
    ("{'epoch': 2, 'loss': 0.5}", 2.0), ("iter 5", 5.0), ("STEP=8", 8.0),
    ("loss 0.1", None), ("steps: 100", None), ("", None)])
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
