#!/usr/bin/env python3
"""check-systemd.py - installs jobmatch under systemd as docs/operations.md
says, in a Docker container with systemd as PID 1, and checks it runs.

  - the programs come from `cmake --install` (the Dockerfile's build stage:
    prefix /usr, sysconfdir /etc), on a Debian 12 with systemd and the
    runtime libraries the Dockerfile's runtime stage names;
  - the first shell block of docs/operations.md, "Running under systemd",
    is run as it is written (units, sysusers, configs, enable --now);
  - each service reaches its ready line under the units' hardening;
  - `jobmatch sample load` fills them, the matcher follows both logs, and
    an order gets candidates;
  - `systemctl kill -s KILL` of intake and of the matcher: systemd starts
    them again (Restart=on-failure), no order is lost, and the matcher
    answers as before;
  - the second shell block (CURVE on): the admin key is answered as
    admin, a plain call and a stranger's key are not (exit 3, the latter
    told it was refused), and the matcher follows both sources with its
    own key, gets intake's ticks, and answers as before;
  - the backup of "Backup and restore", run as written while the services
    run; ten orders after it; its restore of intake, and of profiles, and
    the matcher's rebuild: intake lists the backup's orders, a caseworker
    reads the same personal data of a citizen (the key files came back
    with the store), the rebuilt matcher holds them and answers as before;
  - the two shell blocks of "Metrics": the timer writes the file as the
    jobmatch user, readable by node_exporter, with every service up and
    the matcher's orders; with CURVE and no key every service is down in
    it (the unit does not fail); with the documented `monitor` key and
    `systemctl reload` (the same processes) all up again, and that key
    may not list orders;
  - the access lines of profiles in its journal: one per citizen the
    sample wrote, and the caseworker's read of one;
  - `systemctl stop` ends each with `stopped` in its journal and status 0.

Needs the docker daemon with room for systemd in a container (the
container gets CAP_SYS_ADMIN, no seccomp profile and the host's cgroup
tree); --debootstrap makes the debian:12 base images where no registry is
reachable. About two minutes with the build stage cached. Not run by CI
(no container engine there); run it after changing deploy/systemd/ or the
section of docs/operations.md:

  python3 tools/check-systemd.py [--debootstrap] [--keep]

Exit status 0 when every check passed.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from containers import (add_options, base_images, docker_answers, fail,
                        ranking, say, wait)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCKERFILE = "deploy/docker/Dockerfile"
BUILD_IMAGE = "jmcheck-build"
SYSTEMD_IMAGE = "jmcheck-systemd"
CONTAINER = "jmcheck-systemd"
SERVICES = ("intake", "profiles", "matcher")
TIMEOUT = 60


def run(argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        fail("%s exited %d: %s" % (" ".join(argv[:5]), r.returncode,
                                   (r.stderr or r.stdout).strip()[-2000:]))
    return r


def inside(command, check=True):
    """Runs a shell command in the container, as root."""
    argv = ["docker", "exec", CONTAINER, "bash", "-c", command]
    return run(argv) if check else subprocess.run(argv, capture_output=True,
                                                   text=True)


def section_blocks(title, want):
    """The sh blocks of docs/operations.md's section "## title"."""
    text = open(os.path.join(ROOT, "docs/operations.md")).read()
    m = re.search(r"^## %s\n(.*?)^## " % re.escape(title), text, re.M | re.S)
    blocks = re.findall(r"^```sh\n(.*?)^```", m.group(1) if m else "",
                        re.M | re.S)
    if len(blocks) != want:
        fail("docs/operations.md: want %d sh blocks under '%s', found %d" %
             (want, title, len(blocks)))
    return blocks


def documented_steps():
    """The sh blocks of docs/operations.md, "Running under systemd": the
    installation, and turning CURVE on."""
    return section_blocks("Running under systemd", 2)


def runtime_packages():
    """What the Dockerfile's last stage installs with apt-get."""
    text = open(os.path.join(ROOT, DOCKERFILE)).read()
    last = text[text.rindex("\nFROM "):].replace("\\\n", " ")
    m = re.search(r"apt-get install ([^&\n]*)", last)
    if not m:
        fail("%s: no apt-get install in the runtime stage" % DOCKERFILE)
    return [w for w in m.group(1).split() if not w.startswith("-")]


