"""Fixtures for the mosaicolabs 0.7.0 interop suite.

The server address comes from TESSERA_HOST / TESSERA_PORT (set by tests/sdk_python_interop.rs).
A missing address is an error, never a skip. Only the SDK's public API is used.
"""

import random
from typing import Tuple

import pytest
from mosaicolabs import MosaicoClient

from support import MAIN_METADATA, Recording, build_main, server_address, unique


@pytest.fixture(scope="session")
def address() -> Tuple[str, int]:
    return server_address()


@pytest.fixture(scope="session")
def client(address):
    host, port = address
    c = MosaicoClient.connect(host, port)
    yield c
    c.close()


@pytest.fixture
def fresh(client):
    """The session client with its handler caches emptied, so handlers reflect the server now."""
    client.clear_sequence_handlers_cache()
    client.clear_topic_handlers_cache()
    return client


@pytest.fixture(scope="session")
def recording(client) -> Recording:
    """One sequence with six topics of five ontologies, written once, read by many tests."""
    rng = random.Random(20261124)
    topics, pushes = build_main(rng)
    rec = Recording(name=unique("interop_main"), metadata=MAIN_METADATA, topics=topics)
    with client.sequence_create(rec.name, rec.metadata) as sw:
        rec.session_locator = sw.session_locator
        writers = {}
        for spec in topics.values():
            w = sw.topic_create(spec.name, spec.metadata, spec.ontology)
            assert w is not None, f"topic_create({spec.name}) failed"
            writers[spec.name] = w
        for name, msg in pushes:
            writers[name].push(msg)
            topics[name].pushed.append(msg)
    return rec
