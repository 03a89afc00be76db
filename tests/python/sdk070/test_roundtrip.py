"""Exact data back: every message per topic, and the merged sequence stream in time order."""

from collections import defaultdict

from mosaicolabs import IMU, Message

from support import assert_same_messages, read_sequence, read_topic


def test_every_topic_reads_back_exactly_in_stable_time_order(fresh, recording):
    for spec in recording.data_topics():
        got = read_topic(fresh, recording.name, spec.name)
        assert_same_messages(got, spec.expected(), spec.name)
        for m in got:
            assert isinstance(m.data, spec.ontology), f"{spec.name}: decoded as {type(m.data)}"
            assert m.get_data(spec.ontology) is not None


def test_duplicate_timestamps_keep_push_order(fresh, recording):
    spec = recording.topics["/sensors/imu/front"]
    dup_ts = spec.expected()[10].timestamp_ns
    pushed_dups = [m for m in spec.pushed if m.timestamp_ns == dup_ts]
    assert len(pushed_dups) == 2 and pushed_dups[0] != pushed_dups[1]
    got = [m for m in read_topic(fresh, recording.name, spec.name) if m.timestamp_ns == dup_ts]
    assert_same_messages(got, pushed_dups, "duplicate timestamps")


def test_topic_streamer_reports_count_and_bounds(fresh, recording):
    for spec in recording.data_topics():
        th = fresh.topic_handler(recording.name, spec.name)
        streamer = th.get_data_streamer()
        want = spec.expected()
        assert streamer.msg_count == len(want)
        assert streamer.timestamp_ns_min == want[0].timestamp_ns
        assert streamer.timestamp_ns_max == want[-1].timestamp_ns
        assert streamer.next_timestamp() == want[0].timestamp_ns
        assert streamer.ontology_tag == spec.ontology.__ontology_tag__
        assert next(streamer) == want[0]


def test_merged_sequence_stream_is_in_global_time_order(fresh, recording):
    merged = read_sequence(fresh, recording.name)
    total = sum(len(t.pushed) for t in recording.topics.values())
    assert len(merged) == total
    stamps = [m.timestamp_ns for _, m in merged]
    assert stamps == sorted(stamps), "merged stream is not in time order"
    per_topic = defaultdict(list)
    for topic, msg in merged:
        per_topic[topic].append(msg)
    assert set(per_topic) == {t.name for t in recording.data_topics()}
    for spec in recording.data_topics():
        assert_same_messages(per_topic[spec.name], spec.expected(), f"merged {spec.name}")


def test_sequence_streamer_topic_filter(fresh, recording):
    chosen = ["/sensors/gps", "/probe"]
    merged = read_sequence(fresh, recording.name, topics=chosen)
    assert {t for t, _ in merged} == set(chosen)
    for name in chosen:
        got = [m for t, m in merged if t == name]
        assert_same_messages(got, recording.topics[name].expected(), f"filtered {name}")
    stamps = [m.timestamp_ns for _, m in merged]
    assert stamps == sorted(stamps)


def test_many_topics_in_one_session(client):
    """One DoPut stream per topic, all open at once on one connection."""
    from support import unique

    name = unique("many_topics")
    n = 40
    with client.sequence_create(name, {"topics": n}) as sw:
        writers = [sw.topic_create(f"bank/imu_{k:02d}", {"k": k}, IMU) for k in range(n)]
        assert all(w is not None for w in writers)
        for i in range(5):
            for k, w in enumerate(writers):
                w.push(
                    Message(
                        timestamp_ns=1_000 + i * 100 + k,
                        data=IMU(
                            acceleration={"x": float(k), "y": float(i), "z": 0.0},
                            angular_velocity={"x": 0.0, "y": 0.0, "z": 0.0},
                        ),
                    )
                )
    sh = client.sequence_handler(name)
    assert sorted(sh.topics) == [f"/bank/imu_{k:02d}" for k in range(n)]
    merged = list(sh.get_data_streamer())
    assert len(merged) == 5 * n
    assert [m.timestamp_ns for _, m in merged] == sorted(1_000 + i * 100 + k for i in range(5) for k in range(n))
    for topic, msg in merged:
        k = int(topic.rsplit("_", 1)[1])
        assert msg.get_data(IMU).acceleration.x == float(k)
