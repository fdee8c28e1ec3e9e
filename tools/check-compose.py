#!/usr/bin/env python3
"""check-compose.py - runs deploy/docker/compose.yaml with a container engine
and checks what its header promises, from the host, as an operator would.

  - the image builds and the five services start (two municipalities'
    intake and profiles, one shared matcher) and Docker reports each
    healthy (its ping from inside the container);
  - `jobmatch sample load` fills København (101) and Frederiksberg (147)
    through the published ports, and the matcher follows all four logs to
    their heads;
  - a København order gets a Frederiksberg citizen among its candidates
    (the sharing agreement crosses, and only what it allows);
  - `jobmatch matcher watch` on the host gets a new order's shortlist
    within milliseconds of intake acknowledging it (the matcher follows
    the sources' ticks; with only its 1-second poll this fails);
  - after `kill -9` of intake or the matcher and a restart, nothing
    acknowledged is lost, the matcher answers as before, and ticks come
    again;
  - `jobmatch metrics` from the host: every service up, the matcher at
    its sources' heads, the orders counted;
  - SIGHUP to intake's container: logged, and it runs on; after `kill -9`
    it is healthy again;
  - `stop` (SIGTERM) ends every service with status 0 and `stopped` last
    in its log.

With --curve, the same with compose.curve.yaml on top: the `keys` service
makes the keys and allow lists (the host's admin key given to it), every
call from the host uses that key and the services' public keys it
printed, the health checks ping with the monitor key; and a key nobody
listed is refused, a caseworker's key added by running `keys` again is
answered after `kill -s HUP`, without a restart.

Uses `docker compose` (v2) or Debian 12's `docker-compose` (1.29), a
project of its own (-p jmcheck, removed at the end unless --keep) and the
ports the compose file publishes on 127.0.0.1 (7101, 7111, 7201, 7211,
7301, 7302: they must be free). The base images debian:12 and
debian:12-slim are pulled; where no registry is reachable, --debootstrap
makes one Debian 12 minbase with debootstrap and imports it under both
names. Needs the docker daemon (root or the docker group) and a built CLI
(--cli, default build/release/services/cli/jobmatch). Not run by CI (no
container engine there); run it after changing deploy/docker/:

  python3 tools/check-compose.py [--curve] [--cli PATH] [--debootstrap] [--keep]

Exit status 0 when every check passed.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

from containers import (add_options, base_images, docker_answers, fail,
                        ranking, say, wait)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPOSE_FILE = os.path.join(ROOT, "deploy/docker/compose.yaml")
CURVE_FILE = os.path.join(ROOT, "deploy/docker/compose.curve.yaml")
PROJECT = "jmcheck"
SERVICES = ("intake-101", "profiles-101", "intake-147", "profiles-147",
            "matcher")
# what the compose file publishes, as the host reaches it
EP = {
    "101": ("tcp://127.0.0.1:7101", "tcp://127.0.0.1:7201"),
    "147": ("tcp://127.0.0.1:7111", "tcp://127.0.0.1:7211"),
}
MATCHER = "tcp://127.0.0.1:7301"
READY_TIMEOUT = 90
# A shortlist notification later than this after the acknowledgement is
# the poll's, not the tick's (the poll is 1 s).
NOTIFY_LIMIT_S = 0.25


class Check:
    def __init__(self, cli, compose, curve):
        self.cli = cli
        self.compose = compose
        self.files = ["-f", COMPOSE_FILE]
        if curve:
            self.files += ["-f", CURVE_FILE]
        # With CURVE: the host's admin key file and the services' public
        # keys (service name -> Z85), from the keys service.
        self.key = None
        self.public = {}

    def dc(self, *args, check=True, capture=False):
        argv = self.compose + ["-p", PROJECT] + self.files + list(args)
        r = subprocess.run(argv, capture_output=capture, text=True)
        if check and r.returncode != 0:
            fail("%s exited %d%s" % (" ".join(argv), r.returncode,
                                     ": " + r.stderr.strip() if capture
                                     else ""))
        return r

    def to(self, muni=None, key=None):
        """The CLI's global options: the matcher, and with muni that
        municipality's intake and profiles; with CURVE a key (the admin
        key unless another is given) and the services' public keys."""
        args = ["--matcher", MATCHER]
        if muni is not None:
            args += ["--intake", EP[muni][0], "--profiles", EP[muni][1]]
        if self.public:
            args += ["--key", key or self.key,
                     "--matcher-key", self.public["matcher"]]
            if muni is not None:
                args += ["--intake-key", self.public["intake-" + muni],
                         "--profiles-key", self.public["profiles-" + muni]]
        return args

    def jm(self, *args, check=True):
        r = subprocess.run([self.cli] + list(args), capture_output=True,
                           text=True)
        if check and r.returncode != 0:
            fail("jobmatch %s exited %d: %s" % (" ".join(args), r.returncode,
                                                r.stderr.strip()))
        return r

    def stats(self):
        r = self.jm(*self.to(), "matcher", "stats", "--json", check=False)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def wait(self, what, predicate, timeout=READY_TIMEOUT):
        return wait(what, predicate, timeout)

    def caught_up(self):
        s = self.stats()
        if s is None or len(s.get("sources", [])) != 4:
            return None
        ok = all(src.get("connected") and
                 src.get("applied_seq", 0) == src.get("head_seq", -1)
                 for src in s["sources"])
        return s if ok else None

    def load(self, muni, citizens, orders, seed):
        r = self.jm(*self.to(muni), "sample",
                    "load", "--municipalities", muni, "--citizens",
                    str(citizens), "--orders", str(orders), "--seed",
                    str(seed))
        if " 0 failed" not in r.stdout:
            fail("sample load %s: %s" % (muni, r.stdout.strip()))

    def state(self, svc, field):
        cid = self.dc("ps", "-q", svc, capture=True).stdout.strip()
        return subprocess.run(
            ["docker", "inspect", "-f", "{{.State.%s}}" % field, cid],
            capture_output=True, text=True).stdout.strip()

    def health(self, svc):
        return self.state(svc, "Health.Status")

    def all_healthy(self):
        return all(self.health(svc) == "healthy" for svc in SERVICES)

    def match(self, order_id):
        r = self.jm(*self.to(), "match", "order", order_id, "--top", "20",
                    "--json", check=False)
        return json.loads(r.stdout) if r.returncode == 0 else None


