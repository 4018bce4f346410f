#!/usr/bin/env python3
"""`make bench`: TimeTracker's benchmark scenarios, measured from outside.

Seeds a private database with SQL (1,000,000 entries, one user with 10,000),
runs the release binaries, drives load with Debian's `wrk` from a separate
process on 127.0.0.1, runs every scenario three times and prints the median
of each against its floor. `--write-docs` also rewrites the results table in
docs/performance.md. Standard library only; called by scripts/bench.sh.
"""

import argparse
import collections
import http.cookiejar
import http.server
import json
import math
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "target" / "release"
CEILING = ROOT / "scripts" / "ceiling"
RUNS = 3
WEB_PORT, WEB_METRICS, WORKER_METRICS, POSTHOG_PORT = 18080, 19464, 19465, 18090
# X1's second web and worker process.
WEB_PORT_B, WEB_METRICS_B, WORKER_METRICS_B = 18082, 19466, 19467
MAINTENANCE_EVERY = 4  # seconds, in X1: many ticks in a few minutes
BASE = f"http://127.0.0.1:{WEB_PORT}"
SETUP_TOKEN = "bench-setup-token-0123456789"
PASSWORD = "bench password 1"
DAYS = 1000  # entries from 2024-01-01, 1,000 a day
FIRST_DAY = "2024-01-01"


def log(*args):
    print("==>", *args, file=sys.stderr, flush=True)


# --- PostgreSQL --------------------------------------------------------------

def psql(url, sql):
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True,
                   stdout=subprocess.PIPE)


def psql_value(url, sql):
    out = subprocess.run(["psql", url, "-qAtc", sql], check=True, stdout=subprocess.PIPE)
    return out.stdout.decode().strip()


# --- a fast fake PostHog -------------------------------------------------------

