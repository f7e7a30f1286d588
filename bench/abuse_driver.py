#!/usr/bin/python3
"""bench/abuse's load: idle connections, slow senders and a login flood against esar serve,
while two probes time /healthz and a published agency result.

    abuse_driver.py --base URL --get PATH --pid PID [--seconds 60] [--idle 2000] [--slow 2000]
                    [--logins 100]

- idle: --idle connections opened and held, sending nothing.
- slow: --slow connections that send the start of a request, then one more header byte per
  connection every second, never finishing; when the server cuts one (its header timeout), it
  is opened again.
- logins: --logins threads, each posting POST /api/v1/session with a bad name again and again
  (half a name that cannot exist, "x"; half a well-formed unknown one).
- probes: one thread GETs /healthz, another PATH, each on a new connection every 50 ms, timing the
  whole request (a probe that fails or takes over 10 s counts as an error).

Loopback only. Stops by itself after --seconds. Prints as its last line
    healthz_p99_ms=X get_p99_ms=Y peak_rss_mb=Z refused=N crashed=0|1 probe_errors=E
      logins=L login_statuses=S slow_cut=C idle_closed=I
(refused: connections the server closed or refused at once, before any request was sent on
them; peak_rss_mb: the server's VmHWM at the end; crashed: the server process is gone).
"""
import argparse
import collections
import errno
import json
import os
import socket
import threading
import time
import urllib.parse


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100.0 * len(values) + 0.5)) - 1))
    return values[k]


def one_request(host, port, raw, timeout=10.0):
    """Sends `raw` on a new connection; returns (status or None, seconds)."""
    started = time.monotonic()
    try:
        s = socket.create_connection((host, port), timeout=timeout)
        try:
            s.sendall(raw)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.") else None
    except (OSError, ValueError, IndexError):
        status = None
    return status, time.monotonic() - started


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def peak_rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--get", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--idle", type=int, default=2000)
    ap.add_argument("--slow", type=int, default=2000)
    ap.add_argument("--logins", type=int, default=100)
    args = ap.parse_args()
    url = urllib.parse.urlparse(args.base)
    host, port = url.hostname, url.port
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("abuse_driver.py: loopback only")
    end = time.monotonic() + args.seconds
    lock = threading.Lock()
    counts = collections.Counter()

    def closed_at_once(s):
        """True when the server closed `s` before we sent anything (non-blocking look)."""
        s.setblocking(False)
        try:
            return s.recv(1) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    # ---- idle connections ----
    idle = []
    for _ in range(args.idle):
        try:
            idle.append(socket.create_connection((host, port), timeout=5))
        except OSError:
            counts["refused"] += 1
    time.sleep(0.5)
    for s in idle:
        if closed_at_once(s):
            counts["refused"] += 1

    # ---- slow senders ----
    start_line = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "

    def open_slow():
        try:
            s = socket.create_connection((host, port), timeout=5)
            s.sendall(start_line)
            s.setblocking(False)
            return s
        except OSError:
            with lock:
                counts["refused"] += 1
            return None

    def slow_senders():
        conns = [open_slow() for _ in range(args.slow)]
        while time.monotonic() < end:
            tick = time.monotonic()
            for i, s in enumerate(conns):
                if time.monotonic() >= end:
                    break
                if s is None:
                    conns[i] = open_slow()
                    continue
                try:
                    s.send(b"a")
                    if s.recv(1) == b"":
                        raise ConnectionResetError
                except BlockingIOError:
                    pass  # nothing to read: still open
                except OSError:
                    with lock:
                        counts["slow_cut"] += 1
                    s.close()
                    conns[i] = open_slow()
            time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
        for s in conns:
            if s is not None:
                s.close()

    # ---- the login flood ----
    statuses = collections.Counter()

    def flood(n):
        i = 0
        while time.monotonic() < end:
            name = "x" if n % 2 == 0 else f"nobody-{n}-{i}"
            body = json.dumps({"username": name, "password": "wrong-password-1"}).encode()
            raw = (b"POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                   b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            status, _ = one_request(host, port, raw, timeout=30)
            with lock:
                statuses[status if status is not None else "failed"] += 1
            if status == 503:
                time.sleep(0.05)  # a client told to retry later does not hammer
            i += 1

    # ---- probes ----
    latencies = {"healthz": [], "get": []}

    def probe(name, path):
        raw = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").encode()
        while time.monotonic() < end:
            status, seconds = one_request(host, port, raw, timeout=10)
            with lock:
                if status == 200:
                    latencies[name].append(seconds * 1000)
                else:
                    counts["probe_errors"] += 1
            time.sleep(0.05)

    threads = [threading.Thread(target=slow_senders, daemon=True)]
    threads += [threading.Thread(target=flood, args=(n,), daemon=True) for n in range(args.logins)]
    threads += [threading.Thread(target=probe, args=("healthz", "/healthz"), daemon=True),
                threading.Thread(target=probe, args=("get", args.get), daemon=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, end - time.monotonic()) + 40)
    idle_closed = sum(1 for s in idle if closed_at_once(s))
    for s in idle:
        s.close()
    crashed = 0 if alive(args.pid) else 1
    print("probes: healthz %d answered (p50 %.2f ms), get %d answered (p50 %.2f ms); logins by status: %s"
          % (len(latencies["healthz"]), percentile(latencies["healthz"], 50), len(latencies["get"]),
             percentile(latencies["get"], 50), dict(statuses)))
    print("healthz_p99_ms=%.2f get_p99_ms=%.2f peak_rss_mb=%d refused=%d crashed=%d probe_errors=%d "
          "logins=%d login_statuses=%s slow_cut=%d idle_closed=%d" % (
              percentile(latencies["healthz"], 99), percentile(latencies["get"], 99), peak_rss_mb(args.pid),
              counts["refused"], crashed, counts["probe_errors"], sum(statuses.values()),
              "/".join(f"{k}:{v}" for k, v in sorted(statuses.items(), key=str)), counts["slow_cut"],
              idle_closed))


if __name__ == "__main__":
    main()