def build_images():
    say("building the build stage (cmake --install into /out) ...")
    run(["docker", "build", "-q", "--target", "build", "-t", BUILD_IMAGE,
         "-f", DOCKERFILE, "."], cwd=ROOT)
    with tempfile.TemporaryDirectory() as ctx:
        # The repository's deploy/ and docs/ as git tracks them: the
        # documented steps run from a checkout.
        files = run(["git", "ls-files", "deploy", "docs"], cwd=ROOT
                    ).stdout.split()
        for f in files:
            os.makedirs(os.path.join(ctx, "jobmatch", os.path.dirname(f)),
                        exist_ok=True)
            shutil.copy(os.path.join(ROOT, f), os.path.join(ctx, "jobmatch",
                                                            f))
        with open(os.path.join(ctx, "Dockerfile"), "w") as out:
            out.write(
                "FROM debian:12\n"
                # procps: the units' ExecReload is /bin/kill, on every
                # standard Debian installation but not in a minbase root.
                "RUN apt-get update && apt-get install -y "
                "--no-install-recommends systemd systemd-sysv procps %s "
                "&& rm -rf /var/lib/apt/lists/*\n"
                "COPY --from=%s /out/ /\n"
                "COPY jobmatch /root/jobmatch\n"
                "STOPSIGNAL SIGRTMIN+3\n"
                'CMD ["/sbin/init"]\n' % (" ".join(runtime_packages()),
                                          BUILD_IMAGE))
        say("building a Debian 12 with systemd and the installed files ...")
        run(["docker", "build", "-q", "-t", SYSTEMD_IMAGE, ctx])


def start_container():
    subprocess.run(["docker", "rm", "-f", CONTAINER], capture_output=True)
    run(["docker", "run", "-d", "--name", CONTAINER, "--cap-add", "SYS_ADMIN",
         "--security-opt", "seccomp=unconfined", "-v",
         "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs",
         "/run/lock", SYSTEMD_IMAGE])
    return wait("systemd in the container", lambda: (
        lambda state: state if state in ("running", "degraded") else None)(
        inside("systemctl is-system-running", check=False).stdout.strip()),
        TIMEOUT)


def journal(svc, lines=20):
    """The service's own lines (not systemd's about it), the last few."""
    return inside("journalctl _SYSTEMD_UNIT=jobmatch-%s.service --no-pager "
                  "-o cat | tail -n %d" % (svc, lines), check=False).stdout


def ready(svc, since_line):
    """The ready line of svc's journal after its first since_line lines."""
    out = inside("journalctl -u jobmatch-%s --no-pager -o cat" % svc,
                 check=False).stdout.splitlines()[since_line:]
    return any(re.match(r"\S+: ready ", line) for line in out)


def journal_length(svc):
    return len(inside("journalctl -u jobmatch-%s --no-pager -o cat" % svc,
                      check=False).stdout.splitlines())


def wait_ready(svc, since_line=0):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if ready(svc, since_line):
            return
        time.sleep(0.2)
    fail("jobmatch-%s: no ready line in %d s; its journal:\n%s" %
         (svc, TIMEOUT, journal(svc)))


# The CLI's key options once CURVE is on (the documented block's files).
KEYS = ""


def run_documented(what, script, restarts=()):
    """Runs a shell block of docs/operations.md as written (in the copy of
    the repository, stopping at the first failing command), then waits for
    a new ready line from each service it restarts."""
    seen = {svc: journal_length(svc) for svc in restarts}
    r = inside("cd /root/jobmatch && set -e\n" + script, check=False)
    if r.returncode != 0:
        fail("the documented %s failed (%d): %s" %
             (what, r.returncode, (r.stderr or r.stdout).strip()[-2000:]))
    for svc in restarts:
        wait_ready(svc, seen[svc])


def jm_json(*args):
    r = inside("jobmatch %s %s --json" % (KEYS, " ".join(args)), check=False)
    return json.loads(r.stdout) if r.returncode == 0 else None


def stats():
    return jm_json("matcher", "stats")


def order_count():
    listed = jm_json("order", "list", "--limit", "1000")
    return len(listed["orders"]) if listed else -1


