#!/usr/bin/env python3
"""test_node.py - smoke tests of `jobmatch node`: the real programs, run as
a user runs them (ctest label "smoke"; tests/smoke/CMakeLists.txt).

  sample     `jobmatch node start --data-dir TMP --sample` in the
             background; wait until it says it runs; node.json and a ping
             of every service through `--node TMP`; one shortlist with
             --json: its shape, and every candidate checked against the
             order's hard filters (the checks are written here, from
             docs/matching.md, not taken from the matcher); `matcher
             watch` sees a submitted order's shortlist, the one `match
             order` gives; SIGINT; exit 0 and no process of the node left.
  supervise  a node without sample: SIGKILL one service, the node restarts
             it on the same endpoint; a second `node start` on the same
             directory is refused; `node status` sees every service;
             `node stop` stops it, and nothing is left.
  kill       the node itself killed with SIGKILL: its services end anyway.

Nothing sleeps to synchronise: the test waits on the node's output lines
(read by a thread into a queue, with a deadline), and the few conditions
without an event (a process gone) are bounded retry loops.

Usage: test_node.py sample|supervise|kill --jobmatch PATH --source-dir DIR
"""
import argparse
import csv
import datetime
import json
import math
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SERVICES = ("intake", "profiles", "matcher")
# Sample size: enough citizens that most orders have candidates, small
# enough for a sanitizer build to load it in seconds.
CITIZENS = "400"
ORDERS = "40"
# Greater Copenhagen (as tools/run-node.sh): neighbours, so that most
# orders have candidates within reach.
MUNICIPALITIES = ("101,147,151,153,155,157,159,161,163,165,167,169,173,175,"
                  "183,185,187,190")
START_TIMEOUT = 240.0
STOP_TIMEOUT = 60.0
# Under a sanitizer that slows the services down many times (the TSan pass
# of tools/test.sh), each answer may take longer than the CLI's default
# 3 s: JM_SMOKE_TIMEOUT_MS is given to every jobmatch run as --timeout,
# and `node start` hands it on to its sample load.
GLOBAL = (["--timeout", os.environ["JM_SMOKE_TIMEOUT_MS"]]
          if os.environ.get("JM_SMOKE_TIMEOUT_MS") else [])


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