class FakePostHog:
    """Answers /batch/ with 200 at once and notes when each event arrived."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.arrivals = []  # (arrival unix time, event timestamp string)
        self.received = []  # (uuid, event name) of every event since start, never reset
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                # Headers and body go out in two writes; without this, Nagle
                # and the client's delayed ACK add ~40 ms to every answer.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                now = time.time()
                if self.path.startswith("/batch"):
                    batch = json.loads(body).get("batch", [])
                    with fake.lock:
                        fake.requests += 1
                        fake.arrivals.extend((now, e.get("timestamp")) for e in batch)
                        fake.received.extend((e.get("uuid"), e.get("event")) for e in batch)
                answer = b'{"status":1}' if self.path.startswith("/batch") else b'{"flags":{}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", POSTHOG_PORT), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self):
        with self.lock:
            self.requests, self.arrivals = 0, []

    def snapshot(self):
        with self.lock:
            return self.requests, list(self.arrivals)

    def received_since(self, mark):
        with self.lock:
            return self.received[mark:]


# --- processes ---------------------------------------------------------------

def env_for(database_url, extra=None):
    env = {
        "PATH": os.environ["PATH"],
        "DATABASE_URL": database_url,
        "HTTP_ADDR": f"127.0.0.1:{WEB_PORT}",
        "WEB_METRICS_ADDR": f"127.0.0.1:{WEB_METRICS}",
        "WORKER_METRICS_ADDR": f"127.0.0.1:{WORKER_METRICS}",
        "SETUP_TOKEN": SETUP_TOKEN,
        "POSTHOG_API_KEY": "phc_bench",
        "POSTHOG_HOST": f"http://127.0.0.1:{POSTHOG_PORT}",
        "DATABASE_MAX_CONNECTIONS": "20",
        "LOG_LEVEL": "info",
        "LOG_FILE": "",
    }
    env.update(extra or {})
    return env


class Proc:
    def __init__(self, name, args, env, logdir, bin_dir=BIN):
        self.log = open(Path(logdir) / f"{name}.log", "ab")
        self.p = subprocess.Popen([str(bin_dir / name), *args], env=env, stdout=self.log,
                                  stderr=subprocess.STDOUT)

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            self.p.wait(timeout=30)

    def rss_reset(self):
        """Resets the peak RSS (VmHWM) and returns the current RSS in bytes."""
        Path(f"/proc/{self.p.pid}/clear_refs").write_text("5")
        return self.status_kb("VmRSS") * 1024

    def peak(self):
        return self.status_kb("VmHWM") * 1024

    def status_kb(self, key):
        for line in Path(f"/proc/{self.p.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        raise RuntimeError(key)


def wait_ready(port, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"port {port} not ready")


# --- HTTP as a browser ---------------------------------------------------------

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                                  NoRedirect())

    def get(self, path):
        try:
            with self.opener.open(BASE + path, timeout=60) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def post(self, path, fields, csrf_page):
        _, page = self.get(csrf_page)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({**fields, "csrf_token": token}).encode()
        try:
            with self.opener.open(BASE + path, data=data, timeout=60) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def cookie(self, name):
        return next(c.value for c in self.jar if c.name == name)

    def new_api_token(self):
        """Creates an API token; post, redirect, get: it is shown once on the profile page."""
        status, _ = self.post("/profile/tokens", {"name": "bench", "expires_in_days": ""}, "/profile")
        assert status == 303, f"token: {status}"
        _, page = self.get("/profile")
        return re.search(r'<code id="new-token">([^<]+)<', page).group(1)


def api(method, path, token, body=None):
    request = urllib.request.Request(BASE + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as r:
        return json.loads(r.read() or b"null")


# --- seeding -----------------------------------------------------------------------

def seed(database_url):
    """Setup, 17 users with tokens, then 1,000,000 entries by SQL."""
    admin = Browser()
    status, _ = admin.post(f"/setup?token={SETUP_TOKEN}", {
        "token": SETUP_TOKEN, "username": "admin", "email": "admin@example.org",
        "password": PASSWORD, "password_confirm": PASSWORD, "timezone": "UTC",
        "telemetry": "off"}, f"/setup?token={SETUP_TOKEN}")
    assert status == 303, f"setup: {status}"
    assert admin.post("/admin/telemetry/analytics", {"enabled": "on"}, "/profile")[0] == 303
    psql(database_url, "INSERT INTO projects (name) VALUES ('Bench')")
    users = {}
    for name in ["reader"] + [f"load{i:02}" for i in range(16)]:
        status, _ = admin.post("/admin/users", {
            "username": name, "email": f"{name}@example.org", "password": PASSWORD,
            "password_confirm": PASSWORD, "role": "user", "timezone": "UTC"}, "/profile")
        assert status == 303, f"user {name}: {status}"
        browser = Browser()
        assert browser.post("/login", {"username": name, "password": PASSWORD}, "/login")[0] == 303
        token = browser.new_api_token()
        users[name] = (browser, token)
    log("inserting 1,000,000 entries")
    reader = psql_value(database_url, "SELECT id FROM users WHERE username = 'reader'")
    # The reader: 10 entries a day; the administrator: the other 990 a day.
    psql(database_url, f"""
        INSERT INTO time_entries (user_id, project_id, started_at, ended_at, notes, tags, billable, source)
        SELECT CASE WHEN n % 100 = 0 THEN {reader} ELSE 1 END, 1, t, t + interval '25 minutes',
               'bench entry ' || n, '{{bench}}', n % 3 <> 0, 'manual'
        FROM generate_series(0, {DAYS * 1000 - 1}) n,
             LATERAL (SELECT timestamptz '{FIRST_DAY} 00:00Z' + (n / 1000) * interval '1 day'
                             + (n % 1000) * interval '86 seconds' AS t) x""")
    # As after autovacuum: the visibility map set, so counts are index-only.
    psql(database_url, "VACUUM ANALYZE time_entries")
    count = psql_value(database_url, f"SELECT count(*) FROM time_entries WHERE user_id = {reader}")
    assert count == "10000", count
    return admin, users


# --- wrk -------------------------------------------------------------------------

def wrk(url, connections, threads, seconds, script=None, headers=(), env=None):
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for h in headers:
        args += ["-H", h]
    if script:
        args += ["-s", script]
    out = subprocess.run(args + [url], check=True, stdout=subprocess.PIPE,
                         env={**os.environ, **(env or {})}).stdout.decode()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: .*", out)
    return {"rps": rps, "p99_ms": p99_ms, "non2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(0) if errors else ""}


S2_LUA = """
-- Each thread is one user with one connection: start, stop, start, stop...
local tokens = {}
for t in string.gmatch(os.getenv("TOKENS"), "[^,]+") do tokens[#tokens + 1] = t end
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("token", tokens[counter])
end
function init(args)
  started = false
end
function request()
  started = not started
  local path = started and "/api/v1/timer/start" or "/api/v1/timer/stop"
  local body = started and '{"project_id": 1}' or '{}'
  return wrk.format("POST", path, {["Authorization"] = "Bearer " .. token,
                                   ["Content-Type"] = "application/json"}, body)
end
"""


# --- the database's ceiling ----------------------------------------------------

def ceiling(database_url, script, defines):
    """pgbench with the minimal SQL of a scenario (scripts/ceiling/), 16
    clients, as many seconds as the HTTP scenario, three runs: what any web
    layer could at most reach here. One pgbench transaction is one cycle (S2)
    or one page (S3, S5)."""
    runs = []
    for _ in range(RUNS):
        args = ["pgbench", "-n", "-M", "prepared", "-c16", "-j2", "-T20"]
        for k, v in defines.items():
            args += ["-D", f"{k}={v}"]
        out = subprocess.run(args + ["-f", str(CEILING / script), database_url], check=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout.decode()
        tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
        latency = re.search(r"latency average = ([\d.]+) ms", out)
        runs.append({"tps": tps, "latency_ms": float(latency.group(1)) if latency else 0.0})
    return runs


def ceiling_ids(database_url):
    """The S2 users' first id (client n of pgbench is user ubase + n) and the reader's."""
    ubase = int(psql_value(database_url, "SELECT id FROM users WHERE username = 'load00'"))
    last = int(psql_value(database_url, "SELECT id FROM users WHERE username = 'load15'"))
    assert last == ubase + 15, (ubase, last)
    reader = psql_value(database_url, "SELECT id FROM users WHERE username = 'reader'")
    return {"ubase": ubase}, {"uid": reader}


# --- scenarios --------------------------------------------------------------------

def median(runs, key):
    return statistics.median(r[key] for r in runs)


def quiesce(database_url, seconds=120):
    """Waits until no product event and no job is waiting or running, so that
    one scenario's leftovers (S2's thousands of events) do not load the next."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        busy = psql_value(database_url, """
            SELECT (SELECT count(*) FROM analytics_events WHERE status = 'pending' AND next_attempt_at <= now())
                 + (SELECT count(*) FROM apalis.jobs WHERE status IN ('Pending', 'Queued', 'Running') AND run_at <= now())""")
        if busy == "0":
            return
        time.sleep(0.5)
    log("still busy after", seconds, "s; measuring anyway")


def s1():
    return [wrk(f"{BASE}/health/ready", 64, 2, 20) for _ in range(RUNS)]


def s2(users, script, runs_wanted=RUNS):
    tokens = ",".join(users[f"load{i:02}"][1] for i in range(16))
    runs = []
    for _ in range(runs_wanted):
        r = wrk(BASE, 16, 16, 20, script=script, env={"TOKENS": tokens})
        r["cycles"] = r["rps"] / 2
        runs.append(r)
    return runs


def s3(users, query=""):
    token = users["reader"][1]
    return [wrk(f"{BASE}/api/v1/time-entries?per_page=20{query}", 16, 2, 20,
                headers=[f"Authorization: Bearer {token}"]) for _ in range(RUNS)]


def s3_vacuumed(database_url, users):
    """S3 right after a VACUUM of the entries, as the first S3 of a run: the
    timer scenarios in between leave the visibility map unset, and a count
    then reads every heap page of the reader's entries."""
    psql(database_url, "VACUUM ANALYZE time_entries")
    return s3(users)


def s5(users):
    session = users["reader"][0].cookie("tt_session")
    return [wrk(f"{BASE}/", 16, 2, 20, headers=[f"Cookie: tt_session={session}"])
            for _ in range(RUNS)]


def migration_versions(directory):
    return {int(f.name.split("_", 1)[0]) for f in Path(directory).glob("*.sql")}


