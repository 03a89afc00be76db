"""Content queries through the SDK's public query API (protocol.md §3.12-§3.14, Part B).

One recording, written once: an IMU topic whose acceleration.x is i - 10 (i = 0..39, one row
every 10 ms) and a GPS topic whose status.service cycles 1, 2, 4, 8. Every query pins the
sequence by name, so other tests' sequences never interfere.
"""

import pytest
from mosaicolabs import (
    GPS,
    IMU,
    GPSStatus,
    Message,
    Point3d,
    QueryOntologyCatalog,
    QuerySequence,
    QueryTopic,
    Vector3d,
)

from ontologies import BASE_NS
from support import unique

STEP = 10_000_000
N = 40


def ts(i):
    return BASE_NS + i * STEP


@pytest.fixture(scope="module")
def seq(client):
    name = unique("query")
    meta = {"site": {"code": "TRN-01", "level": 3}, "weather": "dry"}
    with client.sequence_create(name, meta) as sw:
        imu = sw.topic_create("/sensors/imu", {"interface": {"type": "UART"}}, IMU)
        gps = sw.topic_create("/gps", {"interface": {"type": "CAN"}, "accuracy_m": 2}, GPS)
        for i in range(N):
            imu.push(
                Message(
                    timestamp_ns=ts(i),
                    data=IMU(
                        acceleration=Vector3d(x=float(i - 10), y=0.0, z=9.81),
                        angular_velocity=Vector3d(x=0.0, y=0.0, z=float(i % 4)),
                    ),
                )
            )
            gps.push(
                Message(
                    timestamp_ns=ts(i) + 1,
                    data=GPS(
                        position=Point3d(x=45.0, y=9.0, z=100.0 + i),
                        status=GPSStatus(status=0, service=1 << (i % 4)),
                    ),
                )
            )
    return name


def topics_of(resp):
    return sorted((t.name, t.ontology_tag) for item in resp for t in item.topics)


def test_sequence_filters_list_all_topics(fresh, seq):
    resp = fresh.query(QuerySequence().with_name(seq))
    assert len(resp) == 1 and resp[0].sequence.name == seq
    assert topics_of(resp) == [("/gps", "GPS"), ("/sensors/imu", "IMU")]
    assert len(fresh.query(QuerySequence().with_name_match(seq[:-3] + "*"))) == 1
    # A pattern without wildcards is an exact match, not a substring match.
    assert len(fresh.query(QuerySequence().with_name_match(seq[:-1]))) == 0
    meta = fresh.query(
        QuerySequence().with_name(seq).with_user_metadata("site.level", geq=3)
    )
    assert len(meta) == 1
    glob = fresh.query(QuerySequence().with_name(seq).with_user_metadata("*.code", eq="TRN-01"))
    assert len(glob) == 1
    none = fresh.query(QuerySequence().with_name(seq).with_user_metadata("site.level", gt=3))
    assert not none


def test_topic_filters(fresh, seq):
    by_name = fresh.query(QuerySequence().with_name(seq), QueryTopic().with_name("/sensors/imu"))
    assert topics_of(by_name) == [("/sensors/imu", IMU.ontology_tag())]
    by_glob = fresh.query(QuerySequence().with_name(seq), QueryTopic().with_name_match("?sensors*"))
    assert topics_of(by_glob) == [("/sensors/imu", IMU.ontology_tag())]
    by_tag = fresh.query(
        QuerySequence().with_name(seq), QueryTopic().with_ontology_tag(GPS.ontology_tag())
    )
    assert topics_of(by_tag) == [("/gps", GPS.ontology_tag())]
    by_meta = fresh.query(
        QuerySequence().with_name(seq), QueryTopic().with_user_metadata("accuracy_m", ex=False)
    )
    assert topics_of(by_meta) == [("/sensors/imu", IMU.ontology_tag())]


def test_ontology_query_then_clusterize(fresh, seq):
    resp = fresh.query(
        QuerySequence().with_name(seq),
        QueryOntologyCatalog(IMU.Q.acceleration.x.geq(5.0)),
    )
    assert topics_of(resp) == [("/sensors/imu", IMU.ontology_tag())]
    topic = resp[0].topics[0]
    clusters = topic.clusterize()
    assert len(clusters) == 1
    assert (clusters[0].timerange.start, clusters[0].timerange.end) == (ts(15), ts(N - 1))

    # angular_velocity.z == 0 every fourth row: 10 singleton clusters with a 1-step gap limit.
    spaced = fresh.query(
        QuerySequence().with_name(seq),
        QueryOntologyCatalog(IMU.Q.angular_velocity.z.eq(0.0)),
    )
    clusters = spaced[0].topics[0].clusterize(clustering_dt_ns=STEP)
    assert [(c.timerange.start, c.timerange.end) for c in clusters] == [
        (ts(i), ts(i)) for i in range(0, N, 4)
    ]


def test_rows_must_match_all_expressions_of_a_tag(fresh, seq):
    both = fresh.query(
        QuerySequence().with_name(seq),
        QueryOntologyCatalog(IMU.Q.acceleration.x.lt(0.0), IMU.Q.angular_velocity.z.eq(3.0)),
    )
    assert topics_of(both) == [("/sensors/imu", IMU.ontology_tag())]
    never = fresh.query(
        QuerySequence().with_name(seq),
        QueryOntologyCatalog(IMU.Q.acceleration.x.lt(-10.0)),
    )
    assert not never


def test_two_tags_join_topics_and_intersect(fresh, seq):
    resp = fresh.query(
        QuerySequence().with_name(seq),
        QueryOntologyCatalog(
            IMU.Q.acceleration.x.between([0.0, 5.0]), GPS.Q.status.service.eq(8)
        ),
    )
    assert topics_of(resp) == sorted(
        [("/gps", GPS.ontology_tag()), ("/sensors/imu", IMU.ontology_tag())]
    )
    item = resp[0]
    imu = next(t for t in item.topics if t.ontology_tag == IMU.ontology_tag())
    gps = next(t for t in item.topics if t.ontology_tag == GPS.ontology_tag())
    # IMU x in [0, 5]: rows 10..15 (one cluster with dt 0); GPS service 8: rows 3, 7, 11, ...
    windows = imu.intersect(gps)
    assert [(w.timerange.start, w.timerange.end) for w in windows] == [(ts(10), ts(15))]
    # With a 1-step gap limit GPS clusters are single rows; only row 11 lies inside [10, 15].
    tight = imu.intersect(gps, override_clustering_dt_ns=STEP)
    assert [(w.timerange.start, w.timerange.end) for w in tight] == [(ts(11) + 1, ts(11) + 1)]
    # A tolerance admits the GPS row at 15 + 1 ns next to the IMU cluster's end.
    loose = imu.intersect(gps, override_clustering_dt_ns=STEP, intersect_dt_ns=STEP)
    assert [(w.timerange.start, w.timerange.end) for w in loose] == [
        (ts(11) + 1, ts(11) + 1),
        (ts(15) + 1 - STEP // 2, ts(15) + STEP // 2),
    ]


def test_bad_patterns_are_refused_by_the_server(fresh, seq):
    with pytest.raises(Exception, match="match pattern cannot be empty"):
        fresh.query(QueryTopic().with_name_match(""))
    with pytest.raises(Exception, match="regex parsing error"):
        fresh.query(QuerySequence().with_name_match("[z-a]"))
