"""Catalog views: list_sequences, *_exists, sequence and topic handler metadata."""

import time

import pyarrow as pa
from mosaicolabs import SerializationFormat

from support import unique

VIEW_TYPES = {pa.string_view(): pa.string(), pa.binary_view(): pa.binary()}


def canonical(struct: pa.StructType) -> pa.StructType:
    """Top-level string_view/binary_view read as string/binary, as the SDK itself does."""
    return pa.struct(
        [pa.field(f.name, VIEW_TYPES.get(f.type, f.type), f.nullable) for f in struct]
    )


def test_list_sequences_and_exists(fresh, recording):
    names = fresh.list_sequences()
    assert recording.name in names
    assert len(names) == len(set(names)), "list_sequences lists a name twice"
    assert fresh.sequence_exists(recording.name)
    assert fresh.sequence_exists("/" + recording.name)  # sanitized by the SDK
    assert not fresh.sequence_exists(unique("never_created"))
    for spec in recording.topics.values():
        assert fresh.topic_exists(recording.name, spec.name)
        assert fresh.topic_exists(recording.name, spec.name.lstrip("/"))
    assert not fresh.topic_exists(recording.name, "/no/such/topic")
    assert not fresh.topic_exists(unique("never_created"), "/sensors/gps")
    assert fresh.sequence_handler(unique("never_created")) is None
    assert fresh.topic_handler(recording.name, "/no/such/topic") is None


def test_sequence_handler_metadata(fresh, recording):
    sh = fresh.sequence_handler(recording.name)
    assert sh is not None
    assert sh.name == recording.name
    assert sh.user_metadata == recording.metadata
    assert sorted(sh.topics) == sorted(recording.topics)
    now = time.time_ns()
    assert now - 600 * 10**9 < sh.created_timestamp <= now
    stamps = recording.all_timestamps()
    assert sh.timestamp_ns_min == stamps[0]
    assert sh.timestamp_ns_max == stamps[-1]
    assert sh.total_size_bytes > 0
    [session] = sh.sessions
    assert session.locator == recording.session_locator
    assert session.locked is True
    assert session.completed_timestamp is not None
    assert sh.created_timestamp <= session.created_timestamp <= session.completed_timestamp
    assert sorted(session.topics) == sorted(recording.topics)
    assert sh.updated_timestamps == [session.created_timestamp]


def test_topic_handler_metadata(fresh, recording):
    [session] = fresh.sequence_handler(recording.name).sessions
    total = 0
    for spec in recording.topics.values():
        th = fresh.topic_handler(recording.name, spec.name)
        assert th is not None, spec.name
        assert th.name == spec.name
        assert th.sequence_name == recording.name
        assert th.user_metadata == spec.metadata
        assert th.ontology_tag == spec.ontology.__ontology_tag__
        assert th.serialization_format == spec.ontology.__serialization_format__
        assert th.locked is True
        assert session.created_timestamp <= th.created_timestamp <= session.completed_timestamp
        assert canonical(th.ontology_schema) == canonical(spec.ontology.__msco_pyarrow_struct__)
        want = spec.expected()
        if want:
            assert th.timestamp_ns_min == want[0].timestamp_ns
            assert th.timestamp_ns_max == want[-1].timestamp_ns
            assert th.chunks_number >= 1
            assert th.total_size_bytes > 0
        else:
            assert th.timestamp_ns_min is None and th.timestamp_ns_max is None
            assert th.chunks_number == 0
        total += th.total_size_bytes
    sh = fresh.sequence_handler(recording.name)
    assert sh.total_size_bytes == total


def test_image_topics_use_the_image_format(fresh, recording):
    for name in ("/camera/front/raw", "/camera/front/jpeg"):
        assert fresh.topic_handler(recording.name, name).serialization_format == SerializationFormat.Image
    assert (
        fresh.topic_handler(recording.name, "/sensors/gps").serialization_format
        == SerializationFormat.Default
    )


def test_sequence_get_topic_handler(fresh, recording):
    sh = fresh.sequence_handler(recording.name)
    th = sh.get_topic_handler("/probe")
    assert th.ontology_tag == "tessera_probe"
    assert th.user_metadata == {"custom": True}


def test_empty_topic_reads_as_empty(fresh, recording):
    th = fresh.topic_handler(recording.name, "/empty/topic")
    assert th is not None
    try:
        th.get_data_streamer()
    except ValueError:
        pass  # the SDK refuses to stream a topic without min/max: the documented behaviour
    else:
        raise AssertionError("get_data_streamer on an empty topic should raise ValueError")


def test_invalid_metadata_keys_are_refused_before_anything_is_created(fresh):
    """protocol.md Part B 3: keys of [A-Za-z0-9 _-], no '--', checked at every depth."""
    import pytest
    from mosaicolabs import IMU

    name = unique("bad_keys")
    for bad in ({"bad.key": 1}, {"ok": {"nested--key": 1}}, {"list": [{"x/y": 1}]}):
        with pytest.raises(Exception, match="invalid json key"):
            with fresh.sequence_create(name, bad):
                pass
        assert not fresh.sequence_exists(name)
        assert name not in fresh.list_sequences()
    with fresh.sequence_create(name, {"valid key 1": {"_ros_": True, "x-y": [1]}}) as sw:
        assert sw.topic_create("bad", {"a": {"b:c": 1}}, IMU) is None
        assert sw.topic_create("good", {" spaced ": 1}, IMU) is not None
    assert fresh.sequence_handler(name).topics == ["/good"]
    assert not fresh.topic_exists(name, "/bad")


def test_ragged_format_and_case_sensitive_names(fresh):
    from mosaicolabs import Message

    import ontologies as ont
    from support import assert_same_messages

    base = unique("Case")
    msgs = [
        Message(timestamp_ns=t, data=ont.ProbeCloud(points=[0.5 * k for k in range(3 * t)], intensities=bytes(t)))
        for t in (3, 1, 2)
    ]
    with fresh.sequence_create(base, {"which": "upper"}) as sw:
        w = sw.topic_create("lidar/Cloud", {}, ont.ProbeCloud)
        for m in msgs:
            w.push(m)
    with fresh.sequence_create(base.lower(), {"which": "lower"}) as sw:
        sw.topic_create("lidar/cloud", {}, ont.ProbeCloud).push(msgs[0])
    th = fresh.topic_handler(base, "lidar/Cloud")
    assert th.serialization_format == SerializationFormat.Ragged
    assert th.ontology_tag == "tessera_probe_cloud"
    assert_same_messages(list(th.get_data_streamer()), sorted(msgs, key=lambda m: m.timestamp_ns), "ragged")
    assert fresh.sequence_handler(base).user_metadata == {"which": "upper"}
    assert fresh.sequence_handler(base.lower()).user_metadata == {"which": "lower"}
    assert not fresh.topic_exists(base, "lidar/cloud")
    assert fresh.sequence_handler(base.lower()).topics == ["/lidar/cloud"]