def on_baseline(database_url, admin_url, logdir, baseline, measures):
    """Runs `measures` (name -> function of the database URL and the web and
    worker processes) against the web and worker binaries
    of an older commit (`baseline`: its worktree, built with --release), on a
    copy of the same database: the migrations the baseline does not know are
    taken off the copy's history (they only add tables, columns with
    defaults and indexes), so it starts; the users' sessions and tokens are
    in the copy. The caller stops its own processes first (a template copy
    needs the database to itself) and measures the current binaries before
    and after, so every set comes from the same run on the same data."""
    copy_url = re.sub(r"/timetracker_bench(\?|$)", r"/timetracker_bench_baseline\1", database_url)
    psql(admin_url, "DROP DATABASE IF EXISTS timetracker_bench_baseline WITH (FORCE)")
    psql(admin_url, "CREATE DATABASE timetracker_bench_baseline TEMPLATE timetracker_bench")
    unknown = migration_versions(ROOT / "migrations") - migration_versions(Path(baseline) / "migrations")
    if unknown:
        psql(copy_url, f"DELETE FROM _sqlx_migrations WHERE version IN ({', '.join(map(str, sorted(unknown)))})")
    bin_dir = Path(baseline) / "target" / "release"
    web = Proc("timetracker", ["serve"], env_for(copy_url), logdir, bin_dir)
    worker = Proc("timetracker-worker", [], env_for(copy_url), logdir, bin_dir)
    try:
        wait_ready(WEB_METRICS)
        wait_ready(WORKER_METRICS)
        results = {}
        for name, measure in measures.items():
            quiesce(copy_url)
            log(f"{name} on the baseline {baseline}")
            results[name] = measure(copy_url, web, worker)
        return results
    finally:
        web.stop()
        worker.stop()
        psql(admin_url, "DROP DATABASE IF EXISTS timetracker_bench_baseline WITH (FORCE)")


def s4(admin, web, worker):
    """Streamed CSV from the web process and the background CSV job, 100k and 1M rows."""
    results = {}
    for rows, days in [(100_000, 100), (1_000_000, DAYS)]:
        last = time.strftime("%Y-%m-%d", time.gmtime(time.mktime(time.strptime(FIRST_DAY, "%Y-%m-%d")) + (days - 1) * 86400))
        query = urllib.parse.urlencode({"from": FIRST_DAY, "to": last, "user_id": "all"})
        streamed, jobs = [], []
        for _ in range(RUNS):
            base_rss = web.rss_reset()
            started = time.time()
            status, body = admin.get(f"/reports/export.csv?{query}")
            seconds = time.time() - started
            lines = body.count("\n") - 1
            assert status == 200 and lines == rows, (status, lines)
            streamed.append({"seconds": seconds, "rss_mb": (web.peak() - base_rss) / 2**20})

            base_rss = worker.rss_reset()
            token = BENCH_ADMIN_TOKEN[0]
            started = time.time()
            export = api("POST", "/api/v1/exports", token,
                         {"format": "csv", "from": FIRST_DAY, "to": last, "user_id": "all"})
            while export["status"] not in ("done", "failed"):
                time.sleep(0.05)
                export = api("GET", f"/api/v1/exports/{export['id']}", token)
            seconds = time.time() - started
            assert export["status"] == "done" and export["rows_done"] == rows, export
            jobs.append({"seconds": seconds, "rss_mb": (worker.peak() - base_rss) / 2**20})
        results[rows] = (streamed, jobs)
    return results


def p1(worker):
    """The PDF report (summary, then every entry) of 100k entries, built by the job."""
    last = time.strftime("%Y-%m-%d", time.gmtime(time.mktime(time.strptime(FIRST_DAY, "%Y-%m-%d")) + 99 * 86400))
    runs = []
    for _ in range(RUNS):
        base_rss = worker.rss_reset()
        token = BENCH_ADMIN_TOKEN[0]
        started = time.time()
        export = api("POST", "/api/v1/exports", token,
                     {"format": "pdf", "paper": "a4", "group": "project", "subgroup": "user",
                      "from": FIRST_DAY, "to": last, "user_id": "all"})
        while export["status"] not in ("done", "failed"):
            time.sleep(0.1)
            export = api("GET", f"/api/v1/exports/{export['id']}", token)
        seconds = time.time() - started
        assert export["status"] == "done" and export["rows_done"] == 100_000, export
        runs.append({"seconds": seconds, "rss_mb": (worker.peak() - base_rss) / 2**20,
                     "file_mb": export["byte_size"] / 2**20})
    return runs


def p2(database_url, web, worker):
    """An invoice of 10,000 entries (one line each): the draft made by the web,
    the issue, and its PDF built by the job; cancelled after each run so the
    next takes the same entries."""
    psql(database_url, """
        INSERT INTO clients (name) VALUES ('Bench client');
        INSERT INTO projects (name, client_id, hourly_rate_cents)
            SELECT 'Bench billed', id, 9550 FROM clients WHERE name = 'Bench client';
        UPDATE settings SET seller_name = 'Bench seller', seller_address = '1 Bench Street';
        INSERT INTO time_entries (user_id, project_id, started_at, ended_at, notes, tags, billable, source)
        SELECT 1, p.id, t, t + interval '25 minutes', 'billed entry ' || n, '{}', true, 'manual'
        FROM projects p, generate_series(0, 9999) n,
             LATERAL (SELECT timestamptz '2030-01-01 00:00Z' + n * interval '30 minutes' AS t) x
        WHERE p.name = 'Bench billed'""")
    client = psql_value(database_url, "SELECT id FROM clients WHERE name = 'Bench client'")
    token = BENCH_ADMIN_TOKEN[0]
    runs = []
    for _ in range(RUNS):
        base_web, base_worker = web.rss_reset(), worker.rss_reset()
        started = time.time()
        draft = api("POST", "/api/v1/invoices", token,
                    {"client_id": int(client), "from": "2030-01-01", "to": "2030-12-31",
                     "grouping": "entry", "tax_bp": 1900})
        drafted = time.time() - started
        assert len(draft["lines"]) == 10_000, len(draft["lines"])
        started = time.time()
        api("POST", f"/api/v1/invoices/{draft['id']}/issue", token, {})
        while True:
            request = urllib.request.Request(f"{BASE}/api/v1/invoices/{draft['id']}/pdf",
                                             headers={"Authorization": f"Bearer {token}"})
            try:
                with urllib.request.urlopen(request) as response:
                    size = len(response.read())
                break
            except urllib.error.HTTPError as e:
                assert e.code == 409, e.code
                time.sleep(0.1)
        rendered = time.time() - started
        runs.append({"draft_s": drafted, "pdf_s": rendered, "file_mb": size / 2**20,
                     "web_mb": (web.peak() - base_web) / 2**20,
                     "worker_mb": (worker.peak() - base_worker) / 2**20})
        api("POST", f"/api/v1/invoices/{draft['id']}/cancel", token, {})
    return runs


