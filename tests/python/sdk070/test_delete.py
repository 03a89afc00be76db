"""sequence_delete: the sequence, its sessions, topics, data and notifications disappear."""

import random

import pytest
from mosaicolabs import IMU, SessionLevelErrorPolicy

import ontologies as ont
from support import assert_same_messages, unique


def test_sequence_delete_removes_everything(fresh):
    rng = random.Random(11)
    name = unique("to_delete")
    with fresh.sequence_create(name, {"v": 1}) as sw:
        sw.topic_create("imu", {}, IMU).push(ont.imu(rng, 1, 0))
    with fresh.sequence_update(name) as su:
        su.topic_create("imu2", {}, IMU).push(ont.imu(rng, 2, 0))
    with pytest.raises(RuntimeError):
        with fresh.sequence_update(name, on_error=SessionLevelErrorPolicy.Report) as su:
            su.topic_create("imu3", {}, IMU)
            raise RuntimeError("leave a notification behind")
    assert fresh.list_sequence_notifications(name)
    assert fresh.sequence_handler(name) is not None

    fresh.sequence_delete(name)

    assert not fresh.sequence_exists(name)
    assert name not in fresh.list_sequences()
    for topic in ("/imu", "/imu2", "/imu3"):
        assert not fresh.topic_exists(name, topic)
    fresh.clear_sequence_handlers_cache()
    fresh.clear_topic_handlers_cache()
    assert fresh.sequence_handler(name) is None
    assert fresh.topic_handler(name, "/imu") is None

    # The name can be reused, and nothing of the old sequence shows through.
    fresh_msgs = [ont.imu(rng, 100, 0)]
    with fresh.sequence_create(name, {"v": 2}) as sw:
        sw.topic_create("imu", {}, IMU).push(fresh_msgs[0])
    sh = fresh.sequence_handler(name)
    assert sh.user_metadata == {"v": 2}
    assert sh.topics == ["/imu"]
    assert len(sh.sessions) == 1
    assert fresh.list_sequence_notifications(name) == []
    assert_same_messages(list(fresh.topic_handler(name, "/imu").get_data_streamer()), fresh_msgs, "reused")


def test_delete_leaves_other_sequences_alone(fresh, recording):
    name = unique("neighbour")
    with fresh.sequence_create(name, {}) as sw:
        sw.topic_create("imu", {}, IMU).push(ont.imu(random.Random(12), 1, 0))
    fresh.sequence_delete(name)
    assert fresh.sequence_exists(recording.name)
    assert fresh.topic_exists(recording.name, "/sensors/gps")


def test_delete_of_a_missing_sequence_raises(fresh):
    with pytest.raises(Exception):
        fresh.sequence_delete(unique("never_created"))


def test_delete_while_a_session_is_still_writing(fresh, address):
    """protocol.md 3.6/3.7: deletes are unconditional, pending sessions and open uploads too."""
    from mosaicolabs import MosaicoClient

    rng = random.Random(13)
    name = unique("delete_pending")
    with MosaicoClient.connect(*address) as other:
        # The writer's own exit then fails (finalize / report on a deleted sequence).
        with pytest.raises(Exception, match="not found|does not exist"):
            with fresh.sequence_create(name, {}) as sw:
                w = sw.topic_create("imu", {}, IMU)
                w.push(ont.imu(rng, 1, 0))
                other.sequence_delete(name)
                assert not other.sequence_exists(name)
        assert not other.sequence_exists(name)
        assert name not in other.list_sequences()

        name2 = unique("delete_pending_session")
        with fresh.sequence_create(name2, {}) as sw:
            sw.topic_create("kept", {}, IMU).push(ont.imu(rng, 1, 0))
        with pytest.raises(Exception, match="not found|does not exist"):
            with fresh.sequence_update(name2) as su:
                su.topic_create("dropped", {}, IMU).push(ont.imu(rng, 2, 0))
                other.session_delete(su.session_locator)
        other.clear_sequence_handlers_cache()
        sh = other.sequence_handler(name2)
        assert sh.topics == ["/kept"] and len(sh.sessions) == 1
        assert not other.topic_exists(name2, "/dropped")