def check_backup_restore(order_id, before):
    """docs/operations.md's backup, then orders written after it, then its
    restore of intake and the matcher's rebuild: intake is back where the
    backup was (the later orders lost, as documented), the rebuilt matcher
    holds the same and answers as before."""
    backup, restore = section_blocks("Backup and restore", 2)
    # A caseworker of 101 (only they see personal data): what profiles
    # decrypts for one citizen before the backup must be what it decrypts
    # after the restore (its keys.bin and secret.key were backed up too).
    pub = inside("jobmatch node keygen /root/caseworker.key").stdout.strip()
    inside("echo '%s caseworker:101' >> /etc/jobmatch/keys/sources.allow"
           % pub)
    seen = journal_length("profiles")
    inside("systemctl restart jobmatch-profiles")
    wait_ready("profiles", seen)
    citizen = before["candidates"][0]["profile_id"]

    def personal():
        r = inside("jobmatch --key /root/caseworker.key --profiles-key "
                   "/etc/jobmatch/keys/profiles.pub profile get %s --json" %
                   citizen, check=False)
        got = json.loads(r.stdout) if r.returncode == 0 else {}
        return json.dumps(got.get("personal"), sort_keys=True) if \
            got.get("personal") else None

    person = wait("a caseworker reads %s's personal data" % citizen,
                  personal, TIMEOUT)
    if not inside("journalctl -u jobmatch-profiles --no-pager -o cat -g "
                  "'access principal=caseworker:101 action=get_profile "
                  "profile=%s result=disclosed'" % citizen,
                  check=False).stdout.strip():
        fail("no access line in the journal for the caseworker's read of %s"
             % citizen)
    say("backing up as docs/operations.md says, while the services run ...")
    run_documented("backup", backup)
    dirs = inside("ls -d /backup/jobmatch/intake-*").stdout.split()
    if len(dirs) != 1:
        fail("want one intake backup, found %s" % dirs)
    backed_up = order_count()
    # Ten orders after the backup.
    inside("jobmatch %s sample load --citizens 0 --orders 10 --seed 7 "
           "--municipalities 101" % KEYS)
    if order_count() != backed_up + 10:
        fail("intake lists %d orders before the restore, not %d" %
             (order_count(), backed_up + 10))
    say("restoring intake from %s, rebuilding the matcher ..." % dirs[0])
    run_documented("restore", restore.replace(
        "/backup/jobmatch/intake-20250131T020000Z", dirs[0]),
        ("intake", "matcher"))
    # The same block for profiles (the store with its key files).
    pdirs = inside("ls -d /backup/jobmatch/profiles-*").stdout.split()
    run_documented("restore of profiles", restore.replace(
        "intake", "profiles").replace(
        "/backup/jobmatch/profiles-20250131T020000Z", pdirs[0]),
        ("profiles", "matcher"))
    if wait("personal data after the restore", personal, TIMEOUT) != person:
        fail("%s's personal data differ after the restore of profiles" %
             citizen)
    if order_count() != backed_up:
        fail("intake lists %d orders after the restore, not the backup's %d"
             % (order_count(), backed_up))
    wait("the rebuilt matcher holds the backup's orders and 300 citizens",
         lambda: (lambda s: s and s["open_orders"] == backed_up and
                  s["profiles"] == 300)(stats()), TIMEOUT)
    after = jm_json("match", "order", order_id, "--top", "20")
    if after is None or ranking(after) != ranking(before):
        fail("%s answered differently after the restore" % order_id)
    say("backup and restore: intake back at the backup's %d orders, profiles "
        "decrypting the same personal data, the rebuilt matcher answering as "
        "before" % backed_up)


METRICS_FILE = "/var/lib/jobmatch/metrics/jobmatch.prom"


def metric_samples(text, name):
    """[(labels dict, value)] of metric name in Prometheus text."""
    out = []
    for line in text.splitlines():
        m = re.match(r"%s(?:\{(.*)\})? (\S+)$" % re.escape(name), line)
        if m:
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"',
                                     m.group(1) or ""))
            out.append((labels, float(m.group(2))))
    return out


def metrics_now():
    """Runs jobmatch-metrics.service once (as its timer does) and returns
    the file it wrote."""
    inside("systemctl start jobmatch-metrics.service")
    r = inside("cat %s" % METRICS_FILE, check=False)
    return r.stdout if r.returncode == 0 else ""


def ups(text):
    return {labels["service"]: value
            for labels, value in metric_samples(text, "jobmatch_up")}


