"""The ledger hands out each CloudWatch event once, whether Live Tail or a read brings it
first, and keeps each stream's order when Live Tail misses events."""

from __future__ import annotations

from sm_notebook.backends.sagemaker.log_ledger import CloudEvent, LogLedger

S1, S2 = "job/algo-1-1700000000", "job/algo-2-1700000000"


def ev(n: int, stream: str = S1, message: str | None = None) -> CloudEvent:
    return CloudEvent(stream, 1_000 + n, message or f"line {n}", 5_000 + n)


def messages(events: list[CloudEvent]) -> list[str]:
    return [e.message for e in events]


def in_step(ledger: LogLedger, *streams: str) -> None:
    """A session runs and a read has caught up with each stream."""
    ledger.session_started(list(streams))
    for stream in streams:
        assert ledger.from_read(stream, [], caught_up=True) == []


def test_without_live_tail_reads_hand_out_everything():
    ledger = LogLedger()
    assert messages(ledger.from_read(S1, [ev(1), ev(2)], caught_up=True)) == ["line 1",
                                                                               "line 2"]
    assert ledger.waiting() == []


def test_in_step_live_events_go_out_at_once_and_the_next_read_skips_them():
    ledger = LogLedger()
    in_step(ledger, S1)
    assert messages(ledger.from_live([ev(1), ev(2)])) == ["line 1", "line 2"]
    assert messages(ledger.from_read(S1, [ev(1), ev(2), ev(3)], caught_up=True)) == [
        "line 3"]


def test_a_read_first_then_the_same_events_from_live_tail_go_out_once():
    ledger = LogLedger()
    in_step(ledger, S1)
    assert messages(ledger.from_read(S1, [ev(1)], caught_up=True)) == ["line 1"]
    assert messages(ledger.from_live([ev(1), ev(2)])) == ["line 2"]


def test_a_new_stream_is_held_until_a_read_catches_up_then_order_is_kept():
    ledger = LogLedger()
    ledger.session_started()
    assert ledger.from_live([ev(5), ev(6)]) == []  # lines 1..4 came before: held back
    assert ledger.waiting() == [S1]
    out = ledger.from_read(S1, [ev(1), ev(2), ev(3), ev(4), ev(5)], caught_up=True)
    assert messages(out) == [f"line {n}" for n in (1, 2, 3, 4, 5, 6)]
    assert ledger.waiting() == []
    assert ledger.from_read(S1, [ev(6), ev(7)], caught_up=True) == [ev(7)]


def test_a_read_that_did_not_catch_up_keeps_holding():
    ledger = LogLedger()
    ledger.session_started()
    ledger.from_live([ev(9)])
    assert messages(ledger.from_read(S1, [ev(1)], caught_up=False)) == ["line 1"]
    assert ledger.waiting() == [S1]
    assert messages(ledger.from_read(S1, [ev(2), ev(9)], caught_up=True)) == ["line 2",
                                                                               "line 9"]


def test_a_sampled_update_is_left_to_the_reads_which_keep_the_order():
    ledger = LogLedger()
    in_step(ledger, S1, S2)
    assert ledger.from_live([ev(1), ev(3)], sampled=True) == []  # line 2 was sampled away
    assert ledger.sampled == 1
    assert ledger.waiting() == [S1]  # only the stream the update touched
    assert messages(ledger.from_read(S1, [ev(1), ev(2), ev(3)], caught_up=True)) == [
        "line 1", "line 2", "line 3"]
    assert ledger.from_live([ev(3), ev(4)]) == [ev(4)]  # a late copy of 3 is skipped


def test_a_new_session_reads_every_stream_before_trusting_live_tail_again():
    ledger = LogLedger()
    in_step(ledger, S1, S2)
    ledger.session_ended()
    ledger.session_started()
    assert ledger.waiting() == [S1, S2]
    assert ledger.from_live([ev(7, S2)]) == []
    assert messages(ledger.from_read(S2, [ev(6, S2), ev(7, S2)], caught_up=True)) == [
        "line 6", "line 7"]