class Node:
    """A `jobmatch node start` process whose stdout and stderr lines are
    read into queues by two threads (and kept, for the failure report)."""

    def __init__(self, jobmatch, data_dir, extra):
        self.jobmatch = jobmatch
        self.dir = data_dir
        self.argv = ([jobmatch] + GLOBAL +
                     ["node", "start", "--data-dir", data_dir] + extra)
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.out = queue.Queue()
        self.err = queue.Queue()
        self.transcript = []
        for stream, q in ((self.proc.stdout, self.out),
                          (self.proc.stderr, self.err)):
            threading.Thread(target=self._pump, args=(stream, q),
                             daemon=True).start()

    def _pump(self, stream, q):
        for line in stream:
            self.transcript.append(line.rstrip("\n"))
            q.put(line.rstrip("\n"))
        q.put(None)  # end of file

    def wait_line(self, q, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("no %s within %.0f s" % (what, timeout))
            try:
                line = q.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise Failure("the node ended (status %s) before %s" %
                              (self.proc.wait(), what))
            if predicate(line):
                return line

    def signal_and_wait(self, signum, timeout=STOP_TIMEOUT):
        self.proc.send_signal(signum)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure("the node did not end within %.0f s of signal %d" %
                          (timeout, signum))

    def kill(self):
        """After a failure: stop the node as a user would (its services
        with it), and kill whatever of it is left."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in [int(d) for d in os.listdir("/proc") if d.isdigit()]:
            if mentions(pid, self.dir):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


def cli(args, jobmatch, data_dir, expect=0, as_json=True):
    """Runs `jobmatch --node DIR ARGS [--json]`; returns parsed JSON."""
    argv = ([jobmatch] + GLOBAL + ["--node", data_dir] + args +
            (["--json"] if as_json else []))
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if expect is not None and r.returncode != expect:
        raise Failure("%s: exit %d (wanted %d)\nstdout: %s\nstderr: %s" %
                      (" ".join(argv), r.returncode, expect, r.stdout,
                       r.stderr))
    if not as_json:
        return r
    try:
        return json.loads(r.stdout)
    except ValueError as e:
        raise Failure("%s: not JSON (%s): %r" % (" ".join(argv), e,
                                                r.stdout[:500]))


def node_json(data_dir):
    with open(os.path.join(data_dir, "node.json")) as f:
        return json.load(f)


def ping_all(jobmatch, data_dir):
    for svc in SERVICES:
        pong = cli(["ping", svc], jobmatch, data_dir)
        check(pong.get("service") == svc, "ping %s answered %r" % (svc, pong))


# ---- the hard filters, written from docs/matching.md ----

def load_target_groups(source_dir):
    """{(list, code): set of JobKind names} from data/target_groups.csv."""
    groups = {}
    path = os.path.join(source_dir, "data", "target_groups.csv")
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            kinds = {"JOB_KIND_" + k for k in row["job_kinds"].split("|")}
            groups[(row["list"], row["code"])] = kinds
    return groups


LEVELS = ["LANGUAGE_LEVEL_UNSPECIFIED", "LANGUAGE_LEVEL_A1",
          "LANGUAGE_LEVEL_A2", "LANGUAGE_LEVEL_B1", "LANGUAGE_LEVEL_B2",
          "LANGUAGE_LEVEL_C1", "LANGUAGE_LEVEL_C2", "LANGUAGE_LEVEL_NATIVE"]


def level(name):
    return LEVELS.index(name) if name in LEVELS else 0


def load_places(source_dir):
    """{postcode: (lat, lon)} and {municipality code: (lat, lon)}."""
    places = []
    for name, key in (("postcodes.csv", "postcode"),
                      ("municipalities.csv", "code")):
        path = os.path.join(source_dir, "data", "denmark", name)
        with open(path, newline="", encoding="utf-8") as f:
            places.append({row[key]: (float(row["lat"]), float(row["lon"]))
                           for row in csv.DictReader(f)
                           if row["lat"] and row["lon"]})
    return places


def where(location, places):
    """A Location's coordinates: as given, else its postcode's centre, else
    its municipality's (docs/matching.md, the distance filter)."""
    lat, lon = location.get("latitude", 0), location.get("longitude", 0)
    if lat or lon:
        return lat, lon
    postcodes, municipalities = places
    return postcodes.get(location.get("postcode"),
                         municipalities.get(location.get("municipality_code"),
                                            (0.0, 0.0)))


def km(a, b):
    """Great-circle distance between two (lat, lon) in degrees."""
    lat1, lon1 = math.radians(a[0]), math.radians(a[1])
    lat2, lon2 = math.radians(b[0]), math.radians(b[1])
    h = (math.sin((lat2 - lat1) / 2) ** 2 +
         math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def hard_filter_failures(order, profile, groups, places):
    """Every hard filter the citizen fails for the order (empty: eligible)."""
    bad = []
    kind = order.get("kind")
    if order.get("status", "ORDER_STATUS_OPEN") != "ORDER_STATUS_OPEN":
        bad.append("order is %s" % order.get("status"))
    # The citizen's kinds (none listed: whatever the group allows), within
    # what their target group allows (an unknown group allows nothing).
    if profile.get("job_kinds") and kind not in profile["job_kinds"]:
        bad.append("kind %s not among the citizen's %s" %
                   (kind, profile.get("job_kinds")))
    group = (profile.get("target_group_list") or "2025",
             profile.get("target_group"))
    if kind not in groups.get(group, set()):
        bad.append("kind %s not allowed for target group %s" % (kind, group))
    if profile.get("hours_per_week", 0) < order.get("hours_per_week", 0):
        bad.append("hours %s < %s" % (profile.get("hours_per_week"),
                                      order.get("hours_per_week")))
    # An order without a start, or whose start has passed, starts today.
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    start = max(order.get("start_date") or today, today)
    available = profile.get("available_from", "")
    if available and available > start:
        bad.append("available from %s, start %s" % (available, start))
    home, work = profile.get("home", {}), order.get("workplace", {})
    distance = km(where(home, places), where(work, places))
    # 1 km of slack: the matcher may use another earth radius or formula.
    if distance > profile.get("max_travel_km", 0) + 1.0:
        bad.append("distance %.1f km > %s km" % (distance,
                                                 profile.get("max_travel_km")))
    missing = set(order.get("licences", [])) - set(profile.get("licences", []))
    if missing:
        bad.append("licences missing: %s" % sorted(missing))
    spoken = {l.get("language"): level(l.get("level", ""))
              for l in profile.get("languages", [])}
    for req in order.get("languages", []):
        if spoken.get(req.get("language"), 0) < level(req.get("min_level", "")):
            bad.append("language %s below %s" % (req.get("language"),
                                                 req.get("min_level")))
    if (home.get("municipality_code") != order.get("owner_municipality") and
            not profile.get("consent", {}).get("neighbour_matching", False)):
        bad.append("another municipality without consent")
    return bad


PARTS = {"essential_skills", "optional_skills", "occupation", "distance",
         "recency", "progression"}


def check_shortlist(shortlist, order_id):
    check(isinstance(shortlist.get("candidates"), list),
          "no candidates array in %r" % shortlist)
    previous = None
    for c in shortlist["candidates"]:
        where = "order %s candidate %r" % (order_id, c.get("profile_id"))
        check(isinstance(c.get("profile_id"), str) and c["profile_id"],
              where + ": profile_id")
        score = c.get("score")
        check(isinstance(score, (int, float)) and 0 <= score <= 1.0000001,
              where + ": score %r not in [0, 1]" % score)
        parts = c.get("parts")
        check(isinstance(parts, dict) and parts, where + ": parts %r" % parts)
        check(set(parts) <= PARTS, where + ": unknown parts %s" %
              sorted(set(parts) - PARTS))
        # Fields at 0 may be left out of the JSON; the rest add up.
        check(abs(sum(parts.values()) - score) < 1e-6,
              where + ": parts add up to %f, score %f" %
              (sum(parts.values()), score))
        check(previous is None or score <= previous + 1e-12,
              where + ": not sorted best first")
        previous = score


# ---- the cases ----

def case_sample(args, tmp):
    node = Node(args.jobmatch, tmp, ["--sample", "--citizens", CITIZENS,
                                     "--orders", ORDERS, "--municipalities",
                                     MUNICIPALITIES])
    try:
        node.wait_line(node.out, lambda l: l.startswith("node running"),
                       START_TIMEOUT, "\"node running\" line")
        transcript = "\n".join(node.transcript)
        check("A shortlist to start with" in transcript,
              "the welcome shortlist was not printed")
        if GLOBAL:
            check(" ".join(GLOBAL) + " sample load" in transcript,
                  "node start did not hand %s on to the sample load" %
                  " ".join(GLOBAL))
        doc = node_json(tmp)
        check(doc["state"] == "running", "node.json state %r" % doc["state"])
        pids = [doc["pid"]] + [doc["services"][s]["pid"] for s in SERVICES]
        check(all(isinstance(p, int) and p > 0 for p in pids), "pids %r" % pids)
        ping_all(args.jobmatch, tmp)

        groups = load_target_groups(args.source_dir)
        places = load_places(args.source_dir)
        listed = cli(["order", "list"], args.jobmatch, tmp)
        orders = listed.get("orders", []) if isinstance(listed, dict) else listed
        check(orders, "no orders after the sample load")
        checked = 0
        for summary in orders[:20]:
            oid = summary["id"]
            shortlist = cli(["match", "order", oid, "--top", "10"],
                            args.jobmatch, tmp)
            if not shortlist.get("candidates"):
                continue
            check_shortlist(shortlist, oid)
            order = cli(["order", "get", oid], args.jobmatch, tmp)
            order = order.get("order", order)
            for c in shortlist["candidates"]:
                reply = cli(["profile", "get", c["profile_id"]], args.jobmatch,
                            tmp)
                profile = reply.get("profile", reply)
                bad = hard_filter_failures(order, profile, groups, places)
                check(not bad, "order %s, candidate %s fails: %s" %
                      (oid, c["profile_id"], "; ".join(bad)))
                checked += 1
        check(checked > 0, "no order among the first 20 has candidates")
        print("checked %d candidates against their orders' hard filters" %
              checked)
        check_watch(args, tmp)

        status = node.signal_and_wait(signal.SIGINT)
        check(status == 0, "node start exited %d after SIGINT" % status)
        check(node_json(tmp)["state"] == "stopped", "node.json not stopped")
        check_nothing_left(tmp, pids)
    finally:
        node.kill()
        report(node)


def check_watch(args, tmp):
    """`matcher watch --json` (with the node's admin key) prints a new
    order's shortlist as it is published: the ids `match order` gives.
    A SUB socket misses what is published while it joins, so orders are
    submitted until one is seen (each waited for, with a deadline)."""
    argv = ([args.jobmatch] + GLOBAL +
            ["--node", tmp, "matcher", "watch", "--json"])
    watch = subprocess.Popen(argv, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l) for l in watch.stdout],
                     daemon=True).start()
    try:
        started = watch.stderr.readline()
        check(started.startswith("watching shortlist changes"),
              "matcher watch said %r" % started)
        example = os.path.join(args.source_dir, "docs", "examples",
                               "job-order.json")
        submitted, seen = set(), None
        for _ in range(20):
            reply = cli(["order", "submit", example], args.jobmatch, tmp)
            submitted.add(reply["id"])
            deadline = time.monotonic() + 3.0
            while seen is None and time.monotonic() < deadline:
                try:
                    doc = json.loads(lines.get(timeout=0.2))
                except queue.Empty:
                    continue
                if doc.get("order_id") in submitted:
                    seen = doc
            if seen is not None:
                break
        check(seen is not None, "no notification of %d submitted orders" %
              len(submitted))
        listed = cli(["match", "order", seen["order_id"], "--top", "20"],
                     args.jobmatch, tmp)
        ids = [c["profile_id"] for c in listed.get("candidates", [])]
        check(seen.get("profile_ids", []) == ids,
              "watch printed %r, match order gives %r" %
              (seen.get("profile_ids"), ids))
        watch.send_signal(signal.SIGINT)
        status = watch.wait(timeout=STOP_TIMEOUT)
        check(status == 0, "matcher watch exited %d after SIGINT" % status)
        print("matcher watch saw %s with %d candidates" %
              (seen["order_id"], len(ids)))
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()


