#!/usr/bin/python3
"""The HTTP side of bench/http: sets up a running `esar serve` and drives the submission load.

    http_driver.py prepare --base URL --framework-id N --user U --password P --out FILE
        Logs in as the admin U, opens round 12 of the framework, computes preliminary results with
        no appeal window, finalizes and publishes them, then fetches the published results once as
        the public (GET /api/v1/rounds/{id}/results) and writes the body, byte for byte, to FILE.
        It also opens round 6, with a deadline a day ahead, for the submission load. It prints
        `results_round=ID submit_round=ID results_bytes=N`.

    http_driver.py submit --base URL --round ID --data data.csv --agencies A,B,... --password P
                          [--seconds 20]
        One thread per agency (their number is the concurrency). Each logs in as
        rep-<agency> (reporter) and app-<agency> (approver), each on its own keep-alive
        connection; once every thread is logged in they all start together, and each then walks
        its agency's reportable KPIs: PUT the draft (reporter), POST approve (approver),
        POST submit (reporter). A submission counts when its submit answers 200. The load stops
        when every thread is done or after --seconds. It prints
        `submissions=N of P seconds=T submit_rps=R requests=Q errors=E clients=C client_cpu_s=U`
        (P planned; U the CPU time this client used, to tell whether it was the bottleneck) and,
        when there were errors, their status codes and first messages to stderr.

Standard library only.
"""

import argparse
import collections
import csv
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse

FISCAL_YEAR = "2567"


class Client:
    """One keep-alive HTTP/1.1 connection with a session cookie and its CSRF token."""

    def __init__(self, base, timeout=30):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.timeout = timeout
        self.conn = None
        self.cookie = None
        self.csrf = None

    def _connect(self):
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def request(self, method, path, body=None):
        """(status, raw body bytes); reconnects once when the server closed the connection."""
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.cookie:
            headers["Cookie"] = "esar_session=" + self.cookie
            if method not in ("GET", "HEAD"):
                headers["X-CSRF-Token"] = self.csrf
        for attempt in (0, 1):
            if self.conn is None:
                self._connect()
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                # When the status line and headers came: for a streamed answer, the moment the
                # server had done the work and began to send its body.
                self.headers_at = time.perf_counter()
                raw = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return resp.status, raw, resp
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.CannotSendRequest):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise

    # Logins told 503 with Retry-After (the server bounds the memory-hard password checks it runs
    # at once) and retried after the wait, as a well-behaved client does; counted for the report.
    retried = 0
    retried_lock = threading.Lock()

    def login(self, username, password):
        for _ in range(120):
            status, raw, resp = self.request("POST", "/api/v1/session",
                                             {"username": username, "password": password})
            if status != 503 or not resp.getheader("Retry-After"):
                break
            with Client.retried_lock:
                Client.retried += 1
            time.sleep(float(resp.getheader("Retry-After")) * (0.5 + random.random()))
        if status != 200:
            raise RuntimeError("login %s: HTTP %d %s" % (username, status, raw[:300]))
        for header, value in resp.getheaders():
            if header.lower() == "set-cookie" and value.startswith("esar_session="):
                self.cookie = value.split(";", 1)[0].split("=", 1)[1]
        self.csrf = json.loads(raw)["csrf_token"]
        if not self.cookie:
            raise RuntimeError("login %s: no esar_session cookie" % username)

    def close(self):
        if self.conn is not None:
            self.conn.close()


def must(what, status, raw, expected=(200, 201)):
    if status not in expected:
        sys.exit("http_driver.py: %s: HTTP %d %s" % (what, status, raw[:500].decode("utf-8", "replace")))
    return json.loads(raw)


def prepare(args):
    admin = Client(args.base)
    admin.login(args.user, args.password)
    fw = args.framework_id
    day = 24 * 3600 * 1000
    now = int(time.time() * 1000)
    r12 = must("open round 12", *admin.request(
        "POST", "/api/v1/frameworks/%d/rounds" % fw, {"round": 12, "deadline": now + day})[:2])["id"]
    must("close reporting", *admin.request(
        "POST", "/api/v1/rounds/%d/close" % r12, {"reason": "bench: reporting closed early"})[:2])
    must("compute results", *admin.request(
        "POST", "/api/v1/rounds/%d/results" % r12, {"appeal_days": 0})[:2])
    must("final results", *admin.request("POST", "/api/v1/rounds/%d/results/final" % r12, {})[:2])
    must("publish results", *admin.request("POST", "/api/v1/rounds/%d/results/publish" % r12, {})[:2])
    r6 = must("open round 6", *admin.request(
        "POST", "/api/v1/frameworks/%d/rounds" % fw, {"round": 6, "deadline": now + day})[:2])["id"]
    admin.close()

    public = Client(args.base)  # no cookie: what anyone gets
    status, raw, _ = public.request("GET", "/api/v1/rounds/%d/results" % r12)
    doc = must("get published results", status, raw, (200,))
    public.close()
    if doc.get("stage") != "published" or len(doc["scores"]["agencies"]) != args.expect_agencies:
        sys.exit("http_driver.py: the published results are not what was set up: stage=%s agencies=%d"
                 % (doc.get("stage"), len(doc["scores"]["agencies"])))
    with open(args.out, "wb") as f:
        f.write(raw)
    print("results_round=%d submit_round=%d results_bytes=%d" % (r12, r6, len(raw)))


