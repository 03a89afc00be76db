#!/usr/bin/env bash
# Usage: scripts/measure-sync-gaps.sh [TESSERA_BINARY] [SECONDS]
#
# Bounded time to durability, measured from outside: runs `tessera serve` under strace on a
# scratch data directory, streams small IMU-like batches at 20/s through one DoPut held open
# with no acks asked (as the Python SDK does) for SECONDS (default 5), and prints the longest
# gap between WAL fdatasyncs while the stream ran, and every directory the server created with
# whether its parent was fsynced afterwards. Needs strace and the test venv
# (scripts/python-env.sh 0.7.0, for pyarrow). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/tessera}
secs=${2:-5}
py=$(scripts/python-env.sh 0.7.0 | tail -n 1)
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
strace -f -ttt -e trace=fdatasync,fsync,mkdir,mkdirat,openat,dup,fcntl -o "$work/trace" \
    "$bin" serve --data-dir "$work/data" --listen 127.0.0.1:0 >"$work/log" 2>&1 &
pid=$!
port=""
for _ in $(seq 1 200); do
    port=$(grep 'tessera listening' "$work/log" | grep -o '127.0.0.1:[0-9]*' | head -n 1 | sed 's/.*://') || true
    [[ -n "$port" ]] && break
    sleep 0.05
done
[[ -n "$port" ]] || { cat "$work/log"; echo "server did not start" >&2; exit 1; }
"$py" - "$port" "$secs" >"$work/client" <<'PY'
import json, sys, time
import pyarrow as pa, pyarrow.flight as fl
port, secs = int(sys.argv[1]), float(sys.argv[2])
c = fl.FlightClient(f"grpc://127.0.0.1:{port}")
def act(name, body):
    r = list(c.do_action(fl.Action(name, json.dumps(body).encode())))
    return json.loads(r[0].body.to_pybytes())["response"] if r else None
act("sequence_create", {"locator": "gaps", "user_metadata": {}})
s = act("session_create", {"locator": "gaps"})
t = act("topic_create", {"session_uuid": s["uuid"], "locator": "gaps/imu", "serialization_format": "default",
                         "ontology_tag": "imu", "user_metadata": {}})
schema = pa.schema([("timestamp_ns", pa.int64()), ("x", pa.float64())])
desc = fl.FlightDescriptor.for_command(json.dumps({"resource_locator": "gaps/imu", "topic_uuid": t["uuid"]}))
w, _ = c.do_put(desc, schema)
print("STREAM_START", time.time(), flush=True)
i, end = 0, time.time() + secs
while time.time() < end:
    ts = pa.array([i * 10 + k for k in range(10)], pa.int64())
    w.write_batch(pa.record_batch([ts, pa.array([float(k) for k in range(10)])], schema=schema))
    i += 1
    time.sleep(0.05)
print("STREAM_END", time.time(), i, "batches", flush=True)
w.close()
act("session_finalize", {"session_uuid": s["uuid"]})
PY
pkill -INT -f "serve --data-dir $work/data" || true
wait $pid || true
cat "$work/client"
python3 - "$work/trace" "$work/client" <<'PY'
import re, sys, datetime
lines = open(sys.argv[1]).read().splitlines()
fd_path = {}  # (pid, fd) -> path
syncs, dirs, dir_syncs = [], [], []
def t(s): return float(s)
marks = dict(l.split()[:2] for l in open(sys.argv[2]) if l.startswith("STREAM_"))
start, end = float(marks["STREAM_START"]), float(marks["STREAM_END"])
for l in lines:
    m = re.match(r"(\d+)\s+(\S+) (\w+)\((.*)\)\s+=\s+(-?\d+)", l)
    if not m: continue
    pid, ts, call, args, ret = m.group(1), t(m.group(2)), m.group(3), m.group(4), int(m.group(5))
    if call == "openat" and ret >= 0:
        p = re.search(r'"([^"]*)"', args); fd_path[ret] = p.group(1) if p else "?"
    elif (call == "dup" or (call == "fcntl" and "F_DUPFD" in args)) and ret >= 0:
        fd_path[ret] = fd_path.get(int(args.split(",")[0]), "?")
    elif call in ("mkdir", "mkdirat") and ret == 0:
        dirs.append((ts, re.search(r'"([^"]*)"', args).group(1)))
    elif call in ("fdatasync", "fsync"):
        fd = int(args.split(",")[0]); path = fd_path.get(fd, "?")
        if path.endswith(".wal"): syncs.append(ts)
        else: dir_syncs.append((ts, path))
during = [start] + [s for s in syncs if start <= s <= end] + [end]
gaps = [b - a for a, b in zip(during, during[1:])]
print(f"WAL fdatasyncs while the stream ran ({end - start:.1f} s): {len(during) - 2}; "
      f"longest time without one: {max(gaps):.3f} s")
print("  sync times (s after start):", " ".join(f"{s - start:.2f}" for s in during[1:-1]))
for ts, d in dirs:
    parent = d.rstrip("/").rsplit("/", 1)[0]
    ok = any(s >= ts and p.rstrip('/') == parent for s, p in dir_syncs)
    print(f"mkdir {d}: parent fsynced after: {'yes' if ok else 'NO'}")
PY