def case_supervise(args, tmp):
    node = Node(args.jobmatch, tmp, [])
    try:
        node.wait_line(node.out, lambda l: l.startswith("node running"),
                       START_TIMEOUT, "\"node running\" line")
        before = node_json(tmp)
        pids = [before["pid"]] + [before["services"][s]["pid"]
                                  for s in SERVICES]
        ping_all(args.jobmatch, tmp)

        # A second node on the same directory is refused.
        r = subprocess.run([args.jobmatch] + GLOBAL +
                           ["node", "start", "--data-dir", tmp],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 1 and "already runs" in r.stderr,
              "second node start: exit %d, %r" % (r.returncode, r.stderr))

        # A service that dies is restarted on the same endpoints.
        victim = before["services"]["intake"]["pid"]
        os.kill(victim, signal.SIGKILL)
        node.wait_line(node.err, lambda l: "intake is back" in l,
                       START_TIMEOUT, "intake's restart")
        after = node_json(tmp)
        check(after["services"]["intake"]["pid"] != victim, "same pid")
        check(after["services"]["intake"]["restarts"] == 1,
              "restarts %r" % after["services"]["intake"]["restarts"])
        check(after["services"]["intake"]["endpoints"] ==
              before["services"]["intake"]["endpoints"],
              "endpoints moved: %r -> %r" %
              (before["services"]["intake"]["endpoints"],
               after["services"]["intake"]["endpoints"]))
        ping_all(args.jobmatch, tmp)
        pids.append(after["services"]["intake"]["pid"])

        status = subprocess.run([args.jobmatch] + GLOBAL +
                                ["node", "status", "--data-dir", tmp, "--json"],
                                capture_output=True, text=True, timeout=60)
        check(status.returncode == 0, "node status exit %d: %s" %
              (status.returncode, status.stderr))
        st = json.loads(status.stdout)
        check(st["running"] and all(st["services"][s]["answers"]
                                    for s in SERVICES), "status %r" % st)

        r = subprocess.run([args.jobmatch] + GLOBAL +
                           ["node", "stop", "--data-dir", tmp],
                           capture_output=True, text=True, timeout=90)
        check(r.returncode == 0, "node stop exit %d: %s" % (r.returncode,
                                                             r.stderr))
        check(node.proc.wait(timeout=STOP_TIMEOUT) == 0,
              "node start exited %d after node stop" % node.proc.returncode)
        check_nothing_left(tmp, pids)
        check_logs_end_stopped(tmp)
        # With the node gone, --node says so instead of timing out.
        r = cli(["ping", "intake"], args.jobmatch, tmp, expect=3,
                as_json=False)
        check("not running" in r.stderr, "ping of a stopped node: %r" %
              r.stderr)
    finally:
        node.kill()
        report(node)