BENCH_ADMIN_TOKEN = []

J1_PAGES = [
    ("first page", ""),
    ("a page 500,000 jobs deep", "after={cursor}"),
    ("one queue", "queue=report_export"),
    ("a rare state", "state=dead"),
    ("finished only", "state=done"),
    ("a request's jobs", "q=req-500000"),
    ("one hour, 2 days ago", "from={hour_from}&to={hour_to}"),
]


def j1(database_url):
    """The job console's list with 1,000,000 finished jobs (plus 200 dead and
    100 scheduled for tomorrow, so no worker runs them): each kind of page,
    one connection, 5 s; its p99 latency."""
    log("inserting 1,000,000 finished jobs")
    # Triggers off for the load (one NOTIFY per row otherwise); finished in
    # the last three days, so retention keeps them through the run.
    psql(database_url, """
        SET session_replication_role = replica;
        INSERT INTO apalis.jobs (job, id, job_type, status, attempts, max_attempts, run_at, done_at, metadata)
        SELECT convert_to('{}', 'UTF8'), 'bench-' || lpad(n::text, 7, '0'),
               (ARRAY['analytics_delivery', 'maintenance', 'install_ping', 'report_export'])[1 + (n % 100 = 0)::int * 3 + (n % 100 = 1)::int * 2 + (n % 100 = 2)::int],
               CASE WHEN n <= 200 THEN 'Killed' WHEN n <= 300 THEN 'Pending' ELSE 'Done' END, 1, 8,
               CASE WHEN n BETWEEN 201 AND 300 THEN now() + interval '1 day' ELSE now() - n * interval '259 milliseconds' END,
               CASE WHEN n BETWEEN 201 AND 300 THEN NULL ELSE now() - n * interval '259 milliseconds' END,
               hstore('request_id', 'req-' || n)
        FROM generate_series(1, 1000000) n""")
    psql(database_url, "VACUUM ANALYZE apalis.jobs")
    token = BENCH_ADMIN_TOKEN[0]
    middle = psql_value(database_url, """
        SELECT to_char(coalesce(done_at, run_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || ',' || id
        FROM apalis.jobs WHERE id = 'bench-0500000'""")
    hour_from = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 2 * 86400))
    hour_to = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 2 * 86400 + 3600))
    results = {}
    for name, query in J1_PAGES:
        query = query.format(cursor=urllib.parse.quote(middle), hour_from=hour_from, hour_to=hour_to)
        page = api("GET", f"/api/v1/admin/jobs?{query}", token)
        assert page["jobs"], (name, page)
        results[name] = [wrk(f"{BASE}/api/v1/admin/jobs?{query}", 1, 1, 5,
                             headers=[f"Authorization: Bearer {token}"]) for _ in range(RUNS)]
    return results


def q1(database_url, fake, users):
    """Saturation: 100,000 events already waiting; then a steady 200 events/s."""
    saturation = []
    for _ in range(RUNS):
        fake.reset()
        started = time.time()
        psql(database_url, """
            INSERT INTO analytics_events (uuid, event, user_id, properties, occurred_at)
            SELECT gen_random_uuid(), 'timer.stopped', 2, '{"duration_seconds": 60}', now()
            FROM generate_series(1, 100000);
            UPDATE installation SET analytics_enabled = true;""")
        # Events recorded by the app enqueue their delivery run; these were
        # inserted behind its back, so one recorded event starts the run.
        api("POST", "/api/v1/timer/start", users["load00"][1], {"project_id": 1})
        api("POST", "/api/v1/timer/stop", users["load00"][1], {})
        while int(psql_value(database_url, "SELECT count(*) FROM analytics_events WHERE status = 'pending'")):
            time.sleep(0.2)
        seconds = time.time() - started
        requests, arrivals = fake.snapshot()
        saturation.append({"events_per_s": len(arrivals) / seconds,
                           "per_request": len(arrivals) / max(requests, 1)})
    steady = []
    token = users["load00"][1]
    for _ in range(RUNS):
        fake.reset()
        # 100 start/stop cycles a second: 200 events a second, for 20 s.
        started = time.time()
        for i in range(4000):
            due = started + i / 200
            time.sleep(max(0, due - time.time()))
            api("POST", "/api/v1/timer/start" if i % 2 == 0 else "/api/v1/timer/stop", token,
                {"project_id": 1} if i % 2 == 0 else {})
        time.sleep(3)
        _, arrivals = fake.snapshot()
        delays = sorted(at - parse_rfc3339(ts) for at, ts in arrivals if ts)
        steady.append({"p50_ms": statistics.median(delays) * 1000,
                       "rate": len(arrivals) / 20})
    return saturation, steady


