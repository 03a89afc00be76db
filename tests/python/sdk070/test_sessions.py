"""Several sessions on one sequence: sequence_update() and SequenceHandler.update()."""

import random
from collections import defaultdict

from mosaicolabs import GPS, IMU, SessionStatus

import ontologies as ont
from support import assert_same_messages, unique


def push_imu(writer, rng, stamps):
    msgs = [ont.imu(rng, ts, i) for i, ts in enumerate(stamps)]
    for m in msgs:
        writer.push(m)
    return msgs


def test_second_session_adds_topics(fresh):
    rng = random.Random(7)
    name = unique("sessions")
    with fresh.sequence_create(name, {"phase": 1}) as sw:
        first = push_imu(sw.topic_create("imu", {"s": 1}, IMU), rng, range(1000, 2000, 100))
        first_locator = sw.session_locator
    assert sw.session_status == SessionStatus.Finalized

    with fresh.sequence_update(name) as su:
        # A topic name already used by an earlier session is refused (topic_create -> None).
        assert su.topic_create("imu", {}, IMU) is None
        second = push_imu(su.topic_create("imu2", {"s": 2}, IMU), rng, range(1050, 2050, 100))
        gps = su.topic_create("gps", {}, GPS)
        gps_msgs = [ont.gps(rng, 1500 + i, i) for i in range(3)]
        for m in gps_msgs:
            gps.push(m)
        second_locator = su.session_locator
    assert su.session_status == SessionStatus.Finalized
    assert second_locator != first_locator

    sh = fresh.sequence_handler(name)
    assert sh.user_metadata == {"phase": 1}
    assert sorted(sh.topics) == ["/gps", "/imu", "/imu2"]
    assert [s.locator for s in sh.sessions] == [first_locator, second_locator]
    assert all(s.locked for s in sh.sessions)
    assert sorted(sh.sessions[0].topics) == ["/imu"]
    assert sorted(sh.sessions[1].topics) == ["/gps", "/imu2"]
    assert sh.updated_timestamps == [s.created_timestamp for s in sh.sessions]
    assert sh.sessions[0].created_timestamp <= sh.sessions[1].created_timestamp
    assert sh.timestamp_ns_min == 1000 and sh.timestamp_ns_max == 1950

    merged = list(sh.get_data_streamer())
    assert [m.timestamp_ns for _, m in merged] == sorted(m.timestamp_ns for _, m in merged)
    per_topic = defaultdict(list)
    for t, m in merged:
        per_topic[t].append(m)
    assert_same_messages(per_topic["/imu"], first, "session 1 imu")
    assert_same_messages(per_topic["/imu2"], second, "session 2 imu2")
    assert_same_messages(per_topic["/gps"], gps_msgs, "session 2 gps")


def test_handler_update_opens_a_session(fresh):
    rng = random.Random(8)
    name = unique("handler_update")
    with fresh.sequence_create(name, {}) as sw:
        push_imu(sw.topic_create("a", {}, IMU), rng, [10, 20])
    sh = fresh.sequence_handler(name)
    with sh.update() as su:
        b = push_imu(su.topic_create("b", {}, IMU), rng, [15, 25])
    assert sh.reload()
    assert sorted(sh.topics) == ["/a", "/b"]
    assert len(sh.sessions) == 2
    th = fresh.topic_handler(name, "/b")
    assert th.locked
    assert_same_messages(list(th.get_data_streamer()), b, "/b")


def test_update_of_missing_sequence_fails(fresh):
    name = unique("no_such_sequence")
    try:
        with fresh.sequence_update(name):
            pass
    except Exception as e:  # the server's NOT_FOUND surfaces from __enter__
        assert "not" in str(e).lower() or "found" in str(e).lower(), str(e)
    else:
        raise AssertionError("sequence_update on a missing sequence should raise")
    assert not fresh.sequence_exists(name)


def test_pending_session_is_visible_and_unlocked(fresh):
    rng = random.Random(9)
    name = unique("pending")
    with fresh.sequence_create(name, {"p": 1}) as sw:
        w = sw.topic_create("imu", {"t": 1}, IMU)
        w.push(ont.imu(rng, 1, 0))
        fresh.clear_sequence_handlers_cache()
        fresh.clear_topic_handlers_cache()
        sh = fresh.sequence_handler(name)
        [session] = sh.sessions
        assert session.locator == sw.session_locator
        assert session.locked is False and session.completed_timestamp is None
        assert sh.topics == ["/imu"]
        th = fresh.topic_handler(name, "/imu")  # GetSchema works once the DoPut is open
        assert th is not None and th.locked is False
        assert th.user_metadata == {"t": 1}
    fresh.clear_topic_handlers_cache()
    assert fresh.topic_handler(name, "/imu").locked is True


def test_parallel_sessions_on_one_sequence(fresh, address):
    """Several writers (own connections) update one sequence at the same time."""
    import threading

    from mosaicolabs import MosaicoClient

    name = unique("parallel")
    with fresh.sequence_create(name, {}) as sw:
        push_imu(sw.topic_create("base", {}, IMU), random.Random(10), [0])
    errors, written = [], {}
    barrier = threading.Barrier(4)

    def writer(k):
        try:
            with MosaicoClient.connect(*address) as c:
                with c.sequence_update(name) as su:
                    w = su.topic_create(f"w{k}", {"k": k}, IMU)
                    barrier.wait(timeout=30)  # all four sessions pending at once
                    written[k] = push_imu(w, random.Random(k), range(k + 1, 2_000, 10))
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    sh = fresh.sequence_handler(name)
    assert sorted(sh.topics) == ["/base", "/w0", "/w1", "/w2", "/w3"]
    assert len(sh.sessions) == 5 and all(s.locked for s in sh.sessions)
    for k in range(4):
        got = list(fresh.topic_handler(name, f"/w{k}").get_data_streamer())
        assert_same_messages(got, written[k], f"/w{k}")