def compose_command():
    if subprocess.run(["docker", "compose", "version"], capture_output=True
                      ).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    fail("neither `docker compose` nor `docker-compose` is installed "
         "(Debian 12: apt-get install docker.io docker-compose)")


def notifications(check):
    """Starts `matcher watch --json`; returns (process, list of (time,
    order id)) filled by a thread as lines come."""
    seen = []
    w = subprocess.Popen([check.cli] + check.to() + ["matcher", "watch",
                                                     "--json"],
                         stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)

    def read():
        for line in w.stdout:
            try:
                seen.append((time.monotonic(),
                             json.loads(line).get("order_id", "")))
            except ValueError:
                pass

    threading.Thread(target=read, daemon=True).start()
    return w, seen


def notified_within_limit(check, seen, seed):
    """Submits one order; the seconds from its acknowledgement (the CLI's
    exit) to its shortlist notification, or None if none came in 3 s."""
    order_id = "sample-%d-0" % seed
    check.load("101", 0, 1, seed)
    acked = time.monotonic()
    deadline = acked + 3
    while time.monotonic() < deadline:
        hit = [t for t, o in seen if o == order_id]
        if hit:
            return max(hit[0] - acked, 0.0)
        time.sleep(0.005)
    return None


def check_ticks(check, first_seed, label):
    w, seen = notifications(check)
    try:
        # PUB drops what is published before a subscription joins (watch's
        # to the matcher, the matcher's to a restarted source: a peer
        # killed with its container is found gone by the heartbeat, within
        # seconds): the first orders may come unseen or with a poll.
        seed = first_seed
        for _ in range(20):
            d = notified_within_limit(check, seen, seed)
            seed += 1
            if d is not None and d <= NOTIFY_LIMIT_S:
                break
        else:
            fail("%s: no shortlist notification came with a tick" % label)
        # An order nobody can take may change no shortlist: up to ten
        # orders for five notifications.
        delays = []
        for _ in range(10):
            d = notified_within_limit(check, seen, seed)
            seed += 1
            if d is not None:
                delays.append(d)
            if len(delays) == 5:
                break
        else:
            fail("%s: %d of 10 new orders notified" % (label, len(delays)))
        say("%s: notified %s ms after the submitting command returned "
            "(0: before it returned)" %
            (label, ", ".join("%.0f" % (d * 1000) for d in delays)))
        if max(delays) > NOTIFY_LIMIT_S:
            fail("%s: a notification came %.0f ms after the acknowledgement "
                 "(the matcher's poll, not a tick?)" % (label,
                                                        max(delays) * 1000))
    finally:
        w.kill()
        w.wait()
    return seed


