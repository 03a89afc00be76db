#!/usr/bin/env python3
"""Peak server memory while reading a large topic (issue 3: bounded read memory).

Starts the release `tessera` binary on a temporary data directory (loopback only), uploads one
topic of SIZE_GIB of 4 MiB binary rows in shuffled-within-batch time order, finalizes, restarts
the server (so its peak RSS counts the read alone), streams the whole topic back with DoGet and
reports the server's VmHWM (peak RSS) for the upload phase and for the read phase.

Usage: scripts/measure-read-rss.py [SIZE_GIB] [--ordered]   (needs pyarrow: use
target/python/venv-0.7.0). `--ordered` sends rows in time order (a sensor clock), the case the
compactor streams frame by frame instead of sorting a whole chunk in memory.
"""
import json, os, signal, socket, subprocess, sys, tempfile, time
import numpy as np
import pyarrow as pa
import pyarrow.flight as fl

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "tessera")
ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
SIZE_GIB = float(ARGS[0]) if ARGS else 2.5
ORDERED = "--ordered" in sys.argv
ROW = 4 << 20
ROWS_PER_BATCH = 8


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(data):
    port = free_port()
    proc = subprocess.Popen([BIN, "serve", "--data-dir", data, "--listen", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = fl.FlightClient(f"grpc://127.0.0.1:{port}")
    for _ in range(200):
        try:
            list(client.do_action(fl.Action("info", b"{}")))
            return proc, client
        except Exception:
            time.sleep(0.05)
    raise SystemExit("server did not start")


def hwm_mib(proc):
    with open(f"/proc/{proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)


def action(client, name, body):
    res = list(client.do_action(fl.Action(name, json.dumps(body).encode())))
    return json.loads(b"".join(r.body.to_pybytes() for r in res))["response"]


def main():
    data = tempfile.mkdtemp(prefix="tessera-rss-")
    proc, c = start(data)
    action(c, "sequence_create", {"locator": "big", "user_metadata": {}})
    s = action(c, "session_create", {"locator": "big"})
    t = action(c, "topic_create", {"session_uuid": s["uuid"], "locator": "big/cam", "serialization_format": "image",
                                   "ontology_tag": "Image", "user_metadata": {}})
    schema = pa.schema([pa.field("timestamp_ns", pa.int64(), False), pa.field("data", pa.binary(), False)])
    desc = fl.FlightDescriptor.for_command(json.dumps({"resource_locator": "big/cam", "topic_uuid": t["uuid"]}))
    writer, _ = c.do_put(desc, schema)
    rng = np.random.default_rng(1)
    base = rng.integers(0, 255, ROW, dtype=np.uint8).tobytes()
    batches = int(SIZE_GIB * (1 << 30) / (ROW * ROWS_PER_BATCH))
    t0 = time.time()
    for b in range(batches):
        ts = np.arange(b * ROWS_PER_BATCH, (b + 1) * ROWS_PER_BATCH, dtype=np.int64)
        if not ORDERED:
            ts = ts[::-1].copy()
        rows = [base[i:] + base[:i] for i in range(ROWS_PER_BATCH)]
        writer.write_batch(pa.record_batch([pa.array(ts), pa.array(rows, pa.binary())], schema=schema))
    writer.close()
    action(c, "session_finalize", {"session_uuid": s["uuid"]})
    up = time.time() - t0
    total = batches * ROWS_PER_BATCH * ROW
    order = "time-ordered" if ORDERED else "reversed within batches"
    print(f"uploaded {total / 2**30:.2f} GiB ({order}) in {up:.1f} s ({total / up / 1e6:.0f} MB/s, incl. sealing); "
          f"server peak RSS during upload: {hwm_mib(proc):.0f} MiB")
    stop(proc)

    proc, c = start(data)
    time.sleep(1)  # let startup recovery settle, so its footprint shows separately
    startup = hwm_mib(proc)
    info = c.get_flight_info(fl.FlightDescriptor.for_command(json.dumps({"resource_locator": "big/cam"})))
    app = json.loads(info.endpoints[0].app_metadata)
    t0 = time.time()
    reader = c.do_get(info.endpoints[0].ticket)
    n, last, ok = 0, -1, True
    for chunk in reader:
        ts = chunk.data.column(0).to_numpy()
        ok &= bool((np.diff(ts) >= 0).all()) and ts[0] >= last
        last = ts[-1]
        n += chunk.data.num_rows
    rd = time.time() - t0
    print(f"read {n} rows ({n * ROW / 2**30:.2f} GiB, {app['data_info']['total_chunks_count']} chunks, "
          f"{app['data_info']['total_bytes'] / 2**30:.2f} GiB on disk) in {rd:.1f} s, sorted={ok}; "
          f"server peak RSS: {startup:.0f} MiB after restart, {hwm_mib(proc):.0f} MiB after the read")
    stop(proc)
    subprocess.run(["rm", "-rf", data])


if __name__ == "__main__":
    main()
