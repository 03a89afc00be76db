"""The README's "Pushing data with the Python SDK" example runs as written against the server."""

import pathlib
import re
import subprocess
import sys

from mosaicolabs import IMU

README = pathlib.Path(__file__).resolve().parents[3] / "README.md"
SECTION = "## Pushing data with the Python SDK"


def readme_example() -> str:
    text = README.read_text(encoding="utf-8")
    assert SECTION in text, f"README.md lost its section {SECTION!r}"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert blocks, "no ```python block in the README's SDK section"
    return blocks[0]


def test_readme_example_runs(fresh, address):
    host, port = address
    code = readme_example()
    for literal in ('host="127.0.0.1"', "port=6726", '"run_42"'):
        assert literal in code, f"the README example no longer contains {literal}"
    code = code.replace('host="127.0.0.1"', f"host={host!r}").replace("port=6726", f"port={port}")
    if fresh.sequence_exists("run_42"):  # a rerun against a long-lived server
        fresh.sequence_delete("run_42")

    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, f"README example failed:\n{run.stdout}\n{run.stderr}"
    lines = run.stdout.splitlines()
    assert lines[0] == "['/imu/front']", run.stdout
    assert len(lines) == 101 and lines[1] == "1700000000000000000 9.81", run.stdout

    fresh.clear_sequence_handlers_cache()
    sh = fresh.sequence_handler("run_42")
    assert sh.user_metadata == {"robot": "rover-1"}
    assert all(s.locked for s in sh.sessions)
    th = fresh.topic_handler("run_42", "imu/front")
    assert th.locked and th.user_metadata == {"vendor": "acme"}
    msgs = list(th.get_data_streamer())
    assert len(msgs) == 100
    assert msgs[-1].timestamp_ns == 1_700_000_000_000_000_000 + 99 * 10_000_000
    assert msgs[0].get_data(IMU).angular_velocity.z == 0.01
    fresh.sequence_delete("run_42")