def shared_order(check):
    """A København order with a Frederiksberg citizen among its candidates,
    and its answer."""
    for n in range(60):
        ans = check.match("sample-1-%d" % n)
        if ans and any(c.get("home_municipality") == "147"
                       for c in ans["candidates"]):
            return "sample-1-%d" % n, ans
    fail("no København order has a Frederiksberg candidate")


def check_metrics(check):
    """`jobmatch metrics` from the host, over the published ports: every
    service asked is up, the matcher at the heads of its four sources,
    København's 60 orders open."""
    text = check.jm(*check.to("101"), "metrics").stdout
    up = [line for line in text.splitlines()
          if line.startswith("jobmatch_up{")]
    lag = [line for line in text.splitlines()
           if line.startswith("jobmatch_matcher_source_lag_events{")]
    opened = sum(int(line.split()[-1]) for line in text.splitlines()
                 if line.startswith('jobmatch_orders{municipality="101",'
                                    'status="open"}'))
    if len(up) != 3 or any(not line.endswith(" 1") for line in up):
        fail("jobmatch metrics: %s" % up)
    if len(lag) != 4 or any(not line.endswith(" 0") for line in lag):
        fail("jobmatch metrics, the matcher's lag: %s" % lag)
    if opened != 60:
        fail("jobmatch metrics: %d open orders in 101, not 60" % opened)
    say("jobmatch metrics from the host: 3 services up, the matcher 0 events "
        "behind each of its 4 sources, 60 orders open in 101")


def make_keys(check, tmp, *clients):
    """Runs the keys service with the given 'KEY principal' lines; with
    none, first makes the host's admin key. Returns what it printed as
    {service: public key}."""
    if check.key is None:
        check.key = os.path.join(tmp, "admin.key")
        admin = check.jm("node", "keygen", check.key).stdout.strip()
        clients = ("%s admin" % admin,) + clients
    out = check.dc("run", "--rm", "-T", "keys", *clients, capture=True).stdout
    public = dict(line.split(" ", 1) for line in out.splitlines()
                  if line.strip())
    if sorted(public) != sorted(SERVICES):
        fail("the keys service printed %r" % out)
    if check.public and public != check.public:
        fail("running the keys service again changed a service's key")
    check.public = public


