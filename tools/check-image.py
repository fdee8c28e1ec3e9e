#!/usr/bin/env python3
"""check-image.py - builds deploy/docker/Dockerfile without a container
engine, and runs the result, on a machine where none runs.

Each stage's root is a Debian 12 made by debootstrap (minbase, close to
debian:12-slim); the Dockerfile's instructions are carried out in it
(RUN through chroot and /bin/sh -c, as Docker does; COPY from the build
context, which is the files git tracks, or from an earlier stage;
WORKDIR, USER, ENTRYPOINT noted). Then, in the last stage's root and a
network namespace of its own (the configs' fixed ports free), as the
image's USER and through its ENTRYPOINT:

  - intake, profiles and matcher start and print their ready lines;
  - `jobmatch sample load` fills them, `order list` lists the orders and
    `match order` gives one of them candidates;
  - SIGTERM (docker stop) ends each with status 0 and "stopped" last.

What it does not check: the engine itself (layers, VOLUME, the user
namespace, compose's networking): tools/check-compose.py does, where an
engine runs. Needs root, debootstrap and iproute2,
and Debian's mirror; takes a few minutes. Not run by CI (it needs the
mirror for two whole systems); run it after changing deploy/docker/:

  sudo python3 tools/check-image.py [--keep DIR] [--mirror URL]

Exit status 0 when the image was built and every check passed.
"""
import argparse
import glob
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCKERFILE = "deploy/docker/Dockerfile"
BASES = ("debian:12", "debian:12-slim")
READY_TIMEOUT = 60


def fail(text):
    print("FAIL: " + text)
    sys.exit(1)


def run(argv, **kw):
    r = subprocess.run(argv, **kw)
    if r.returncode != 0:
        fail("%s exited %d" % (" ".join(argv[:4]), r.returncode))
    return r


def instructions(text):
    """[(INSTRUCTION, arguments)] of a Dockerfile: comments dropped,
    continuation lines joined."""
    out, line = [], ""
    for raw in text.splitlines():
        if not line and (not raw.strip() or raw.lstrip().startswith("#")):
            continue
        if raw.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if raw.endswith("\\"):
            line += raw[:-1] + " "
            continue
        line += raw
        word, _, rest = line.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        line = ""
    return out


class Stage:
    def __init__(self, name, root):
        self.name, self.root = name, root
        self.workdir, self.user = "/", "root"
        self.entrypoint, self.cmd = None, None

    def path(self, p):
        return os.path.join(self.root, p.lstrip("/"))


def make_root(base, cache, dest, mirror):
    if base not in BASES:
        fail("FROM %s: only %s are made here" % (base, ", ".join(BASES)))
    if not os.path.exists(cache):
        print("debootstrap bookworm (minbase) ...", flush=True)
        run(["debootstrap", "--variant=minbase", "bookworm", cache, mirror],
            stdout=subprocess.DEVNULL)
    if os.path.exists(dest):
        remove(dest)  # a stage of an earlier --keep run
        if os.path.exists(dest):
            fail("%s could not be removed" % dest)
    run(["cp", "-a", cache, dest])
    shutil.copy("/etc/resolv.conf", os.path.join(dest, "etc/resolv.conf"))


def copy_context(stage, src, dst):
    """COPY SRC DST from the build context: the files git tracks."""
    tracked = subprocess.run(["git", "-C", ROOT, "ls-files", "-z"],
                             capture_output=True, check=True).stdout
    files = [f for f in tracked.decode().split("\0") if f]
    dst_abs = dst if dst.startswith("/") else os.path.join(stage.workdir, dst)
    if src == ".":
        for f in files:
            target = stage.path(os.path.join(dst_abs, f))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(os.path.join(ROOT, f), target)
        return
    if src not in files:
        fail("COPY %s: not a tracked file" % src)
    target = stage.path(dst_abs)
    if dst.endswith("/"):
        target = os.path.join(target, os.path.basename(src))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copy2(os.path.join(ROOT, src), target)


def in_root(stage, command, user=None):
    """argv running command with /bin/sh -c in the stage's root."""
    argv = ["chroot"]
    if user and user != "root":
        argv.append("--userspec=%s:%s" % (user, user))
    return argv + [stage.root, "/bin/sh", "-c",
                   "cd %s && %s" % (shlex.quote(stage.workdir), command)]


