"""What the Python checks of the running server share: running the esar command line, and
starting and stopping `esar serve` on a free port of 127.0.0.1. Standard library only."""
import os
import re
import signal
import subprocess
import threading
import time


def run_cli(esar, args, env=None):
    """Runs `esar ARGS`; raises RuntimeError with its output when it fails."""
    p = subprocess.run([esar] + args, capture_output=True, text=True,
                       env={**os.environ, **(env or {})})
    if p.returncode != 0:
        raise RuntimeError(f"esar {' '.join(args[:3])} failed: {(p.stderr or p.stdout)[-400:]}")
    return p


def start_server(esar, db, data_dir, log_path, extra=(), quiet=True, prefix=(), fast_hashing=True):
    """Starts `esar serve` on 127.0.0.1:0 with cheap password hashing (for tests; real hashing
    with fast_hashing=False) and waits until it says where it listens. Returns (process, base
    URL or None, log file). `prefix` runs it through another command (e.g. prlimit)."""
    log = open(log_path, "wb")
    env = dict(os.environ)
    env.pop("ESAR_INSECURE_FAST_PASSWORD_HASHING", None)
    if fast_hashing:
        env["ESAR_INSECURE_FAST_PASSWORD_HASHING"] = "1"
    args = list(prefix) + [esar, "serve", "--listen", "127.0.0.1:0", "--db", db, "--data-dir", data_dir]
    args += ["--quiet"] if quiet else []
    proc = subprocess.Popen(args + list(extra), stdout=subprocess.PIPE, stderr=log, env=env)
    found = {}

    def read():
        for line in proc.stdout:
            m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line.decode("utf-8", "replace"))
            if m and "url" not in found:
                found["url"] = m.group(1)
        proc.stdout.close()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.time() + 30
    while "url" not in found and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    return proc, found.get("url"), log


def stop_server(proc):
    """SIGTERM, then SIGKILL if it has not stopped within 15 s."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