def check_allow_list_reload(check, tmp):
    """With CURVE: a key nobody listed is refused; a caseworker's key,
    added by running the keys service again and a SIGHUP, is answered by
    the same intake process, which keeps its tick subscribers (the
    matcher) connected."""
    stranger = os.path.join(tmp, "stranger.key")
    check.jm("node", "keygen", stranger)
    r = check.jm(*check.to("101", key=stranger), "--timeout", "1000",
                 "ping", "intake", check=False)
    if r.returncode == 0:
        fail("intake-101 answered a key that is on no allow list")
    say("a key on no allow list: refused (exit %d: %s)" %
        (r.returncode, r.stderr.strip().splitlines()[-1]))

    caseworker = os.path.join(tmp, "caseworker.key")
    public = check.jm("node", "keygen", caseworker).stdout.strip()
    pid = check.state("intake-101", "Pid")
    make_keys(check, tmp, "%s caseworker:101" % public)
    check.dc("kill", "-s", "HUP", "intake-101", capture=True)
    check.wait("intake-101 reads its allow list again", lambda: re.search(
        r"allow list \S+ read again: 4 keys", check.dc(
            "logs", "--no-color", "intake-101", capture=True).stdout))
    r = check.wait("intake-101 answers the caseworker", lambda: check.jm(
        *check.to("101", key=caseworker), "--timeout", "1000", "ping",
        "intake", check=False).returncode == 0)
    if check.state("intake-101", "Pid") != pid:
        fail("intake-101 was restarted to read its allow list")
    if "subscriber connection(s)" in check.dc(
            "logs", "--no-color", "intake-101", capture=True).stdout:
        fail("intake-101 dropped its tick subscribers for a key added "
             "(only a key taken off should)")
    say("a caseworker's key added with the keys service and a SIGHUP: "
        "answered by the same intake-101 process (pid %s)" % pid)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--curve", action="store_true",
                    help="with compose.curve.yaml on top: CURVE keys and "
                         "allow lists")
    ap.add_argument("--cli", default=os.path.join(
        ROOT, "build/release/services/cli/jobmatch"))
    add_options(ap, "leave the project's containers and volumes")
    a = ap.parse_args()
    if not os.access(a.cli, os.X_OK):
        fail("%s: no jobmatch CLI (cmake --preset release && cmake --build "
             "build/release, or --cli PATH)" % a.cli)
    docker_answers()
    check = Check(a.cli, compose_command(), a.curve)
    base_images(a.debootstrap)
    check.dc("down", "-v", check=False, capture=True)
    tmp = tempfile.mkdtemp(prefix="jmcheck-")
    try:
        say("building and starting (%s%s) ..." % (
            " ".join(check.compose), ", CURVE" if a.curve else ""))
        t = time.monotonic()
        if a.curve:
            check.dc("build", capture=True)
            make_keys(check, tmp)
            say("keys: %d services' pairs and allow lists, the host's admin "
                "key on them" % len(check.public))
        check.dc("up", "--build", "-d", capture=True)
        check.wait("the matcher follows its four sources", check.caught_up)
        say("up in %.0f s" % (time.monotonic() - t))
        check.wait("every container healthy (its ping from inside)",
                   check.all_healthy)
        say("every container healthy")

        check.load("101", 300, 60, 1)
        check.load("147", 300, 60, 2)
        check.wait("120 open orders and 600 citizens in the matcher",
                   lambda: (lambda s: s and s["open_orders"] == 120 and
                            s["profiles"] == 600)(check.caught_up()))
        say("loaded: 120 open orders, 600 citizens in the matcher")
        check_metrics(check)
        order_id, before = shared_order(check)
        say("%s (København) has a Frederiksberg citizen among its %d "
            "candidates" % (order_id, len(before["candidates"])))

        seed = check_ticks(check, 1000, "ticks")
        src = {x["source"]: x for x in check.stats()["sources"]}
        if not src["intake-101"].get("tick_batches"):
            fail("matcher stats shows no tick batches from intake-101: %s" %
                 src["intake-101"])
        say("matcher stats: %d batches from intake-101's ticks, followed at "
            "%s" % (src["intake-101"]["tick_batches"],
                    src["intake-101"]["tick_endpoint"]))

        # SIGHUP to PID 1 of a container: read again, never stopped.
        if a.curve:
            check_allow_list_reload(check, tmp)
        else:
            check.dc("kill", "-s", "HUP", "intake-101", capture=True)
            check.wait("intake-101 logs the SIGHUP", lambda: "no allow list "
                       "to read again" in check.dc(
                           "logs", "--no-color", "intake-101",
                           capture=True).stdout)
            say("SIGHUP: intake-101 said it has no allow list to read again "
                "(plain sockets)")
        if check.state("intake-101", "Running") != "true":
            fail("intake-101 is not running after a SIGHUP")

        check.dc("kill", "-s", "KILL", "intake-101", capture=True)
        check.dc("start", "intake-101", capture=True)
        check.wait("the matcher follows intake-101 again", check.caught_up)
        check.wait("intake-101 healthy again", lambda: check.health(
            "intake-101") == "healthy")
        seed = check_ticks(check, seed, "after kill -9 of intake-101")

        heads = {x["source"]: x["head_seq"] for x in check.stats()["sources"]}
        check.dc("kill", "-s", "KILL", "matcher", capture=True)
        t = time.monotonic()
        check.dc("start", "matcher", capture=True)
        after = check.wait("the matcher answers after kill -9",
                           lambda: check.match(order_id))
        say("matcher answering %.1f s after its restart" %
            (time.monotonic() - t))
        if ranking(after) != ranking(before):
            fail("%s answered differently after the matcher's kill -9" %
                 order_id)
        s = check.wait("the matcher at its sources' heads", check.caught_up)
        for x in s["sources"]:
            if x["head_seq"] < heads[x["source"]]:
                fail("%s's head went back: %d < %d" % (
                    x["source"], x["head_seq"], heads[x["source"]]))
        check_ticks(check, seed, "after kill -9 of the matcher")

        check.dc("stop", capture=True)
        for svc in SERVICES:
            cid = check.dc("ps", "-q", svc, capture=True).stdout.strip()
            code = subprocess.run(
                ["docker", "inspect", "-f", "{{.State.ExitCode}}", cid],
                capture_output=True, text=True).stdout.strip()
            logs = check.dc("logs", "--no-color", svc, capture=True).stdout
            last = logs.strip().splitlines()[-1] if logs.strip() else ""
            if code != "0" or not last.endswith("stopped"):
                fail("%s: exit status %s, last line %r" % (svc, code, last))
        say("stopped: every service exited 0 and logged `stopped`")
        say("PASS: compose.yaml%s (%s)" % (
            " with compose.curve.yaml" if a.curve else "",
            " ".join(check.compose)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if not a.keep:
            check.dc("down", "-v", check=False, capture=True)


if __name__ == "__main__":
    main()
