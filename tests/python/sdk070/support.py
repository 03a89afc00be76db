"""Shared helpers of the 0.7.0 interop suite: the main recording's plan and read helpers."""

import os
import random
import uuid
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple, Type

from mosaicolabs import GPS, IMU, CompressedImage, Image, Message, Serializable

import ontologies as ont


def server_address() -> Tuple[str, int]:
    host = os.environ.get("TESSERA_HOST")
    port = os.environ.get("TESSERA_PORT")
    if not host or not port:
        raise RuntimeError("TESSERA_HOST and TESSERA_PORT must name the server under test")
    return host, int(port)


def unique(prefix: str) -> str:
    """A sequence name no other test uses."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@dataclass
class TopicSpec:
    """One topic of a recording: what was sent, in push order."""

    name: str  # user-facing name, with a leading '/'
    ontology: Type[Serializable]
    metadata: dict
    pushed: List[Message] = field(default_factory=list)

    def expected(self, start: Optional[int] = None, end: Optional[int] = None) -> List[Message]:
        """What the server must return: rows in [start, end), stably sorted by timestamp."""
        rows = [
            m
            for m in self.pushed
            if (start is None or m.timestamp_ns >= start) and (end is None or m.timestamp_ns < end)
        ]
        return sorted(rows, key=lambda m: m.timestamp_ns)


@dataclass
class Recording:
    name: str
    metadata: dict
    topics: Dict[str, TopicSpec]
    session_locator: str = ""

    def data_topics(self) -> List[TopicSpec]:
        return [t for t in self.topics.values() if t.pushed]

    def all_timestamps(self) -> List[int]:
        return sorted(m.timestamp_ns for t in self.topics.values() for m in t.pushed)


MAIN_METADATA = {
    "robot": {"id": "rover-7", "sensors": ["imu", "gps", "camera"], "mass kg": 42.5},
    "run": 42,
    "calibrated": True,
    "ratio": 0.125,
    "empty": {},
    "mixed": [1, "two", None, 3.5, {"deep": [False]}],
    "unicode": "Mailand ✓",
}


def build_main(rng: random.Random) -> Tuple[Dict[str, TopicSpec], List[Tuple[str, Message]]]:
    """Topics of the main recording and the interleaved push order across them.

    Timestamps within a topic are pushed mostly in order but with local reordering, one
    duplicated timestamp (two different messages) and a few rows pushed late, so the server
    has to sort stably at read time.
    """
    plan: List[Tuple[str, Type[Serializable], dict, Callable, int, int, int]] = [
        # name, ontology, metadata, factory, count, period ns, offset ns
        ("/sensors/imu/front", IMU, {"vendor": "inertix", "rate hz": 100}, ont.imu, 300, 10_000_000, 0),
        ("/sensors/gps", GPS, {"vendor": "satnavics", "interface": {"type": "UART", "baud": 115200}}, ont.gps, 60, 50_000_000, 3_000_000),
        ("/camera/front/raw", Image, {"resolution": [64, 48]}, ont.image, 30, 100_000_000, 7_000_000),
        ("/camera/front/jpeg", CompressedImage, {"quality": 90}, ont.compressed, 30, 100_000_000, 9_000_000),
        ("/probe", ont.TesseraProbe, {"custom": True}, ont.probe, 100, 30_000_000, 1_000_000),
        ("/empty/topic", IMU, {"k": "v"}, None, 0, 0, 0),
    ]
    topics: Dict[str, TopicSpec] = {}
    events: List[Tuple[float, str, Message]] = []
    for name, onto, meta, factory, count, period, offset in plan:
        topics[name] = TopicSpec(name=name, ontology=onto, metadata=meta)
        for i in range(count):
            ts = ont.BASE_NS + offset + i * period
            if name == "/sensors/imu/front" and i == 11:
                ts = ont.BASE_NS + 10 * period  # duplicate of row 10's timestamp
            msg = factory(rng, ts, i)
            # Push order: by time with jitter, so neighbouring rows swap and topics interleave.
            order = ts + rng.uniform(-2.5, 2.5) * period
            if i % 37 == 5:
                order += 20 * period  # pushed late, after much newer rows
            events.append((order, name, msg))
    events.sort(key=lambda e: e[0])
    return topics, [(name, msg) for _, name, msg in events]


def read_topic(client, sequence: str, topic: str, start=None, end=None) -> List[Message]:
    th = client.topic_handler(sequence, topic)
    assert th is not None, f"topic_handler({sequence}, {topic}) returned None"
    return list(th.get_data_streamer(start_timestamp_ns=start, end_timestamp_ns=end))


def read_sequence(client, sequence: str, topics=None, start=None, end=None) -> List[Tuple[str, Message]]:
    sh = client.sequence_handler(sequence)
    assert sh is not None, f"sequence_handler({sequence}) returned None"
    return list(
        sh.get_data_streamer(topics=topics or [], start_timestamp_ns=start, end_timestamp_ns=end)
    )


def assert_same_messages(got: List[Message], want: List[Message], what: str) -> None:
    """Exact equality, with a readable first difference."""
    assert len(got) == len(want), f"{what}: {len(got)} messages read, {len(want)} expected"
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            raise AssertionError(
                f"{what}: message {i} differs\n  read:     {g!r:.600}\n  expected: {w!r:.600}"
            )

