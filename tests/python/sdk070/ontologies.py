"""Message factories for the interop suite: built-in sensors plus a user-defined ontology.

Every value is chosen to survive an exact round trip: floats destined for float32/float16
columns are dyadic fractions, so `==` on the decoded `Message` is a fair test of the server.
"""

import random
from typing import Optional

from mosaicolabs import (
    GPS,
    IMU,
    CompressedImage,
    GPSStatus,
    Header,
    Image,
    ImageFormat,
    Message,
    MosaicoField,
    MosaicoType,
    Point3d,
    Quaternion,
    Serializable,
    SerializationFormat,
    Time,
    Vector3d,
)

BASE_NS = 1_700_000_000_000_000_000


class ProbeJoint(Serializable):
    """A struct nested in a list inside the user-defined ontology."""

    __ontology_tag__ = "tessera_probe_joint"
    name: MosaicoType.string = MosaicoField(description="joint name")
    angle: MosaicoType.float32 = MosaicoField(description="joint angle, rad")


class TesseraProbe(Serializable):
    """A user-defined ontology covering the Arrow types a custom model can declare."""

    __ontology_tag__ = "tessera_probe"
    counter: MosaicoType.uint64 = MosaicoField(description="u64")
    level: MosaicoType.int8 = MosaicoField(description="i8")
    code: MosaicoType.uint16 = MosaicoField(description="u16")
    delta: MosaicoType.int32 = MosaicoField(description="i32")
    ratio: MosaicoType.float32 = MosaicoField(description="f32")
    half: MosaicoType.float16 = MosaicoField(description="f16")
    ok: MosaicoType.bool = MosaicoField(description="bool")
    label: MosaicoType.string = MosaicoField(description="utf8")
    blob: MosaicoType.binary = MosaicoField(description="bytes")
    samples: MosaicoType.list_(MosaicoType.float64) = MosaicoField(description="list")
    rgb: MosaicoType.list_(MosaicoType.uint8, 3) = MosaicoField(description="fixed list")
    joints: MosaicoType.list_(ProbeJoint) = MosaicoField(description="list of struct")
    offset: Optional[Vector3d] = MosaicoField(default=None, description="nested struct")
    note: Optional[MosaicoType.string] = MosaicoField(default=None, description="nullable")


class ProbeCloud(Serializable):
    """A user-defined ontology declaring the third serialization format, `ragged`."""

    __ontology_tag__ = "tessera_probe_cloud"
    __serialization_format__ = SerializationFormat.Ragged
    points: MosaicoType.list_(MosaicoType.float32) = MosaicoField(description="xyz triples")
    intensities: MosaicoType.binary = MosaicoField(description="one byte per point")


def header(rng: random.Random, i: int) -> Optional[Header]:
    """Every third message carries a header; the others leave it null."""
    if i % 3:
        return None
    return Header(
        timestamp=Time(seconds=1_700_000_000 + i, nanoseconds=rng.randrange(1_000_000_000)),
        frame_id=f"frame_{i % 4}",
        sample_counter=i,
    )


def imu(rng: random.Random, ts: int, i: int) -> Message:
    cov = [rng.uniform(-1, 1) for _ in range(9)] if i % 2 else None
    return Message(
        timestamp_ns=ts,
        data=IMU(
            header=header(rng, i),
            acceleration=Vector3d(
                x=rng.uniform(-20, 20),
                y=rng.uniform(-20, 20),
                z=9.81 + rng.uniform(-0.1, 0.1),
                covariance=cov,
                covariance_type=1 if cov else None,
            ),
            angular_velocity=Vector3d(x=rng.random(), y=-rng.random(), z=float(i)),
            orientation=(
                Quaternion(x=0.0, y=0.0, z=rng.random(), w=1.0) if i % 5 else None
            ),
        ),
    )


def gps(rng: random.Random, ts: int, i: int) -> Message:
    return Message(
        timestamp_ns=ts,
        data=GPS(
            header=header(rng, i),
            position=Point3d(
                x=45.0 + rng.random(), y=9.0 + rng.random(), z=120.0 + rng.random()
            ),
            velocity=Vector3d(x=rng.random(), y=rng.random(), z=0.0) if i % 2 else None,
            status=GPSStatus(
                status=i % 3 - 1,
                service=1 << (i % 4),
                satellites=(i % 12) if i % 4 else None,
                hdop=rng.uniform(0.5, 3.0),
                vdop=None,
            ),
        ),
    )


def image(rng: random.Random, ts: int, i: int, width: int = 64, height: int = 48) -> Message:
    stride = width * 3
    return Message(
        timestamp_ns=ts,
        data=Image(
            header=header(rng, i),
            data=rng.randbytes(stride * height),
            format=ImageFormat.RAW,
            width=width,
            height=height,
            stride=stride,
            encoding="rgb8",
            is_bigendian=False if i % 2 else None,
        ),
    )


def compressed(rng: random.Random, ts: int, i: int, size: int = 4096) -> Message:
    return Message(
        timestamp_ns=ts,
        data=CompressedImage(
            header=header(rng, i), data=rng.randbytes(size), format=ImageFormat.JPEG
        ),
    )


def probe(rng: random.Random, ts: int, i: int) -> Message:
    return Message(
        timestamp_ns=ts,
        data=TesseraProbe(
            counter=(1 << 64) - 1 - i,
            level=-128 + (i % 256),
            code=65535 - i,
            delta=-(1 << 31) + i,
            ratio=i / 4,
            half=(i % 64) / 8,
            ok=bool(i % 2),
            label=f"probe ✓ {i} ünïcode",
            blob=bytes([i % 256]) * (i % 7),
            samples=[rng.uniform(-1e6, 1e6) for _ in range(i % 5)],
            rgb=[i % 256, (2 * i) % 256, 255],
            joints=[ProbeJoint(name=f"j{k}", angle=k / 2) for k in range(i % 3)],
            offset=Vector3d(x=1.0, y=float(i), z=-0.5) if i % 2 else None,
            note=None if i % 4 else f"note {i}",
        ),
    )
