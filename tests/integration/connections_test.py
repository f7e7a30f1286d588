#!/usr/bin/python3
"""What connections can do to the server: idle ones, too many, slow senders, no descriptors left.

    /usr/bin/python3 tests/integration/connections_test.py path/to/esar [--no-descriptor-exhaustion]

1. 250 idle connections cost no thread each: the server's thread count stays where it was, and
   /healthz still answers.
2. The cap (--max-connections 300): beyond it, a new connection is closed at once; once idle
   ones leave, new ones are served again.
3. A slow sender (one header byte every 0.3 s) is cut after the header timeout (2 s here), while
   a connection that sends nothing is kept until the idle timeout (60 s).
4. Out of descriptors (prlimit --nofile=64 and a cap above it): the accepting does not spin (the
   server's CPU time over 3 s stays under a fifth of it), and once the connections close the
   server answers again.
(4 is left out with --no-descriptor-exhaustion: the sanitizer build's UBSan needs descriptors for
its own checks, a pipe to probe memory, and reports a false "invalid vptr" without them.)
Prints one line per check, then `N passed, M failed`; exits 1 on any failure.
"""
import os
import select
import shutil
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import esar_harness  # noqa: E402
from esar_harness import Checks  # noqa: E402

check = Checks(verbose=True)


def threads_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return -1


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return s


def healthz(port, timeout=5):
    """The status of GET /healthz on a new connection, or None when it is not answered."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None
    except OSError:
        return None


def closed_by_server(s, within):
    """True when the server closes `s` (EOF or reset) within `within` seconds."""
    s.settimeout(within)
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def closed_by_server_among(sockets, within):
    """How many of `sockets` the server closes (EOF or reset) within `within` seconds, all
    watched at once: one after another, each one left open cost the whole wait."""
    deadline = time.monotonic() + within
    waiting = set(sockets)
    closed = 0
    while waiting:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        readable, _, _ = select.select(list(waiting), [], [], left)
        for s in readable:
            waiting.discard(s)
            if closed_by_server(s, 0.1):
                closed += 1
    return closed


def port_of(base):
    return int(base.rsplit(":", 1)[1])


def main():
    esar = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="esar-connections-")
    procs = []
    try:
        db = os.path.join(work, "esar.db")
        proc, base, log = esar_harness.start_server(
            esar, db, os.path.join(work, "files"), os.path.join(work, "a.log"),
            extra=("--max-connections", "300", "--workers", "4", "--header-timeout-s", "2"))
        procs.append(proc)
        if not base:
            check(False, "the server starts")
            return
        port = port_of(base)
        check(healthz(port) == 200, "the server answers /healthz")
        before = threads_of(proc.pid)
        idle = [connect(port) for _ in range(250)]
        time.sleep(0.5)
        after = threads_of(proc.pid)
        check(after <= before + 2, f"250 idle connections cost no thread each ({before} threads before, {after} with them)")
        check(healthz(port) == 200, "/healthz answers beside 250 idle connections")

        extra = [connect(port) for _ in range(100)]
        refused = closed_by_server_among(extra, 2)
        check(refused >= 49, f"beyond the cap of 300, new connections are closed at once ({refused} of 100 closed)")
        for s in extra + idle[:100]:
            s.close()
        time.sleep(0.5)
        check(healthz(port) == 200, "once connections leave, new ones are served again")

        quiet = connect(port)  # sends nothing: kept until the idle timeout, not the header's
        slow = connect(port)
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.time()
        cut = False
        for i in range(50):  # up to 15 s of trickling
            try:
                slow.sendall(b"X-Slow-%d: 1\r\n" % i)
            except OSError:
                cut = True
                break
            if closed_by_server(slow, 0.3):
                cut = True
                break
        elapsed = time.time() - started
        check(cut and elapsed < 10, f"a slow sender is cut by the header timeout (after {elapsed:.1f} s of trickling)")
        check(not closed_by_server(quiet, 0.2), "a connection that sent nothing is still open after the header timeout")
        quiet.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        quiet.settimeout(5)
        check(quiet.recv(64).startswith(b"HTTP/1.1 200"), "and it is served when its request comes")
        for s in idle[100:] + [quiet, slow]:
            s.close()
        esar_harness.stop_server(proc)
        check(proc.returncode == 0, "the server stops cleanly", f"exit {proc.returncode}")
        log.close()
        if "--no-descriptor-exhaustion" in sys.argv:
            return

        # Out of descriptors: a cap above the process's limit, so accept() itself fails.
        proc, base, log = esar_harness.start_server(
            esar, os.path.join(work, "b.db"), os.path.join(work, "files-b"), os.path.join(work, "b.log"),
            extra=("--max-connections", "1000"), prefix=("prlimit", "--nofile=64:64"))
        procs.append(proc)
        if not base:
            check(False, "the server starts with 64 descriptors")
            return
        port = port_of(base)
        held = []
        for _ in range(120):  # the kernel completes the handshakes the server cannot accept
            try:
                held.append(connect(port))
            except OSError:
                break
        time.sleep(1)
        cpu_before = cpu_seconds(proc.pid)
        time.sleep(3)
        busy = cpu_seconds(proc.pid) - cpu_before
        check(busy < 0.6, f"out of descriptors, the server does not spin ({busy:.2f} s of CPU in 3 s)")
        check(proc.poll() is None, "and it is still running")
        for s in held:
            s.close()
        deadline = time.time() + 10
        status = None
        while time.time() < deadline and status != 200:
            status = healthz(port, timeout=2)
            time.sleep(0.2)
        check(status == 200, "once the connections close, it answers again")
        with open(os.path.join(work, "b.log"), encoding="utf-8", errors="replace") as f:
            text = f.read()
        check("cannot accept connections" in text, "it says in its log why it cannot accept")
        esar_harness.stop_server(proc)
        log.close()
    finally:
        for p in procs:
            esar_harness.stop_server(p)
        shutil.rmtree(work, ignore_errors=True)
        print(check.summary())


if __name__ == "__main__":
    main()
    sys.exit(check.exit_code())