def build(work, mirror):
    stages, cache = {}, os.path.join(work, "debian12")
    with open(os.path.join(ROOT, DOCKERFILE), encoding="utf-8") as f:
        steps = instructions(f.read())
    stage = None
    for word, args in steps:
        if word == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", args, re.I)
            name = m.group(2) or str(len(stages))
            stage = Stage(name, os.path.join(work, "stage-" + name))
            make_root(m.group(1), cache, stage.root, mirror)
            stages[name] = stage
            print("stage %s (FROM %s)" % (name, m.group(1)), flush=True)
        elif word == "RUN":
            print("RUN %s" % args[:70], flush=True)
            proc = os.path.join(stage.root, "proc")
            run(["mount", "-t", "proc", "proc", proc])
            try:
                r = subprocess.run(in_root(stage, args, stage.user),
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
            finally:
                subprocess.run(["umount", proc])
            if r.returncode != 0:
                fail("RUN exited %d; its last lines:\n%s" %
                     (r.returncode, "\n".join(r.stdout.splitlines()[-30:])))
        elif word == "COPY":
            parts = args.split()
            if parts[0].startswith("--from="):
                other = stages[parts[0][len("--from="):]]
                run(["cp", "-a", other.path(parts[1]).rstrip("/") + "/.",
                     stage.path(parts[2])])
            else:
                copy_context(stage, parts[0], parts[1])
        elif word == "WORKDIR":
            stage.workdir = args
            os.makedirs(stage.path(args), exist_ok=True)
        elif word == "USER":
            stage.user = args
        elif word == "ENTRYPOINT":
            stage.entrypoint = json.loads(args)
        elif word == "CMD":
            stage.cmd = json.loads(args)
        elif word in ("VOLUME", "EXPOSE", "LABEL", "ENV"):
            pass  # nothing a chroot can show (ENV is not used)
        else:
            fail("%s: instruction %s not known here" % (DOCKERFILE, word))
    return stage


def entry(stage, args):
    return " ".join(shlex.quote(a) for a in stage.entrypoint + args)


def check(stage, netns):
    exe = ["ip", "netns", "exec", netns]
    logs, services = {}, {}
    try:
        for svc in ("intake", "profiles", "matcher"):
            logs[svc] = open(os.path.join(stage.root, "..", svc + ".log"),
                             "w+")
            services[svc] = subprocess.Popen(
                exe + in_root(stage, "exec " + entry(stage, [svc]),
                              stage.user),
                stdout=logs[svc], stderr=subprocess.STDOUT)
            deadline = time.monotonic() + READY_TIMEOUT
            while True:
                logs[svc].seek(0)
                text = logs[svc].read()
                if ": ready " in text:
                    break
                if services[svc].poll() is not None or \
                        time.monotonic() > deadline:
                    fail("%s did not get ready:\n%s" % (svc, text))
                time.sleep(0.1)
            print("%s ready" % svc, flush=True)

        def cli(args):
            r = subprocess.run(exe + in_root(stage, entry(stage, ["jobmatch"]
                                                          + args),
                                             stage.user),
                               capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                fail("jobmatch %s: exit %d: %s" % (" ".join(args),
                                                   r.returncode, r.stderr))
            return r.stdout

        print(cli(["sample", "load", "--citizens", "300", "--orders", "30",
                   "--municipalities", "101"]).strip(), flush=True)
        listed = json.loads(cli(["order", "list", "--json"]))
        orders = listed.get("orders", []) if isinstance(listed, dict) \
            else listed
        if len(orders) != 30:
            fail("order list gave %d orders, not 30" % len(orders))
        best = None
        for o in orders:
            got = json.loads(cli(["match", "order", o["id"], "--json"]))
            if got.get("candidates"):
                best = (o["id"], got["candidates"])
                break
        if best is None:
            fail("no order has candidates")
        print("order %s: %d candidates, the best %s at %.3f" %
              (best[0], len(best[1]), best[1][0]["profile_id"],
               best[1][0]["score"]), flush=True)
    finally:
        for svc, p in services.items():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
    for svc, p in services.items():
        status = p.wait(timeout=60)
        logs[svc].seek(0)
        lines = [l for l in logs[svc].read().splitlines() if l.strip()]
        if status != 0 or not lines or not lines[-1].endswith(": stopped"):
            fail("%s after SIGTERM: exit %d, last line %r" %
                 (svc, status, lines[-1] if lines else ""))
        print("%s stopped (exit 0)" % svc)


def remove(work):
    """A directory of ours (the work directory, a stage's root), unless
    something is still mounted in it (a /proc a RUN left behind): removing
    files through a mount point would reach outside it."""
    with open("/proc/mounts", encoding="utf-8") as f:
        mounted = [l.split()[1] for l in f
                   if l.split()[1].startswith(work.rstrip("/") + "/")]
    if mounted:
        print("left %s in place: %s still mounted" % (work, mounted[0]))
        return
    shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keep", help="build in DIR and keep it (default: a "
                    "temporary directory, removed)")
    ap.add_argument("--mirror", default="http://deb.debian.org/debian")
    a = ap.parse_args()
    if os.geteuid() != 0:
        fail("needs root (debootstrap, chroot, network namespaces)")
    for tool in ("debootstrap", "chroot", "ip"):
        if shutil.which(tool) is None:
            fail("%s is not installed" % tool)
    work = a.keep or tempfile.mkdtemp(prefix="jm-image-")
    os.makedirs(work, exist_ok=True)
    netns = "jm-image-%d" % os.getpid()
    run(["ip", "netns", "add", netns])
    try:
        run(["ip", "netns", "exec", netns, "ip", "link", "set", "lo", "up"])
        final = build(work, a.mirror)
        check(final, netns)
    finally:
        subprocess.run(["ip", "netns", "del", netns])
        for proc in glob.glob(os.path.join(work, "stage-*", "proc")):
            subprocess.run(["umount", proc], stderr=subprocess.DEVNULL)
        if not a.keep:
            remove(work)
    print("image: built from %s and checked" % DOCKERFILE)


if __name__ == "__main__":
    main()