def case_kill(args, tmp):
    """The node itself killed with SIGKILL (no chance to stop anything):
    its services still end, because the kernel signals them when their
    parent dies (setpriv --pdeathsig)."""
    node = Node(args.jobmatch, tmp, [])
    try:
        node.wait_line(node.out, lambda l: l.startswith("node running"),
                       START_TIMEOUT, "\"node running\" line")
        doc = node_json(tmp)
        pids = [doc["services"][s]["pid"] for s in SERVICES]
        node.proc.kill()
        node.proc.wait()
        check_nothing_left(tmp, pids)
    finally:
        node.kill()
        report(node)


def check_logs_end_stopped(tmp):
    """Each service stopped by SIGTERM says so last in its log, after its
    store is closed (docs/operations.md): "<5>intake: stopped"."""
    for svc in SERVICES:
        with open(os.path.join(tmp, "log", svc + ".log"),
                  encoding="utf-8") as f:
            lines = [l.rstrip("\n") for l in f if l.strip()]
        last = lines[-1] if lines else ""
        check(last.endswith("%s: stopped" % svc),
              "%s's log ends %r, not with \"stopped\"" % (svc, last))


def check_nothing_left(tmp, pids):
    """No pid of the node is alive, and no process mentions the node's
    directory on its command line (a service of it, or the loader)."""
    deadline = time.monotonic() + 10
    while True:
        left = [p for p in pids if alive(p)]
        left += [int(d) for d in os.listdir("/proc")
                 if d.isdigit() and mentions(int(d), tmp)]
        if not left:
            return
        # After a clean stop the node has reaped its services before it
        # exits, and this passes at once; after a SIGKILL of the node they
        # are ending on their own (SIGTERM from the kernel). Bounded.
        if time.monotonic() > deadline:
            raise Failure("processes left behind: %s" % sorted(set(left)))
        time.sleep(0.05)


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[-1][0] != "Z"
    except OSError:
        return False


