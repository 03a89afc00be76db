"""Session-level (Report, Delete) and topic-level error policies, with notifications."""

import datetime
import random

import pytest
from mosaicolabs import (
    IMU,
    SessionLevelErrorPolicy,
    SessionStatus,
    TopicLevelErrorPolicy,
    TopicWriterStatus,
)
from mosaicolabs.comm.notifications import NotificationType

import ontologies as ont
from support import assert_same_messages, unique


class Boom(Exception):
    pass


def write_then_fail(client, name, policy, update=False):
    """Open a writer, create a topic, push one (buffered) row, then raise inside the block."""
    rng = random.Random(1)
    opener = (
        client.sequence_update(name, on_error=policy)
        if update
        else client.sequence_create(name, {"policy": policy.name}, on_error=policy)
    )
    with pytest.raises(Boom, match="boom"):
        with opener as sw:
            w = sw.topic_create("failing/imu", {}, IMU)
            assert w is not None
            w.push(ont.imu(rng, 5, 0))
            holder = sw
            raise Boom("boom")
    if policy == SessionLevelErrorPolicy.Report or update:
        assert holder.session_status == SessionStatus.Error
    # (SequenceWriter + Delete: the SDK then overwrites the status with SequenceStatus.Null.)
    return holder


def test_report_policy_keeps_the_sequence_and_notifies(fresh):
    name = unique("report")
    sw = write_then_fail(fresh, name, SessionLevelErrorPolicy.Report)
    assert fresh.sequence_exists(name)
    assert name in fresh.list_sequences()

    [note] = fresh.list_sequence_notifications(name)
    assert note.type == NotificationType.Error
    created = note.created_datetime
    if created.tzinfo is None:  # naive means UTC (protocol.md 3.10)
        created = created.replace(tzinfo=datetime.timezone.utc)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert now - datetime.timedelta(minutes=10) < created <= now + datetime.timedelta(minutes=1)
    assert note.sequence_name == name and note.topic_name is None
    assert sw.session_locator in note.message and "boom" in note.message

    [tnote] = fresh.list_topic_notifications(name, "/failing/imu")
    assert tnote.type == NotificationType.Error
    assert tnote.sequence_name == name and tnote.topic_name == "/failing/imu"
    assert tnote.message == "boom"

    # The buffered row was discarded: the topic exists, finalized, with no data.
    sh = fresh.sequence_handler(name)
    assert sh.topics == ["/failing/imu"]
    [session] = sh.sessions
    assert session.completed_timestamp is not None
    th = fresh.topic_handler(name, "/failing/imu")
    assert th is not None and th.timestamp_ns_min is None

    fresh.clear_sequence_notifications(name)
    assert fresh.list_sequence_notifications(name) == []
    assert len(fresh.list_topic_notifications(name, "/failing/imu")) == 1
    fresh.clear_topic_notifications(name, "/failing/imu")
    assert fresh.list_topic_notifications(name, "/failing/imu") == []


def test_delete_policy_removes_the_new_sequence(fresh):
    name = unique("delete")
    write_then_fail(fresh, name, SessionLevelErrorPolicy.Delete)
    assert not fresh.sequence_exists(name)
    assert name not in fresh.list_sequences()
    assert fresh.sequence_handler(name) is None
    assert not fresh.topic_exists(name, "/failing/imu")
    # The name is free again.
    with fresh.sequence_create(name, {}) as sw:
        sw.topic_create("ok", {}, IMU).push(ont.imu(random.Random(2), 1, 0))
    assert fresh.sequence_handler(name).topics == ["/ok"]


def test_update_with_delete_policy_removes_only_its_session(fresh):
    rng = random.Random(3)
    name = unique("update_delete")
    with fresh.sequence_create(name, {}) as sw:
        kept = [ont.imu(rng, ts, i) for i, ts in enumerate([1, 2, 3])]
        w = sw.topic_create("kept", {}, IMU)
        for m in kept:
            w.push(m)
    write_then_fail(fresh, name, SessionLevelErrorPolicy.Delete, update=True)
    sh = fresh.sequence_handler(name)
    assert sh.topics == ["/kept"]
    assert len(sh.sessions) == 1
    assert not fresh.topic_exists(name, "/failing/imu")
    assert_same_messages(list(fresh.topic_handler(name, "/kept").get_data_streamer()), kept, "kept")


def test_update_with_report_policy_keeps_both_sessions(fresh):
    name = unique("update_report")
    with fresh.sequence_create(name, {}) as sw:
        sw.topic_create("kept", {}, IMU).push(ont.imu(random.Random(4), 1, 0))
    write_then_fail(fresh, name, SessionLevelErrorPolicy.Report, update=True)
    sh = fresh.sequence_handler(name)
    assert sorted(sh.topics) == ["/failing/imu", "/kept"]
    assert len(sh.sessions) == 2
    assert len(fresh.list_sequence_notifications(name)) == 1


def test_session_delete_of_a_finalized_session(fresh):
    rng = random.Random(5)
    name = unique("session_delete")
    with fresh.sequence_create(name, {}) as sw:
        sw.topic_create("first", {}, IMU).push(ont.imu(rng, 1, 0))
    with fresh.sequence_update(name) as su:
        su.topic_create("second", {}, IMU).push(ont.imu(rng, 2, 0))
        locator = su.session_locator
    fresh.session_delete(locator)
    fresh.clear_sequence_handlers_cache()
    sh = fresh.sequence_handler(name)
    assert sh.topics == ["/first"]
    assert [s.locator for s in sh.sessions] != [locator]
    assert not fresh.topic_exists(name, "/second")


def test_topic_level_policies(fresh):
    rng = random.Random(6)
    name = unique("topic_policies")
    with fresh.sequence_create(name, {}) as sw:
        fin = sw.topic_create("finalize", {}, IMU, on_error=TopicLevelErrorPolicy.Finalize)
        ign = sw.topic_create("ignore", {}, IMU, on_error=TopicLevelErrorPolicy.Ignore)
        healthy = sw.topic_create("healthy", {}, IMU)
        with fin:
            fin.push(ont.imu(rng, 1, 0))
            raise Boom("sensor died")  # suppressed; topic closed without flushing
        assert not fin.is_active
        assert fin.status == TopicWriterStatus.FinalizedWithError
        kept = [ont.imu(rng, 2, 1), ont.imu(rng, 3, 2)]
        with ign:
            ign.push(kept[0])
            raise Boom("glitch")  # suppressed; topic stays open
        assert ign.is_active and ign.status == TopicWriterStatus.IgnoredLastError
        ign.push(kept[1])
        healthy.push(ont.imu(rng, 4, 3))
    assert sw.session_status == SessionStatus.Finalized

    assert [n.message for n in fresh.list_topic_notifications(name, "/finalize")] == ["sensor died"]
    assert [n.message for n in fresh.list_topic_notifications(name, "/ignore")] == ["glitch"]
    assert fresh.list_topic_notifications(name, "/healthy") == []
    assert fresh.list_sequence_notifications(name) == []
    assert fresh.topic_handler(name, "/finalize").timestamp_ns_min is None
    assert_same_messages(list(fresh.topic_handler(name, "/ignore").get_data_streamer()), kept, "ignore")
