"""containers.py - what tools/check-compose.py and tools/check-systemd.py
share: output, waiting, and Debian 12 base images for Docker."""
import shutil
import subprocess
import sys
import tempfile
import time


def fail(text):
    print("FAIL: " + text, flush=True)
    sys.exit(1)


def say(text):
    print(text, flush=True)


def wait(what, predicate, timeout):
    """Polls predicate until it returns something true (these are tools run
    by hand, not tests: sleeping between polls is fine)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    fail("%s: not within %d s" % (what, timeout))


def add_options(ap, keep_help):
    """The options both checks take."""
    ap.add_argument("--debootstrap", action="store_true",
                    help="make debian:12[-slim] with debootstrap if they "
                         "cannot be pulled")
    ap.add_argument("--keep", action="store_true", help=keep_help)


def ranking(answer):
    """A match answer's candidates as (id, score): equal rankings are equal
    answers."""
    return [(c["profile_id"], c["score"]) for c in answer["candidates"]]


def docker_answers():
    if shutil.which("docker") is None:
        fail("docker is not installed (Debian 12: apt-get install docker.io)")
    if subprocess.run(["docker", "info"], capture_output=True).returncode:
        fail("docker does not answer (is dockerd running, may you use it?)")


def base_images(debootstrap):
    """debian:12 and debian:12-slim, as the Dockerfile names them: pulled,
    or (with debootstrap true, where no registry is reachable) one Debian
    12 minbase made by debootstrap and imported under both names."""
    missing = [b for b in ("debian:12", "debian:12-slim")
               if subprocess.run(["docker", "image", "inspect", b],
                                 capture_output=True).returncode != 0]
    for b in list(missing):
        if subprocess.run(["docker", "pull", b], capture_output=True
                          ).returncode == 0:
            missing.remove(b)
    if not missing:
        return
    if not debootstrap:
        fail("cannot pull %s; with no registry reachable, --debootstrap "
             "makes them from Debian's mirror" % ", ".join(missing))
    if shutil.which("debootstrap") is None:
        fail("--debootstrap needs debootstrap (apt-get install debootstrap)")
    root = tempfile.mkdtemp(prefix="jm-base-")
    try:
        say("debootstrap bookworm (minbase) for %s ..." % ", ".join(missing))
        r = subprocess.run(["debootstrap", "--variant=minbase", "bookworm",
                            root, "http://deb.debian.org/debian"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            fail("debootstrap: %s" % r.stderr.strip()[-500:])
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."],
                               stdout=subprocess.PIPE)
        r = subprocess.run(["docker", "import", "-", missing[0]],
                           stdin=tar.stdout, capture_output=True, text=True)
        tar.wait()
        if r.returncode != 0:
            fail("docker import: %s" % r.stderr.strip())
        for b in missing[1:]:
            subprocess.run(["docker", "tag", missing[0], b], check=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
