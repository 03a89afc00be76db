"""Time windows [start, end): topic and sequence level, open-ended and empty."""

from collections import defaultdict

import pytest

from support import assert_same_messages, read_sequence


def topic_windows(spec):
    """Windows on row boundaries, between rows, open on either side, and empty ones."""
    ts = [m.timestamp_ns for m in spec.expected()]
    lo, hi = ts[0], ts[-1]
    mid = ts[len(ts) // 2]
    return [
        (ts[3], ts[9]),  # starts on a row (included), ends on a row (excluded)
        (ts[3] + 1, ts[9] + 1),  # between rows on both sides
        (lo, hi),  # everything but the last row(s)
        (lo, hi + 1),  # everything
        (mid, None),  # open end
        (None, mid),  # open start
        (lo - 10**12, lo + 1),  # starts well before the data
        (hi, hi + 10**12),  # only the last timestamp
    ]


def empty_windows(spec):
    ts = [m.timestamp_ns for m in spec.expected()]
    gap = next(i for i in range(len(ts) - 1) if ts[i + 1] - ts[i] > 2)
    return [
        (ts[gap] + 1, ts[gap + 1]),  # strictly between two rows
        (ts[-1] + 1, ts[-1] + 10**9),  # after the data
        (ts[0] - 10**9, ts[0]),  # before the data (end exclusive)
    ]


def test_topic_windows(fresh, recording):
    for spec in recording.data_topics():
        for start, end in topic_windows(spec):
            want = spec.expected(start, end)
            th = fresh.topic_handler(recording.name, spec.name)
            streamer = th.get_data_streamer(start_timestamp_ns=start, end_timestamp_ns=end)
            assert streamer.msg_count == len(want), (spec.name, start, end)
            assert streamer.timestamp_ns_min == want[0].timestamp_ns
            assert streamer.timestamp_ns_max == want[-1].timestamp_ns
            assert_same_messages(list(streamer), want, f"{spec.name} [{start}, {end})")


def test_empty_topic_windows_stream_nothing(fresh, recording):
    for spec in recording.data_topics():
        for start, end in empty_windows(spec):
            th = fresh.topic_handler(recording.name, spec.name)
            streamer = th.get_data_streamer(start_timestamp_ns=start, end_timestamp_ns=end)
            assert streamer.msg_count == 0, (spec.name, start, end)
            assert streamer.timestamp_ns_min is None
            assert list(streamer) == []


def merged_expectation(recording, start, end, topics=None):
    return {
        spec.name: spec.expected(start, end)
        for spec in recording.data_topics()
        if (not topics or spec.name in topics) and spec.expected(start, end)
    }


def check_merged(merged, want, what):
    stamps = [m.timestamp_ns for _, m in merged]
    assert stamps == sorted(stamps), f"{what}: not in time order"
    per_topic = defaultdict(list)
    for topic, msg in merged:
        per_topic[topic].append(msg)
    assert set(per_topic) == set(want), what
    for name, msgs in want.items():
        assert_same_messages(per_topic[name], msgs, f"{what} {name}")


def test_sequence_windows(fresh, recording):
    stamps = recording.all_timestamps()
    lo, hi = stamps[0], stamps[-1]
    a, b = stamps[len(stamps) // 4], stamps[len(stamps) // 2]
    for start, end in [(a, b), (a + 1, b + 1), (a, None), (None, b), (lo, hi + 1), (hi, None)]:
        merged = read_sequence(fresh, recording.name, start=start, end=end)
        check_merged(merged, merged_expectation(recording, start, end), f"[{start}, {end})")


def test_sequence_window_with_topic_filter(fresh, recording):
    stamps = recording.all_timestamps()
    start, end = stamps[100], stamps[400]
    chosen = ["/camera/front/raw", "/sensors/imu/front"]
    merged = read_sequence(fresh, recording.name, topics=chosen, start=start, end=end)
    check_merged(merged, merged_expectation(recording, start, end, chosen), "filtered window")


def test_sequence_window_skips_topics_without_rows_in_it(fresh, recording):
    # Only the IMU has rows in the first 3 ms (GPS starts at +3 ms, the probe at +1 ms).
    imu = recording.topics["/sensors/imu/front"].expected()
    start, end = imu[0].timestamp_ns, imu[0].timestamp_ns + 1_000_000
    merged = read_sequence(fresh, recording.name, start=start, end=end)
    check_merged(merged, merged_expectation(recording, start, end), "imu-only window")
    assert {t for t, _ in merged} == {"/sensors/imu/front"}


def test_empty_sequence_window_raises(fresh, recording):
    hi = recording.all_timestamps()[-1]
    sh = fresh.sequence_handler(recording.name)
    with pytest.raises(RuntimeError, match="Unable to open TopicDataStreamer"):
        sh.get_data_streamer(start_timestamp_ns=hi + 1, end_timestamp_ns=hi + 10**9)


def test_windows_at_the_ends_of_int64(fresh):
    """timestamp_ns is any int64: rows at both extremes, windows touching them."""
    from mosaicolabs import IMU, Message, Vector3d

    from support import unique

    lo, hi = -(2**63), 2**63 - 1
    stamps = [hi, 0, -1, lo, 1, hi - 1, lo + 1]
    msgs = [
        Message(
            timestamp_ns=t,
            data=IMU(acceleration=Vector3d(x=float(k), y=0.0, z=0.0), angular_velocity=Vector3d(x=0.0, y=0.0, z=0.0)),
        )
        for k, t in enumerate(stamps)
    ]
    name = unique("int64_ends")
    with fresh.sequence_create(name, {}) as sw:
        w = sw.topic_create("imu", {}, IMU)
        for m in msgs:
            w.push(m)
    th = fresh.topic_handler(name, "imu")
    assert (th.timestamp_ns_min, th.timestamp_ns_max) == (lo, hi)
    ordered = sorted(msgs, key=lambda m: m.timestamp_ns)

    def window(start, end):
        return [m for m in ordered if (start is None or m.timestamp_ns >= start) and (end is None or m.timestamp_ns < end)]

    for start, end in [(None, None), (0, hi), (lo, 0), (1, None), (None, lo + 1), (hi, None), (lo, hi)]:
        got = list(th.get_data_streamer(start_timestamp_ns=start, end_timestamp_ns=end))
        assert_same_messages(got, window(start, end), f"int64 [{start}, {end})")
    merged = list(fresh.sequence_handler(name).get_data_streamer(start_timestamp_ns=-1))
    assert_same_messages([m for _, m in merged], window(-1, None), "sequence [-1, )")


def test_inverted_or_zero_length_windows_are_rejected(fresh, recording):
    """protocol.md 5.1: start >= end SHOULD be INVALID_ARGUMENT; the SDK surfaces it."""
    spec = recording.topics["/sensors/gps"]
    t = spec.expected()[5].timestamp_ns
    th = fresh.topic_handler(recording.name, spec.name)
    for start, end in [(t, t), (t + 1, t)]:
        with pytest.raises(ConnectionError, match="invalid argument"):
            th.get_data_streamer(start_timestamp_ns=start, end_timestamp_ns=end)
    with pytest.raises(ConnectionError, match="invalid argument"):
        fresh.sequence_handler(recording.name).get_data_streamer(start_timestamp_ns=t, end_timestamp_ns=t)