def check_metrics_plain(orders):
    """docs/operations.md, "Metrics": the units installed as written; the
    timer writes the file, node_exporter's user may read it, and it holds
    every service up and the matcher's orders."""
    install, _ = section_blocks("Metrics", 2)
    say("installing the metrics timer as docs/operations.md says ...")
    run_documented("metrics units", install)
    if inside("systemctl is-active jobmatch-metrics.timer",
              check=False).stdout.strip() != "active":
        fail("jobmatch-metrics.timer is not active")
    text = wait("%s with every service up" % METRICS_FILE, lambda: (
        lambda t: t if ups(t) == {"intake": 1, "profiles": 1, "matcher": 1}
        else None)(metrics_now()), TIMEOUT)
    held = [v for _, v in metric_samples(text,
                                         "jobmatch_matcher_open_orders")]
    if held != [orders]:
        fail("the file says the matcher holds %s orders, not %d:\n%s" %
             (held, orders, text))
    mode = inside("stat -c '%%a %%U' /var/lib/jobmatch/metrics %s" %
                  METRICS_FILE).stdout.split()
    if mode != ["755", "jobmatch", "644", "jobmatch"]:
        fail("the metrics directory and file are %s, not readable by "
             "node_exporter's user" % mode)
    # It runs as the services' user: their stores and key pairs must be out
    # of its reach (what systemd applies, as it parsed the unit).
    hidden = inside("systemctl show -p InaccessiblePaths --value "
                    "jobmatch-metrics.service").stdout
    for path in ("/var/lib/jobmatch/profiles", "/var/lib/jobmatch/intake",
                 "/etc/jobmatch/keys/profiles.key"):
        if path not in hidden:
            fail("jobmatch-metrics.service can read %s (InaccessiblePaths: "
                 "%s)" % (path, hidden.strip()))
    say("metrics timer: %s written as the jobmatch user, every service up, "
        "%d orders in the matcher; the services' stores and key pairs out "
        "of its reach" % (METRICS_FILE, orders))


def check_metrics_curve():
    """With CURVE on and no key for the collector, the file says every
    service is down (and the unit does not fail); after the documented
    monitor key, up again, and that key reads no order."""
    _, curve = section_blocks("Metrics", 2)
    text = metrics_now()
    if ups(text) != {"intake": 0, "profiles": 0, "matcher": 0}:
        fail("with CURVE on and no key, the file says %s" % ups(text))
    if inside("systemctl is-failed jobmatch-metrics.service",
              check=False).stdout.strip() == "failed":
        fail("jobmatch-metrics.service failed with the services unreachable")
    say("CURVE without a monitor key: the file says all three down")
    pids = [inside("systemctl show -p MainPID --value jobmatch-%s" % svc
                   ).stdout.strip() for svc in SERVICES]
    # The block reloads the services (SIGHUP: the allow list read again),
    # it does not restart them: no new ready line to wait for.
    run_documented("metrics key", curve)
    wait("the file with every service up again, with the monitor key",
         lambda: ups(metrics_now()) == {"intake": 1, "profiles": 1,
                                        "matcher": 1}, TIMEOUT)
    if [inside("systemctl show -p MainPID --value jobmatch-%s" % svc
               ).stdout.strip() for svc in SERVICES] != pids:
        fail("systemctl reload restarted a service")
    r = inside(". /etc/jobmatch/metrics.env && jobmatch --key $JOBMATCH_KEY "
               "--intake-key $JOBMATCH_INTAKE_KEY order list", check=False)
    if r.returncode != 1 or "PERMISSION_DENIED" not in r.stderr.upper():
        fail("the monitor key listing orders: status %d, %s" %
             (r.returncode, (r.stderr or r.stdout).strip()))
    say("the monitor key, after systemctl reload (same processes): every "
        "service up in the file, orders refused to it")


