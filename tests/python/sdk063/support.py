"""Helpers of the 0.6.3 interop suite: message factories and the recording's expectations."""

import random
import uuid
from dataclasses import dataclass, field
from typing import Dict, List

from mosaicolabs import CompressedImage, IMU, ImageFormat, Message, Quaternion, Vector3d


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def imu(rng: random.Random, ts: int, i: int) -> Message:
    return Message(
        timestamp_ns=ts,
        data=IMU(
            acceleration=Vector3d(
                x=rng.uniform(-20, 20),
                y=rng.uniform(-20, 20),
                z=9.81,
                covariance=[rng.random() for _ in range(9)] if i % 2 else None,
                covariance_type=1 if i % 2 else None,
            ),
            angular_velocity=Vector3d(x=rng.random(), y=0.0, z=float(i)),
            orientation=Quaternion(x=0.0, y=0.0, z=0.0, w=1.0) if i % 3 else None,
        ),
    )


def jpeg(rng: random.Random, ts: int, i: int) -> Message:
    return Message(
        timestamp_ns=ts,
        data=CompressedImage(data=rng.randbytes(2048 + 512 * (i % 5)), format=ImageFormat.JPEG),
    )


@dataclass
class Recording:
    name: str
    metadata: dict
    topic_metadata: Dict[str, dict]
    pushed: Dict[str, List[Message]] = field(default_factory=dict)

    def expected(self, topic: str, start=None, end=None) -> List[Message]:
        rows = [
            m
            for m in self.pushed[topic]
            if (start is None or m.timestamp_ns >= start) and (end is None or m.timestamp_ns < end)
        ]
        return sorted(rows, key=lambda m: m.timestamp_ns)
