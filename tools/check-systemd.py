#!/usr/bin/env python3
"""check-systemd.py - installs jobmatch under systemd as docs/operations.md
says, in a Docker container with systemd as PID 1, and checks it runs.

  - the programs come from `cmake --install` (the Dockerfile's build stage:
    prefix /usr, sysconfdir /etc), on a Debian 12 with systemd and the
    runtime libraries the Dockerfile's runtime stage names;
  - the shell block of docs/operations.md, "Running under systemd", is run
    as it is written (units, sysusers, configs, enable --now);
  - each service reaches its ready line under the units' hardening;
  - `jobmatch sample load` fills them, the matcher follows both logs, and
    an order gets candidates;
  - `systemctl kill -s KILL` of intake and of the matcher: systemd starts
    them again (Restart=on-failure), no order is lost, and the matcher
    answers as before;
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

from containers import base_images, docker_answers, fail, say, wait

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


def documented_steps():
    """The sh block of docs/operations.md, "Running under systemd"."""
    text = open(os.path.join(ROOT, "docs/operations.md")).read()
    m = re.search(r"^## Running under systemd\n(.*?)^## ", text, re.M | re.S)
    block = m and re.search(r"^```sh\n(.*?)^```", m.group(1), re.M | re.S)
    if not block:
        fail("docs/operations.md: no sh block under 'Running under systemd'")
    return block.group(1)


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
                "RUN apt-get update && apt-get install -y "
                "--no-install-recommends systemd systemd-sysv %s "
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


def jm_json(*args):
    r = inside("jobmatch %s --json" % " ".join(args), check=False)
    return json.loads(r.stdout) if r.returncode == 0 else None


def stats():
    return jm_json("matcher", "stats")


def order_count():
    listed = jm_json("order", "list", "--limit", "1000")
    return len(listed["orders"]) if listed else -1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--debootstrap", action="store_true",
                    help="make debian:12[-slim] with debootstrap if they "
                         "cannot be pulled")
    ap.add_argument("--keep", action="store_true",
                    help="leave the container running")
    a = ap.parse_args()
    docker_answers()
    base_images(a.debootstrap)
    build_images()
    try:
        say("systemd %s in the container" % start_container())
        say("running docs/operations.md's steps ...")
        r = inside("cd /root/jobmatch && set -e\n" + documented_steps(),
                   check=False)
        if r.returncode != 0:
            fail("the documented steps failed (%d): %s" % (r.returncode,
                                                           r.stderr.strip()))
        for svc in SERVICES:
            wait_ready(svc)
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
        if [(c["profile_id"], c["score"]) for c in after["candidates"]] != \
                [(c["profile_id"], c["score"]) for c in before["candidates"]]:
            fail("%s answered differently after the matcher's kill -9" %
                 order_id)
        say("kill -9 of intake and of the matcher: restarted by systemd, "
            "60 orders, the same answer")

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
