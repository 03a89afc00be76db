"""mosaicolabs 0.6.3 against the server: connect, write, handlers, read back.

0.6.3 differs from 0.7.0 on the read side: it takes topic metadata from the Arrow schema
metadata (`mosaico:context` / `mosaico:properties` / `mosaico:user_metadata`) of the topic
FlightInfo and of the DoGet stream (protocol.md 10.1).
"""

from collections import defaultdict

import pytest

def same(got, want, what):
    assert len(got) == len(want), f"{what}: {len(got)} read, {len(want)} expected"
    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, f"{what}: message {i} differs:\n{g!r:.400}\n{w!r:.400}"


def test_connect_probe_and_version(client):
    # 0.6.3 connects with the `version` action; its response body is returned as is.
    assert client.version()


def test_catalog(client, recording):
    assert recording.name in client.list_sequences()
    assert client.sequence_exists(recording.name)
    assert client.topic_exists(recording.name, "/imu")
    assert not client.topic_exists(recording.name, "/nope")


def test_sequence_handler(client, recording):
    sh = client.sequence_handler(recording.name)
    assert sh is not None
    assert sh.user_metadata == recording.metadata
    assert sorted(sh.topics) == sorted(recording.topic_metadata)
    [session] = sh.sessions
    assert session.locked is True
    all_ts = [m.timestamp_ns for msgs in recording.pushed.values() for m in msgs]
    assert sh.timestamp_ns_min == min(all_ts)
    assert sh.timestamp_ns_max == max(all_ts)
    assert sh.total_size_bytes > 0


def test_topic_handlers(client, recording):
    for topic, meta in recording.topic_metadata.items():
        th = client.topic_handler(recording.name, topic)
        assert th is not None, topic
        assert th.user_metadata == meta
        assert th.locked is True
        want = recording.expected(topic)
        if want:
            assert th.ontology_tag in ("IMU", "CompressedImage")
            assert th.timestamp_ns_min == want[0].timestamp_ns
            assert th.timestamp_ns_max == want[-1].timestamp_ns
            assert th.chunks_number >= 1
        else:
            assert th.timestamp_ns_min is None


def test_topic_read_back_and_window(client, recording):
    for topic in ("/imu", "/cam/jpeg"):
        th = client.topic_handler(recording.name, topic)
        same(list(th.get_data_streamer()), recording.expected(topic), topic)
        ts = [m.timestamp_ns for m in recording.expected(topic)]
        start, end = ts[4], ts[17]
        got = list(th.get_data_streamer(start_timestamp_ns=start, end_timestamp_ns=end))
        same(got, recording.expected(topic, start, end), f"{topic} window")


def test_merged_sequence_stream(client, recording):
    sh = client.sequence_handler(recording.name)
    merged = list(sh.get_data_streamer())
    stamps = [m.timestamp_ns for _, m in merged]
    assert stamps == sorted(stamps)
    per_topic = defaultdict(list)
    for t, m in merged:
        per_topic[t].append(m)
    for topic in ("/imu", "/cam/jpeg"):
        same(per_topic[topic], recording.expected(topic), f"merged {topic}")


def test_update_and_delete(client, recording):
    import random

    from support import imu, unique
    from mosaicolabs import IMU

    name = unique("v063_update")
    with client.sequence_create(name, {}) as sw:
        sw.topic_create("a", {}, IMU).push(imu(random.Random(1), 1, 0))
    with client.sequence_update(name) as su:
        su.topic_create("b", {}, IMU).push(imu(random.Random(2), 2, 1))
    sh = client.sequence_handler(name)
    assert sorted(sh.topics) == ["/a", "/b"] and len(sh.sessions) == 2
    client.sequence_delete(name)
    assert not client.sequence_exists(name)
    assert name not in client.list_sequences()


def test_windowed_streamer_reports_the_window(client, recording):
    """0.6.3 takes a streamer's msg_count and min/max from the DoGet schema metadata; for a
    window they must describe the rows streamed (0.7.0 reports the same from time_window_info)."""
    ts = [m.timestamp_ns for m in recording.expected("/imu")]
    start, end = ts[10], ts[40]
    want = recording.expected("/imu", start, end)
    streamer = client.topic_handler(recording.name, "/imu").get_data_streamer(
        start_timestamp_ns=start, end_timestamp_ns=end
    )
    assert (streamer.msg_count, streamer.timestamp_ns_min, streamer.timestamp_ns_max) == (
        len(want),
        want[0].timestamp_ns,
        want[-1].timestamp_ns,
    )
    same(list(streamer), want, "window")


def test_windowed_sequence_streamer_reports_the_window(client, recording):
    ts = [m.timestamp_ns for m in recording.expected("/imu")]
    start, end = ts[10], ts[40]
    rows = sorted(
        m.timestamp_ns for topic in recording.pushed for m in recording.expected(topic, start, end)
    )
    streamer = client.sequence_handler(recording.name).get_data_streamer(
        start_timestamp_ns=start, end_timestamp_ns=end
    )
    assert (streamer.msg_count, streamer.timestamp_ns_min, streamer.timestamp_ns_max) == (
        len(rows),
        rows[0],
        rows[-1],
    )
    assert [m.timestamp_ns for _, m in streamer] == rows