def reports_by_agency(path, agencies):
    """{agency: [(kpi, {variable: value})]} from the long-form data: this year's values of every
    reportable KPI, in file order. A value missing for an agency (about 1%) is taken from the
    first agency that has it, so that every report is complete."""
    wanted = set(agencies)
    per = collections.defaultdict(lambda: collections.OrderedDict())
    fallback = {}
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["fiscal_year"] != FISCAL_YEAR:
                continue
            value = row["value"]
            try:
                num = float(value)
                value = int(num) if num.is_integer() and "." not in value else num
            except ValueError:
                pass
            fallback.setdefault((row["kpi"], row["variable"]), value)
            if row["agency"] in wanted:
                per[row["agency"]].setdefault(row["kpi"], {})[row["variable"]] = value
    variables = collections.OrderedDict()
    for (kpi, var) in fallback:
        variables.setdefault(kpi, []).append(var)
    out = {}
    for a in agencies:
        out[a] = [(kpi, {v: per[a].get(kpi, {}).get(v, fallback[(kpi, v)]) for v in vs})
                  for kpi, vs in variables.items()]
    return out


def submit(args):
    agencies = [a for a in args.agencies.split(",") if a]
    reports = reports_by_agency(args.data, agencies)
    clock = {"start": 0.0, "deadline": 0.0}

    def go():  # run by the barrier before any thread is released
        clock["cpu"] = time.process_time()
        clock["start"] = time.monotonic()
        clock["deadline"] = clock["start"] + args.seconds

    ready = threading.Barrier(len(agencies) + 1, action=go)
    lock = threading.Lock()
    stats = {"submissions": 0, "requests": 0, "errors": collections.Counter(), "samples": [],
             "login_failures": []}
    finished = []

    def record_error(what, status, raw):
        with lock:
            stats["errors"][status] += 1
            if len(stats["samples"]) < 5:
                stats["samples"].append("%s: HTTP %s %s" % (what, status, raw[:200].decode("utf-8", "replace")))

    def worker(agency):
        rep, app = Client(args.base), Client(args.base)
        try:
            rep.login("rep-" + agency, args.password)
            app.login("app-" + agency, args.password)
        except Exception as e:  # noqa: BLE001 - reported, and the thread still reaches the barrier
            with lock:
                stats["login_failures"].append("%s: %s" % (agency, e))
            ready.wait()
            return
        ready.wait()
        done = requests = 0
        try:
            for kpi, values in reports[agency]:
                if time.monotonic() > clock["deadline"]:
                    break
                path = "/api/v1/rounds/%d/agencies/%s/kpis/%s" % (
                    args.round, urllib.parse.quote(agency), urllib.parse.quote(kpi))
                status, raw, _ = rep.request("PUT", path, {"values": values})
                requests += 1
                if status != 200:
                    record_error("save " + agency + "/" + kpi, status, raw)
                    continue
                sid = json.loads(raw)["id"]
                status, raw, _ = app.request("POST", "/api/v1/submissions/%d/approve" % sid)
                requests += 1
                if status != 200:
                    record_error("approve " + agency + "/" + kpi, status, raw)
                    continue
                status, raw, _ = rep.request("POST", "/api/v1/submissions/%d/submit" % sid)
                requests += 1
                if status != 200 or json.loads(raw).get("status") != "submitted":
                    record_error("submit " + agency + "/" + kpi, status, raw)
                    continue
                done += 1
        except Exception as e:  # noqa: BLE001 - a hang or a dropped connection is a finding
            record_error("exception " + agency, type(e).__name__, str(e).encode())
        finally:
            rep.close()
            app.close()
            with lock:
                stats["submissions"] += done
                stats["requests"] += requests
                finished.append(time.monotonic())

    threads = [threading.Thread(target=worker, args=(a,), daemon=True) for a in agencies]
    for t in threads:
        t.start()
    ready.wait()
    start = clock["start"]
    for t in threads:
        t.join(args.seconds + 60)
    end = max(finished) if len(finished) == len(threads) else time.monotonic()
    elapsed = end - start
    client_cpu = time.process_time() - clock["cpu"]
    planned = sum(len(reports[a]) for a in agencies)
    if stats["login_failures"]:
        print("http_driver.py: %d logins failed, first: %s" % (len(stats["login_failures"]),
                                                               stats["login_failures"][0]), file=sys.stderr)
    errors = sum(stats["errors"].values())
    if errors:
        print("http_driver.py: %d failed requests by status: %s" % (errors, dict(stats["errors"])),
              file=sys.stderr)
        for s in stats["samples"]:
            print("  " + s, file=sys.stderr)
    if len(finished) != len(threads):
        print("http_driver.py: %d client threads did not finish (server hang?)" % (len(threads) - len(finished)),
              file=sys.stderr)
    if stats["submissions"] < planned and not errors:
        print("http_driver.py: stopped after %g s with %d of %d submissions done" % (
            args.seconds, stats["submissions"], planned), file=sys.stderr)
    print("login_retries_after_503=%d" % Client.retried, file=sys.stderr)
    print("submissions=%d of %d seconds=%.3f submit_rps=%.1f requests=%d errors=%d clients=%d "
          "client_cpu_s=%.2f" % (
              stats["submissions"], planned, elapsed,
              stats["submissions"] / elapsed if elapsed > 0 else 0.0, stats["requests"],
              errors + len(stats["login_failures"]), len(agencies), client_cpu))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--base", required=True)
    p.add_argument("--framework-id", type=int, required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--expect-agencies", type=int, required=True)
    s = sub.add_parser("submit")
    s.add_argument("--base", required=True)
    s.add_argument("--round", type=int, required=True)
    s.add_argument("--data", required=True)
    s.add_argument("--agencies", required=True)
    s.add_argument("--password", required=True)
    s.add_argument("--seconds", type=float, default=20)
    args = ap.parse_args()
    prepare(args) if args.cmd == "prepare" else submit(args)


if __name__ == "__main__":
    main()
