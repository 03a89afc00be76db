"""Fixtures for the mosaicolabs 0.6.3 interop suite (a smaller run than sdk070).

The server address comes from TESSERA_HOST / TESSERA_PORT (set by tests/sdk_python_interop.rs).
A missing address is an error, never a skip. Only the SDK's public API is used.
"""

import os
import random

import pytest
from mosaicolabs import IMU, CompressedImage, MosaicoClient

from support import Recording, imu, jpeg, unique


@pytest.fixture(scope="session")
def client():
    host = os.environ.get("TESSERA_HOST")
    port = os.environ.get("TESSERA_PORT")
    if not host or not port:
        raise RuntimeError("TESSERA_HOST and TESSERA_PORT must name the server under test")
    c = MosaicoClient.connect(host, int(port))
    yield c
    c.close()


@pytest.fixture(scope="session")
def recording(client) -> Recording:
    """An IMU and a CompressedImage topic pushed interleaved and out of order, plus an empty
    topic; 0.6.3 flushes every 7 records here, so each topic arrives in several DoPut batches."""
    rng = random.Random(63)
    rec = Recording(
        name=unique("v063"),
        metadata={"sdk": "0.6.3", "nested": {"list": [1, 2.5, "x"], "flag": False}},
        topic_metadata={"/imu": {"vendor": "acme"}, "/cam/jpeg": {"q": 80}, "/idle": {}},
    )
    imus = [imu(rng, 1_000_000 + i * 10_000, i) for i in range(120)]
    jpegs = [jpeg(rng, 1_000_000 + i * 33_000 + 5, i) for i in range(30)]
    rng.shuffle(imus)  # the server sorts at read time
    rec.pushed = {"/imu": imus, "/cam/jpeg": jpegs, "/idle": []}
    with client.sequence_create(rec.name, rec.metadata, max_batch_size_records=7) as sw:
        wi = sw.topic_create("imu", rec.topic_metadata["/imu"], IMU)
        wc = sw.topic_create("cam/jpeg", rec.topic_metadata["/cam/jpeg"], CompressedImage)
        assert sw.topic_create("idle", rec.topic_metadata["/idle"], IMU) is not None
        for k, m in enumerate(imus):
            wi.push(m)
            if k % 4 == 0:
                wc.push(jpegs[k // 4])
    return rec