def test_the_same_line_twice_in_one_millisecond_counts_twice():
    ledger = LogLedger()
    in_step(ledger, S1)
    twice = [ev(1, message="same"), ev(1, message="same")]
    assert len(ledger.from_live(twice)) == 2
    assert ledger.from_read(S1, [*twice, ev(1, message="same")], caught_up=True) == [
        ev(1, message="same")]


def test_after_the_session_reads_hand_out_all_that_live_tail_did_not():
    ledger = LogLedger()
    in_step(ledger, S1)
    ledger.from_live([ev(1)])
    ledger.from_live([ev(3)], sampled=True)
    ledger.session_ended()
    assert ledger.waiting() == []
    assert messages(ledger.from_read(S1, [ev(1), ev(2), ev(3)], caught_up=True)) == [
        "line 2", "line 3"]


def test_what_live_tail_handed_out_survives_a_restart_of_the_follower():
    ledger = LogLedger()
    in_step(ledger, S1)
    ledger.from_live([ev(1), ev(2)])
    ledger.from_read(S1, [ev(1)], caught_up=True)

    again = LogLedger.from_dict(ledger.to_dict())

    assert ledger.to_dict() == {S1: [[1_002, "line 2"]]}
    assert messages(again.from_read(S1, [ev(2), ev(3)], caught_up=True)) == ["line 3"]


def test_events_read_long_before_live_tail_s_horizon_are_forgotten():
    ledger = LogLedger()
    in_step(ledger, S1)
    old = CloudEvent(S1, 1, "old", ingestion=1_000)
    ledger.from_read(S1, [old], caught_up=True)
    ledger.from_live([CloudEvent(S1, 2, "new", ingestion=1_000 + 61_000)])
    assert ledger.from_live([CloudEvent(S1, 1, "old", ingestion=1_000)]) == [
        CloudEvent(S1, 1, "old", ingestion=1_000)]  # not mistaken for the read one


def test_a_stream_with_many_live_events_no_read_has_met_is_read_early(monkeypatch):
    from sm_notebook.backends.sagemaker import log_ledger

    monkeypatch.setattr(log_ledger, "READ_AFTER", 3)
    ledger = LogLedger()
    in_step(ledger, S1)
    ledger.from_live([ev(n) for n in range(3)])
    assert ledger.waiting() == []
    ledger.from_live([ev(3)])
    assert ledger.waiting() == [S1]
    ledger.from_read(S1, [ev(n) for n in range(4)], caught_up=True)
    assert ledger.waiting() == []


def test_the_bound_forgets_the_oldest_copies_not_newer_ones(monkeypatch):
    from sm_notebook.backends.sagemaker import log_ledger

    monkeypatch.setattr(log_ledger, "MAX_REMEMBERED", 3)
    remembered = log_ledger._Remembered()
    for key in [(1, "a"), (2, "b"), (1, "a")]:
        remembered.add(key)
    assert remembered.take((1, "a"))  # the first copy is met
    remembered.add((3, "c"))  # the met copy leaves the front: the second "a" stays
    assert remembered.oldest_first() == [(2, "b"), (1, "a"), (3, "c")]
    remembered.add((4, "d"))  # now "b" is forgotten
    assert remembered.oldest_first() == [(1, "a"), (3, "c"), (4, "d")]
    assert len(remembered) == 3


def test_a_read_between_sessions_is_not_repeated_by_a_session_already_open_at_the_service():
    ledger = LogLedger()
    in_step(ledger, S1)
    ledger.session_ended()
    # The next session opened at the service before line 1 was ingested; a read hands the
    # line out before this side has heard of the session.
    assert ledger.from_read(S1, [ev(1)], caught_up=True) == [ev(1)]
    ledger.session_started([S1])
    assert ledger.from_live([ev(1), ev(2)]) == []  # held until a read: line 1 is known
    assert ledger.from_read(S1, [ev(2)], caught_up=True) == [ev(2)]
    assert ledger.waiting() == []