def mentions(pid, text):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return text.encode() in f.read()
    except OSError:
        return False


def report(node):
    print("---- jobmatch node start output ----")
    print("\n".join(node.transcript))


def sanitizer_reports(tmp):
    """Lines of sanitizer reports in the services' logs."""
    found = []
    logdir = os.path.join(tmp, "log")
    for name in sorted(os.listdir(logdir)) if os.path.isdir(logdir) else []:
        with open(os.path.join(logdir, name), errors="replace") as f:
            for line in f:
                if ("Sanitizer" in line and "ERROR" in line) or \
                        "runtime error:" in line:
                    found.append("%s: %s" % (name, line.rstrip()))
    return found


def main():
    p = argparse.ArgumentParser()
    p.add_argument("case", choices=["sample", "supervise", "kill"])
    p.add_argument("--jobmatch", required=True)
    p.add_argument("--source-dir", required=True)
    args = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="jmsmoke-")
    ok = False
    try:
        cases = {"sample": case_sample, "supervise": case_supervise,
                 "kill": case_kill}
        cases[args.case](args, tmp)
        reports = sanitizer_reports(tmp)
        check(not reports, "sanitizer reports:\n" + "\n".join(reports))
        ok = True
    except Failure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        print("(the node directory is kept: %s)" % tmp, file=sys.stderr)
    finally:
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