def parse_rfc3339(ts):
    main, _, rest = ts.partition(".")
    frac = re.match(r"\d*", rest).group(0) if rest else "0"
    base = time.mktime(time.strptime(main[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    return base + float("0." + (frac or "0"))


def q2(database_url, web_env, logdir, users, worker):
    """kill -9 the worker with 300 exports queued and in flight; a new one finishes them.
    The worker is paused (SIGSTOP) while the 300 are requested, so all of them
    are queued when it resumes, then killed a second later, mid-build."""
    results = []
    token = users["reader"][1]
    for _ in range(RUNS):
        worker.p.send_signal(signal.SIGSTOP)
        ids = [api("POST", "/api/v1/exports", token,
                   {"format": "xlsx" if i % 2 else "csv", "from": FIRST_DAY, "to": "2024-12-31"})["id"]
               for i in range(300)]
        worker.p.send_signal(signal.SIGCONT)
        time.sleep(1.0)
        worker.stop(signal.SIGKILL)
        done_at_kill = int(psql_value(database_url, f"SELECT count(*) FROM exports WHERE id >= {ids[0]} AND status = 'done'"))
        restarted = time.time()
        worker = Proc("timetracker-worker", [], web_env, logdir)
        while True:
            states = psql_value(database_url, f"SELECT count(*) FILTER (WHERE status = 'done'), count(*) FILTER (WHERE status = 'failed') FROM exports WHERE id >= {ids[0]}")
            done, failed = map(int, states.split("|"))
            if done + failed == len(ids) or time.time() - restarted > 120:
                break
            time.sleep(0.1)
        results.append({"seconds": time.time() - restarted, "lost": len(ids) - done,
                        "in_flight_at_kill": len(ids) - done_at_kill})
    return results, worker


def x1(database_url, logdir, fake, users, script):
    """Scale-out: two web and two worker processes on one database (the
    caller's single ones stopped). S2 with its 16 users split between the
    two webs' ports, then Q1 (its waiting events delivered by both workers),
    with maintenance every few seconds and install telemetry on with the
    day's heartbeat due. Then what arrived: every product event recorded
    meanwhile exactly once at the fake PostHog, one maintenance run per
    tick, one heartbeat."""
    first_event = int(psql_value(database_url, "SELECT coalesce(max(id), 0) FROM analytics_events"))
    started = psql_value(database_url, "SELECT now()")
    mark = len(fake.received_since(0))
    extra = {"MAINTENANCE_INTERVAL_SECONDS": str(MAINTENANCE_EVERY),
             "TELEMETRY_POSTHOG_HOST": f"http://127.0.0.1:{POSTHOG_PORT}",
             "TELEMETRY_POSTHOG_KEY": "phc_bench_telemetry"}
    second_web = {"HTTP_ADDR": f"127.0.0.1:{WEB_PORT_B}", "WEB_METRICS_ADDR": f"127.0.0.1:{WEB_METRICS_B}"}
    procs = [Proc("timetracker", ["serve"], env_for(database_url, extra), logdir),
             Proc("timetracker", ["serve"], env_for(database_url, {**extra, **second_web}), logdir),
             Proc("timetracker-worker", [], env_for(database_url, extra), logdir),
             Proc("timetracker-worker", [], env_for(database_url, {**extra, "WORKER_METRICS_ADDR": f"127.0.0.1:{WORKER_METRICS_B}"}), logdir)]
    try:
        for port in (WEB_METRICS, WEB_METRICS_B, WORKER_METRICS, WORKER_METRICS_B):
            wait_ready(port)
        ready = psql_value(database_url, "SELECT extract(epoch FROM now())")
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{WEB_METRICS}/metrics", timeout=5).read().decode()
        version = re.search(r'timetracker_build_info\{[^}]*version="([^"]+)"', metrics).group(1)
        # A heartbeat is due after the install's minute of the day (its id
        # mod 1440): minute 0, the last ping yesterday: due all day, once.
        install_id = uuid.UUID(int=uuid.uuid4().int // 1440 * 1440)
        psql(database_url, f"""UPDATE installation SET telemetry_consent = true, telemetry_consent_at = now(),
            install_id = '{install_id}', last_ping_version = '{version}', last_ping_at = now() - interval '1 day'""")
        s2_runs = []
        for _ in range(RUNS):
            out = {}

            def drive(half, port):
                tokens = ",".join(users[f"load{i:02}"][1] for i in range(half * 8, half * 8 + 8))
                out[half] = wrk(f"http://127.0.0.1:{port}", 8, 8, 20, script=script, env={"TOKENS": tokens})

            threads = [threading.Thread(target=drive, args=(h, p)) for h, p in enumerate((WEB_PORT, WEB_PORT_B))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            rps = sum(r["rps"] for r in out.values())
            s2_runs.append({"rps": rps, "cycles": rps / 2, "p99_ms": max(r["p99_ms"] for r in out.values()),
                            "non2xx": sum(r["non2xx"] for r in out.values())})
        q1_runs = q1(database_url, fake, users)
        deadline = time.time() + 120
        while int(psql_value(database_url, f"SELECT count(*) FROM analytics_events WHERE id > {first_event} AND status = 'pending'")) \
                and time.time() < deadline:
            time.sleep(0.5)
        time.sleep(2 * MAINTENANCE_EVERY)  # the last tick's run, the heartbeat
        ended = psql_value(database_url, "SELECT extract(epoch FROM now())")
    finally:
        for proc in procs:
            proc.stop()
        psql(database_url, "UPDATE installation SET telemetry_consent = false")
    recorded = set(psql_value(database_url, f"SELECT uuid FROM analytics_events WHERE id > {first_event}").split())
    received = [u for u, event in fake.received_since(mark) if not str(event).startswith("telemetry.")]
    counts = collections.Counter(received)
    # Maintenance: every tick that began after the processes were up and
    # ended before the last look must have had exactly one job that ran
    # exactly once (the runner writes every run to job_attempts).
    first = math.ceil(float(ready) / MAINTENANCE_EVERY) * MAINTENANCE_EVERY
    last = (math.floor(float(ended) / MAINTENANCE_EVERY) - 1) * MAINTENANCE_EVERY
    expected = set(range(first, last + 1, MAINTENANCE_EVERY))
    rows = psql_value(database_url, """
        SELECT convert_from(j.job, 'UTF8')::jsonb ->> 'tick', count(a.id)
        FROM apalis.jobs j LEFT JOIN job_attempts a ON a.job_id = j.id
        WHERE j.job_type = 'maintenance' GROUP BY j.id""").split()
    ticks = collections.Counter()
    runs = []
    for row in rows:
        tick, n = map(int, row.split("|"))
        if tick in expected:
            ticks[tick] += 1
            runs.append(n)
    # Which processes ran the deliveries (a worker is named process/queue).
    by_process = psql_value(database_url, f"""SELECT count(*) FROM job_attempts
        WHERE queue = 'analytics_delivery' AND started_at BETWEEN '{started}' AND to_timestamp({ended})
        GROUP BY split_part(worker, '/', 1) ORDER BY 1 DESC""").split()
    return {"S2": s2_runs, "Q1": q1_runs, "events": len(recorded),
            "lost": len(recorded - set(counts)), "doubled": sum(c - 1 for c in counts.values() if c > 1),
            "foreign": len(set(counts) - recorded),
            "maintenance": {"ticks": len(expected), "missing": sorted(t - first for t in expected - set(ticks)),
                            "doubled_ticks": sum(1 for n in ticks.values() if n > 1),
                            "jobs": len(runs), "runs": sum(runs), "most_runs": max(runs, default=0)},
            "heartbeats": sum(1 for _, e in fake.received_since(mark) if e == "telemetry.heartbeat"),
            "deliveries_by_process": [int(n) for n in by_process]}


# --- report ---------------------------------------------------------------------------

def table(rows):
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        lines.append("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def verdict(ok):
    return "met" if ok else "**missed**"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--only", metavar="IDS", default="S1,S2,S3,S4,S5,P1,P2,Q1,X1,Q2,Q3,J1",
                        help="comma-separated scenarios to run (default: all); Q3 needs S2")
    parser.add_argument("--baseline", metavar="WORKTREE",
                        help="also measure S2, S3, S4 and S5 on this older checkout's release build (same run, same data)")
    args = parser.parse_args()
    if args.write_docs and set(args.only.split(",")) != set(parser.get_default("only").split(",")):
        parser.error("--write-docs records the whole table: run every scenario")
    base_url = os.environ["DATABASE_URL"]
    database_url = re.sub(r"/[^/?]*(\?|$)", r"/timetracker_bench\1", base_url, count=1) \
        if base_url.count("/") >= 3 else base_url
    admin_url = re.sub(r"/timetracker_bench", "/postgres", database_url)
    psql(admin_url, "DROP DATABASE IF EXISTS timetracker_bench WITH (FORCE)")
    psql(admin_url, "CREATE DATABASE timetracker_bench")
    logdir = tempfile.mkdtemp(prefix="tt-bench-")
    env = env_for(database_url)
    subprocess.run([str(BIN / "timetracker"), "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    fake = FakePostHog()
    web = Proc("timetracker", ["serve"], env, logdir)
    worker = Proc("timetracker-worker", [], env, logdir)
    results = {}
    try:
        wait_ready(WEB_METRICS)
        wait_ready(WORKER_METRICS)
        log("seeding")
        admin, users = seed(database_url)
        BENCH_ADMIN_TOKEN.append(admin.new_api_token())
        script = Path(logdir) / "s2.lua"
        script.write_text(S2_LUA)
        only = set(args.only.split(","))
        if "S1" in only:
            quiesce(database_url); log("S1"); results["S1"] = s1()
        s2_ids, reader_ids = ceiling_ids(database_url)
        if only & {"S2", "Q3"}:
            quiesce(database_url); log("S2 ceiling: pgbench s2_cycle_events.sql")
            results["S2 ceiling"] = ceiling(database_url, "s2_cycle_events.sql", s2_ids)
            quiesce(database_url); log("S2"); results["S2"] = s2(users, str(script))
        # Again after S2: a VACUUM right after the bulk load did not always
        # leave the visibility map set (counts then read 10,000 heap pages).
        quiesce(database_url); psql(database_url, "VACUUM ANALYZE time_entries")
        if "S3" in only:
            log("S3 ceilings: pgbench s3_page_keyset.sql, s3_page.sql")
            results["S3 ceiling keyset"] = ceiling(database_url, "s3_page_keyset.sql", reader_ids)
            results["S3 ceiling total"] = ceiling(database_url, "s3_page.sql", reader_ids)
            log("S3"); results["S3"] = s3(users)
            log("S3 with the total"); results["S3 total"] = s3(users, "&total=true")
        if "S5" in only:
            quiesce(database_url); log("S5 ceiling: pgbench s5_dashboard.sql")
            results["S5 ceiling"] = ceiling(database_url, "s5_dashboard.sql", reader_ids)
            log("S5"); results["S5"] = s5(users)
        if "S4" in only:
            quiesce(database_url); log("S4"); results["S4"] = s4(admin, web, worker)
        if "P1" in only:
            quiesce(database_url); log("P1"); results["P1"] = p1(worker)
        if "P2" in only:
            quiesce(database_url); log("P2"); results["P2"] = p2(database_url, web, worker)
        # Before and after in one run: the same scenarios on the baseline's
        # binaries (on a copy of this data), then on this commit's again.
        compared = {"S2": lambda url, web, worker: s2(users, str(script)),
                    "S3": lambda url, web, worker: s3_vacuumed(url, users),
                    "S4": lambda url, web, worker: s4(admin, web, worker),
                    "S5": lambda url, web, worker: s5(users)}
        compared = {k: v for k, v in compared.items() if k in only}
        if args.baseline and compared:
            web.stop()
            worker.stop()
            for name, runs in on_baseline(database_url, admin_url, logdir, args.baseline, compared).items():
                results[f"{name} baseline"] = runs
            web = Proc("timetracker", ["serve"], env, logdir)
            worker = Proc("timetracker-worker", [], env, logdir)
            wait_ready(WEB_METRICS)
            wait_ready(WORKER_METRICS)
            for name, measure in compared.items():
                quiesce(database_url); log(f"{name} again")
                results[f"{name} again"] = measure(database_url, web, worker)
        if "Q1" in only:
            quiesce(database_url); log("Q1"); results["Q1"] = q1(database_url, fake, users)
        if "X1" in only:
            quiesce(database_url); log("X1: two web and two worker processes")
            web.stop()
            worker.stop()
            results["X1"] = x1(database_url, logdir, fake, users, str(script))
            web = Proc("timetracker", ["serve"], env, logdir)
            worker = Proc("timetracker-worker", [], env, logdir)
            wait_ready(WEB_METRICS)
            wait_ready(WORKER_METRICS)
        if "Q2" in only:
            quiesce(database_url); log("Q2"); results["Q2"], worker = q2(database_url, env, logdir, users, worker)
        if "Q3" in only:
            # Both levels alternately, each on a web process of its own started
            # for the run, after the same quiesce: comparing with the S2 runs
            # of the run's start would also measure what happened in between
            # (the tables S2 and S5 grew, autovacuum, a warm process).
            log("Q3: S2 at LOG_LEVEL=info and warn, alternately")
            results["Q3 info"], results["Q3"] = [], []
            for _ in range(RUNS):
                for level, key in (("info", "Q3 info"), ("warn", "Q3")):
                    web.stop()
                    web = Proc("timetracker", ["serve"], env_for(database_url, {"LOG_LEVEL": level}), logdir)
                    wait_ready(WEB_METRICS)
                    quiesce(database_url)
                    results[key] += s2(users, str(script), runs_wanted=1)
        # Last: its million rows would weigh on the other scenarios' queue.
        if "J1" in only:
            quiesce(database_url); log("J1"); results["J1"] = j1(database_url)
    finally:
        web.stop()
        worker.stop()
        fake.server.shutdown()

    def row_rps(key, scenario, floor, rps, p99, unit="req/s", field="rps"):
        r = results[key]
        return (key, scenario, floor, f"{median(r, field):,.0f} {unit}, p99 {median(r, 'p99_ms'):.2f} ms",
                verdict(median(r, field) >= rps and median(r, "p99_ms") <= p99))

    def row_ceiling(key, ceilings, scenario, share, p99):
        """The scenario as a share of its ceiling (the first of `ceilings`
        sets the target; the others are reported beside it)."""
        r = results[key]
        field = "cycles" if key == "S2" else "rps"
        got = median(r, field)
        parts = []
        for name in ceilings:
            c = median(results[name[0]], "tps")
            parts.append(f"{got / c * 100:.0f} % of {name[1]} ({c:,.0f}/s)")
        first = got / median(results[ceilings[0][0]], "tps")
        return (f"{key} ÷ ceiling", scenario, f"≥ {share * 100:.0f} % of {ceilings[0][1]}; p99 ≤ {p99} ms",
                f"{got:,.0f}/s, p99 {median(r, 'p99_ms'):.2f} ms: " + "; ".join(parts),
                verdict(first >= share and median(r, "p99_ms") <= p99))

    def row_s4():
        (s100, j100), (s1m, j1m) = results["S4"][100_000], results["S4"][1_000_000]
        rss = max(median(x, "rss_mb") for x in (s100, j100, s1m, j1m))
        return ("S4", "CSV of 100k / 1M entries: streamed by web; built by the job", "1M ≤ 4 s; RSS growth ≤ 32 MB",
                f"web {median(s100, 'seconds'):.2f} s / {median(s1m, 'seconds'):.2f} s; job {median(j100, 'seconds'):.2f} s / {median(j1m, 'seconds'):.2f} s; RSS growth ≤ {rss:.1f} MB",
                verdict(median(s1m, "seconds") <= 4 and median(j1m, "seconds") <= 4 and rss <= 32))

    def row_p1():
        r = results["P1"]
        return ("P1", "PDF report of 100k entries (about 2,000 A4 pages): built by the job",
                "≤ 60 s; RSS growth ≤ 64 MB",
                f"{median(r, 'seconds'):.1f} s, {median(r, 'file_mb'):.1f} MB file; RSS growth {median(r, 'rss_mb'):.1f} MB",
                verdict(median(r, "seconds") <= 60 and median(r, "rss_mb") <= 64))

    def row_p2():
        r = results["P2"]
        return ("P2", "invoice of 10,000 entries (a line each): draft by the web; issue and PDF by the job",
                "draft ≤ 5 s; PDF ≤ 30 s; RSS growth ≤ 64 MB",
                f"draft {median(r, 'draft_s'):.1f} s (web RSS growth {median(r, 'web_mb'):.1f} MB); "
                f"PDF {median(r, 'pdf_s'):.1f} s, {median(r, 'file_mb'):.1f} MB (worker RSS growth {median(r, 'worker_mb'):.1f} MB)",
                verdict(median(r, "draft_s") <= 5 and median(r, "pdf_s") <= 30
                        and max(median(r, "web_mb"), median(r, "worker_mb")) <= 64))

    def row_s4_before():
        """S4's 1M-row CSV (streamed, and the job) on the baseline between two
        runs of this commit, same data."""
        def million(key):
            streamed, job = results[key][1_000_000]
            return median(streamed, "seconds"), median(job, "seconds")
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=args.baseline,
                             stdout=subprocess.PIPE).stdout.decode().strip()
        (web_before, job_before) = million("S4 baseline")
        (web_first, job_first), (web_again, job_again) = million("S4"), million("S4 again")
        web_now = statistics.median([web_first, web_again])
        job_now = statistics.median([job_first, job_again])
        return ("S4 vs before", f"S4's 1M rows on `{rev}`, then this commit again, same data",
                "no regression (≤ 110 % of the time)",
                f"before web {web_before:.2f} s / job {job_before:.2f} s; now web {web_first:.2f} and "
                f"{web_again:.2f} s, job {job_first:.2f} and {job_again:.2f} s "
                f"({web_now / web_before * 100:.0f} % / {job_now / job_before * 100:.0f} %)",
                verdict(web_now <= 1.1 * web_before and job_now <= 1.1 * job_before))

    def row_before(key):
        """`key` on the baseline between two runs of this commit, same data."""
        field = "cycles" if key == "S2" else "rps"
        first, base, again = results[key], results[f"{key} baseline"], results[f"{key} again"]
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=args.baseline,
                             stdout=subprocess.PIPE).stdout.decode().strip()
        now = statistics.median([median(first, field), median(again, field)])
        return (f"{key} vs before", f"{key} on `{rev}`, then this commit again, same data", "no regression (≥ 90 %)",
                f"before {median(base, field):,.0f}/s, p99 {median(base, 'p99_ms'):.2f} ms; "
                f"now {median(first, field):,.0f} and {median(again, field):,.0f}/s, p99 {median(again, 'p99_ms'):.2f} ms "
                f"({now / median(base, field) * 100:.0f} %)",
                verdict(now >= 0.9 * median(base, field)))

    def row_q1():
        sat, steady = results["Q1"]
        return ("Q1", "analytics: 100k waiting events; then a steady 200 events/s", "≥ 5,000 events/s, ≥ 50 per request; p50 ≤ 500 ms",
                f"{median(sat, 'events_per_s'):,.0f} events/s, {median(sat, 'per_request'):.0f} per request; p50 {median(steady, 'p50_ms'):.0f} ms",
                verdict(median(sat, "events_per_s") >= 5000 and median(sat, "per_request") >= 50 and median(steady, "p50_ms") <= 500))

    def row_q2():
        q2r = results["Q2"]
        return ("Q2", "kill -9 the worker with 300 exports queued and in flight", "all complete, 0 lost, ≤ 20 s",
                f"{median(q2r, 'seconds'):.1f} s after restart ({median(q2r, 'in_flight_at_kill'):.0f} of 300 not done at the kill), {max(r['lost'] for r in q2r)} lost",
                verdict(median(q2r, "seconds") <= 20 and max(r["lost"] for r in q2r) == 0))

    def row_q3():
        s2r, q3r = results["Q3 info"], results["Q3"]
        cost = 1 - median(s2r, "cycles") / median(q3r, "cycles")
        return ("Q3", "S2 with LOG_LEVEL=info vs warn, alternately", "≤ 10 % cost",
                f"{cost * 100:.1f} % ({median(s2r, 'cycles'):,.0f} vs {median(q3r, 'cycles'):,.0f} cycles/s)",
                verdict(cost <= 0.10))

    def row_x1():
        x = results["X1"]
        m = x["maintenance"]
        sat, steady = x["Q1"]
        one = lambda key, text: f" (one process: {text(results[key])})" if key in results else ""
        s2 = (f"S2 {median(x['S2'], 'cycles'):,.0f} cycles/s, p99 {median(x['S2'], 'p99_ms'):.2f} ms"
              + one("S2", lambda r: f"{median(r, 'cycles'):,.0f}"))
        q1 = (f"Q1 {median(sat, 'events_per_s'):,.0f} events/s, p50 {median(steady, 'p50_ms'):.0f} ms"
              + one("Q1", lambda r: f"{median(r[0], 'events_per_s'):,.0f}"))
        ok = (x["lost"] == x["doubled"] == x["foreign"] == 0 and x["events"] > 0 and m["ticks"] > 0
              and not m["missing"] and m["doubled_ticks"] == 0 and m["most_runs"] == 1 and x["heartbeats"] == 1)
        return ("X1", "2 web + 2 worker processes, one database: S2 split between the webs; Q1",
                "no lost or doubled event; one maintenance run per tick; one heartbeat",
                f"{s2}; {q1}; {x['events']:,} events: {x['lost']} lost, {x['doubled']} doubled; "
                f"maintenance every {MAINTENANCE_EVERY} s: {m['ticks']} whole ticks, "
                f"{len(m['missing'])} missed{' (s after the first: ' + str(m['missing']) + ')' if m['missing'] else ''}, "
                f"{m['doubled_ticks']} with two jobs; {m['jobs']} jobs ran {m['runs']} times, at most "
                f"{m['most_runs']} each; heartbeats {x['heartbeats']}; "
                f"delivery runs per worker process {' / '.join(map(str, x['deliveries_by_process']))}",
                verdict(ok))

    def row_j1():
        pages = results["J1"]
        worst = max(pages, key=lambda k: median(pages[k], "p99_ms"))
        p99 = median(pages[worst], "p99_ms")
        each = "; ".join(f"{k} {median(v, 'p99_ms'):.1f}" for k, v in pages.items())
        return ("J1", "job console list (API), 1M finished jobs: every kind of page, 1 connection",
                "p99 ≤ 50 ms per page", f"p99 ms: {each}", verdict(p99 <= 50))

    builders = [
        ("S1", lambda: row_rps("S1", "GET /health/ready, 64 connections, 20 s", "≥ 15,000 req/s, p99 ≤ 10 ms", 15000, 10)),
        ("S2", lambda: row_rps("S2", "16 users: API timer start + stop, 20 s", "≥ 1,500 cycles/s, p99 ≤ 20 ms", 1500, 20,
                               "cycles/s", "cycles")),
        ("S2 ceiling", lambda: row_ceiling("S2", [("S2 ceiling", "s2_cycle_events")],
                                           "S2 against pgbench of its minimal SQL, same run", 0.60, 20)),
        ("S2 baseline", lambda: row_before("S2")),
        ("S3", lambda: row_rps("S3", "GET /api/v1/time-entries (20), 10k of 1M entries, 16 connections",
                               "≥ 3,000 req/s, p99 ≤ 20 ms", 3000, 20)),
        ("S3 ceiling keyset", lambda: row_ceiling("S3", [("S3 ceiling keyset", "s3_page_keyset"),
                                                         ("S3 ceiling total", "s3_page")],
                                                  "S3 against pgbench of its minimal SQL, same run", 0.60, 10)),
        ("S3 total", lambda: row_ceiling("S3 total", [("S3 ceiling total", "s3_page")],
                                         "S3 asking for the exact total (`&total=true`) against s3_page", 0.60, 10)),
        ("S3 baseline", lambda: row_before("S3")),
        ("S4", row_s4),
        ("S4 baseline", row_s4_before),
        ("P1", row_p1),
        ("P2", row_p2),
        ("S5", lambda: row_rps("S5", "dashboard page, user with 10k entries, 16 connections", "≥ 2,000 req/s, p99 ≤ 25 ms",
                               2000, 25)),
        ("S5 ceiling", lambda: row_ceiling("S5", [("S5 ceiling", "s5_dashboard")],
                                           "S5 against pgbench of its minimal SQL, same run", 0.50, 20)),
        ("S5 baseline", lambda: row_before("S5")),
        ("Q1", row_q1),
        ("Q2", row_q2),
        ("X1", row_x1),
        ("Q3", row_q3),
        ("J1", row_j1),
    ]
    rows = [("id", "scenario", "floor", "median of 3", "verdict")] + \
        [build() for key, build in builders if key in results]
    report = table(rows)
    print(report)
    non2xx = sum(r["non2xx"] for k in ("S1", "S2", "S3", "S3 total", "S5", "S2 baseline", "S2 again", "S3 baseline",
                                       "S3 again", "S5 baseline", "S5 again", "Q3 info", "Q3")
                 for r in results.get(k, [])) + \
        sum(r["non2xx"] for r in results.get("X1", {}).get("S2", [])) + \
        sum(r["non2xx"] for runs in results.get("J1", {}).values() for r in runs)
    print(f"\nnon-2xx responses across wrk runs: {non2xx}")
    if args.write_docs:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                stdout=subprocess.PIPE).stdout.decode().strip()
        cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                    if l.startswith("model name")), "unknown")
        machine = (f"Measured {time.strftime('%Y-%m-%d', time.gmtime())} at commit `{commit}` on "
                   f"{os.cpu_count()} cores ({cpu}), {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, "
                   f"PostgreSQL {psql_value(database_url, 'SHOW server_version')} on the same machine. "
                   f"Non-2xx responses across all wrk runs: {non2xx}.")
        doc = ROOT / "docs" / "performance.md"
        text = doc.read_text()
        start, end = "<!-- results:start -->", "<!-- results:end -->"
        text = text[:text.index(start) + len(start)] + "\n" + machine + "\n\n" + report + "\n" + text[text.index(end):]
        doc.write_text(text)
        log("docs/performance.md updated")


if __name__ == "__main__":
    main()