def check_curve(block, order_id, before):
    """Runs the documented CURVE block, then: admin is answered as admin,
    plain callers and strangers are not, and the matcher follows both
    sources with its own key."""
    global KEYS
    say("turning CURVE on as docs/operations.md says ...")
    run_documented("CURVE steps", block, SERVICES)
    for svc in SERVICES:
        if "an unknown key was refused" not in journal(svc, 40):
            fail("jobmatch-%s: no CURVE self-test in its journal:\n%s" %
                 (svc, journal(svc)))
    KEYS = ("--key /root/jobmatch-admin.key "
            "--intake-key /etc/jobmatch/keys/intake.pub "
            "--profiles-key /etc/jobmatch/keys/profiles.pub "
            "--matcher-key /etc/jobmatch/keys/matcher.pub")
    for svc in SERVICES:
        r = inside("jobmatch %s ping %s" % (KEYS, svc), check=False)
        if r.returncode != 0 or "you are 'admin'" not in r.stdout:
            fail("ping %s with the admin key: %s%s" % (svc, r.stdout,
                                                        r.stderr))
        r = inside("jobmatch --timeout 500 ping %s" % svc, check=False)
        if r.returncode != 3:
            fail("a plain ping of %s got status %d, not 3: %s" %
                 (svc, r.returncode, r.stdout))
    inside("jobmatch node keygen /root/stranger.key >/dev/null")
    r = inside("jobmatch --timeout 500 --key /root/stranger.key "
               "--intake-key /etc/jobmatch/keys/intake.pub ping intake",
               check=False)
    if r.returncode != 3 or "refused your key" not in r.stderr:
        fail("a stranger's key: status %d, %s" % (r.returncode, r.stderr))
    wait("the matcher follows both sources with its key", lambda: (
        lambda s: s and all(x["connected"] and x["applied_seq"] ==
                            x["head_seq"] for x in s["sources"]))(stats()),
        TIMEOUT)
    after = wait("the matcher answers with CURVE", lambda: jm_json(
        "match", "order", order_id, "--top", "20"), TIMEOUT)
    if ranking(after) != ranking(before):
        fail("%s answered differently with CURVE" % order_id)
    # The ticks too: the sources' PUB sockets take the matcher's key (the
    # SUB joined at the restart above, long before these orders).
    inside("jobmatch %s sample load --citizens 0 --orders 5 --seed 8 "
           "--municipalities 101" % KEYS)
    ticks = wait("tick batches from intake with CURVE", lambda: (
        lambda s: s and next((x["tick_batches"] for x in s["sources"]
                              if x["source"] == "intake" and
                              x.get("tick_batches")), None))(stats()),
        TIMEOUT)
    say("CURVE on: admin answered, plain and stranger refused, the matcher "
        "follows both sources with its key (%d batches with intake's ticks), "
        "the same answer" % ticks)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_options(ap, "leave the container running")
    a = ap.parse_args()
    docker_answers()
    base_images(a.debootstrap)
    build_images()
    try:
        say("systemd %s in the container" % start_container())
        install, curve = documented_steps()
        say("running docs/operations.md's steps ...")
        run_documented("installation", install, SERVICES)
        say("intake, profiles and matcher ready under their units")

        # One municipality: close enough that orders have candidates.
        r = inside("jobmatch sample load --citizens 300 --orders 60 "
                   "--municipalities 101")
        if " 0 failed" not in r.stdout:
            fail("sample load: %s" % r.stdout.strip())
        wait("the matcher holds 60 orders and 300 citizens", lambda: (
            lambda s: s and s["open_orders"] == 60 and s["profiles"] == 300)(
            stats()), TIMEOUT)
        order_id, before = None, None
        for n in range(60):  # the order with the most candidates
            ans = jm_json("match", "order", "sample-1-%d" % n, "--top", "20")
            if ans and len(ans["candidates"]) > (
                    len(before["candidates"]) if before else 0):
                order_id, before = "sample-1-%d" % n, ans
        if order_id is None:
            fail("no sample order has candidates")
        say("loaded; %s has %d candidates" % (order_id,
                                              len(before["candidates"])))
        # Every citizen's personal data written is an access line in the
        # journal (operations.md, "Access to personal data").
        written = wait("300 access lines for the citizens written", lambda: (
            lambda n: n if n >= 300 else None)(len(inside(
                "journalctl -u jobmatch-profiles --no-pager -o cat -g "
                "'access principal=local action=put_profile .* "
                "result=written'", check=False).stdout.splitlines())),
            TIMEOUT)
        say("the journal holds %d access lines of citizens written" % written)

        for svc in ("intake", "matcher"):
            seen = journal_length(svc)
            inside("systemctl kill -s KILL jobmatch-%s" % svc)
            wait_ready(svc, seen)
        if order_count() != 60:
            fail("intake lists %d orders after kill -9, not 60" %
                 order_count())
        after = wait("the matcher answers after kill -9",
                     lambda: jm_json("match", "order", order_id, "--top",
                                     "20"), TIMEOUT)
        if ranking(after) != ranking(before):
            fail("%s answered differently after the matcher's kill -9" %
                 order_id)
        say("kill -9 of intake and of the matcher: restarted by systemd, "
            "60 orders, the same answer")

        check_metrics_plain(60)
        check_curve(curve, order_id, before)
        check_metrics_curve()
        check_backup_restore(order_id, before)

        inside("systemctl stop jobmatch-intake jobmatch-profiles "
               "jobmatch-matcher")
        for svc in SERVICES:
            lines = journal(svc, 200).splitlines()
            status = inside("systemctl show -p ExecMainStatus --value "
                            "jobmatch-%s" % svc).stdout.strip()
            if not lines or lines[-1] != "%s: stopped" % svc or status != "0":
                fail("jobmatch-%s: status %s, last line %r" %
                     (svc, status, lines[-1] if lines else None))
        say("systemctl stop: each logged `stopped`, status 0")
        r = inside("systemd-analyze security jobmatch-intake --no-pager "
                   "| tail -n 1", check=False)
        if r.stdout.strip():
            say("systemd-analyze security jobmatch-intake: %s" %
                r.stdout.strip())
        say("PASS: the systemd units, installed as docs/operations.md says")
    finally:
        if not a.keep:
            subprocess.run(["docker", "rm", "-f", CONTAINER],
                           capture_output=True)


if __name__ == "__main__":
    main()
