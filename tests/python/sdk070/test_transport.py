"""Connection: the info probe, gzip-compressed channels, records at the client's batch limit."""

import random
import time

from mosaicolabs import (
    IMU,
    CompressedImage,
    GRPCCompression,
    GRPCCompressionAlgorithm,
    GRPCCompressionLevel,
    Image,
    ImageFormat,
    Message,
    MosaicoClient,
    TopicWriterStatus,
)

import ontologies as ont
from support import assert_same_messages, unique


def test_info_describes_the_server(client):
    info = client.info()
    assert isinstance(info.version, str) and info.version
    assert all(isinstance(v, int) for v in (info.semver.major, info.semver.minor, info.semver.patch))
    cfg = info.config
    # The client sizes DoPut batches at 0.9 x this value, so it must be a real limit >= 4 MiB.
    assert cfg.grpc_max_decode_message_size >= 4 << 20
    assert cfg.grpc_max_encode_message_size > 0
    assert 0 < cfg.grpc_target_encode_message_size <= cfg.grpc_max_encode_message_size


def roundtrip_over(host, port, compression, label):
    rng = random.Random(hash(label) & 0xFFFF)
    name = unique(label)
    imu_msgs = [ont.imu(rng, 1_000 + i, i) for i in range(50)]
    # Compressible payload: gzip has real work to do on the wire.
    img_msgs = [
        Message(
            timestamp_ns=1_000 + 3 * i,
            data=Image(
                data=bytes([i]) * (640 * 480),
                format=ImageFormat.RAW,
                width=640,
                height=480,
                stride=640,
                encoding="mono8",
            ),
        )
        for i in range(4)
    ]
    with MosaicoClient.connect(host, port, compression=compression) as c:
        with c.sequence_create(name, {"compression": label}) as sw:
            iw = sw.topic_create("imu", {}, IMU)
            cw = sw.topic_create("cam", {}, Image)
            for k in range(50):
                iw.push(imu_msgs[k])
                if k < 4:
                    cw.push(img_msgs[k])
        assert c.sequence_exists(name)
        assert_same_messages(list(c.topic_handler(name, "/imu").get_data_streamer()), imu_msgs, label)
        assert_same_messages(list(c.topic_handler(name, "/cam").get_data_streamer()), img_msgs, label)
        merged = list(c.sequence_handler(name).get_data_streamer())
        assert len(merged) == 54
        c.sequence_delete(name)


def test_gzip_compression(address):
    host, port = address
    roundtrip_over(host, port, GRPCCompressionAlgorithm.Gzip, "gzip")


def test_gzip_compression_high_level(address):
    host, port = address
    roundtrip_over(
        host,
        port,
        GRPCCompression(algorithm=GRPCCompressionAlgorithm.Gzip, level=GRPCCompressionLevel.High),
        "gzip_high",
    )


def pattern(size: int, seed: int) -> bytes:
    block = bytes((seed * 31 + k) % 251 for k in range(4096))
    return (block * (size // len(block) + 1))[:size]


def test_records_at_the_batch_size_limit(fresh):
    """Records just under the client's limit go out one per batch; one just over is dropped."""
    limit = int(0.9 * fresh.info().config.grpc_max_decode_message_size)
    name = unique("batch_limit")
    big_a = Message(timestamp_ns=30, data=CompressedImage(data=pattern(limit - 4096, 1), format=ImageFormat.PNG))
    big_b = Message(timestamp_ns=10, data=CompressedImage(data=pattern(limit - 4096, 2), format=ImageFormat.PNG))
    small = Message(timestamp_ns=20, data=CompressedImage(data=b"\x89PNG tiny", format=ImageFormat.PNG))
    too_big = Message(timestamp_ns=40, data=CompressedImage(data=pattern(limit + 16, 3), format=ImageFormat.PNG))
    with fresh.sequence_create(name, {}) as sw:
        w = sw.topic_create("camera/big", {}, CompressedImage)
        w.push(big_a)
        w.push(too_big)
        assert w.status == TopicWriterStatus.RecordTooLarge
        assert w.dropped_record_count == 1
        w.push(big_b)  # flushes big_a alone: a batch right at the limit
        assert w.status == TopicWriterStatus.Active
        w.push(small)  # flushes big_b alone
    [note] = fresh.list_topic_notifications(name, "/camera/big")
    assert note.message.startswith("Record dropped for topic")

    th = fresh.topic_handler(name, "/camera/big")
    assert th.timestamp_ns_min == 10 and th.timestamp_ns_max == 30
    got = list(th.get_data_streamer())
    assert [m.timestamp_ns for m in got] == [10, 20, 30]
    assert got[0] == big_b and got[1] == small and got[2] == big_a
    fresh.sequence_delete(name)


def image_topic(client, name, n, payload):
    w, h = 640, 480
    msgs = [
        Message(
            timestamp_ns=10_000 - 7 * i,  # pushed newest first
            data=Image(data=payload(i, w * h * 3), format=ImageFormat.RAW, width=w, height=h, stride=w * 3, encoding="rgb8"),
        )
        for i in range(n)
    ]
    with client.sequence_create(name, {}) as sw:
        writer = sw.topic_create("cam", {}, Image)
        for m in msgs:
            writer.push(m)
    return sorted(msgs, key=lambda m: m.timestamp_ns)


def test_topic_spanning_many_doget_messages(fresh):
    """~18 MB of images: DoGet must split the topic over several messages (target size from
    info()) without losing or reordering rows, also inside a window."""
    target = fresh.info().config.grpc_target_encode_message_size
    name = unique("many_doget")
    want = image_topic(fresh, name, 20, lambda i, size: pattern(size, i))
    assert sum(len(m.data.data) for m in want) > 2 * target
    th = fresh.topic_handler(name, "cam")
    assert_same_messages(list(th.get_data_streamer()), want, "cam")
    start, end = want[3].timestamp_ns, want[17].timestamp_ns
    assert_same_messages(
        list(th.get_data_streamer(start_timestamp_ns=start, end_timestamp_ns=end)), want[3:17], "cam window"
    )
    fresh.sequence_delete(name)


def test_incompressible_images_read_back_at_a_usable_rate(fresh):
    """3.7 MB of random bytes (like real camera/JPEG data) must stream back in a few seconds
    (an uncompressed DoGet of the same rows takes ~0.1 s in the debug build). Guards against
    gzip-compressed responses, which ran at <1 MB/s here before e4aecdd.

    The check runs after every row, so a slow server costs about the budget plus one row."""
    budget_s = 3.0
    rng = random.Random(22)
    name = unique("throughput")
    want = image_topic(fresh, name, 4, lambda i, size: rng.randbytes(size))
    started = time.monotonic()
    for k, msg in enumerate(fresh.topic_handler(name, "cam").get_data_streamer()):
        elapsed = time.monotonic() - started
        mb = sum(len(m.data.data) for m in want[: k + 1]) / 1e6
        assert elapsed < budget_s, f"read {mb:.1f} MB in {elapsed:.1f} s ({mb / elapsed:.2f} MB/s)"
        assert msg == want[k]
    fresh.sequence_delete(name)
