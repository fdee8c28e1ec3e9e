#!/usr/bin/env python3
"""check-deploy.py - what can be checked of deploy/ without a container
engine or an init system (neither runs in this project's CI).

  systemd units   every unit has the settings operations.md promises (own
                  user, StateDirectory, the hardening, Restart=on-failure,
                  ExecStart = where `cmake --install` puts the program, with
                  -c /etc/jobmatch/<svc>.conf, which `cmake --install` puts
                  there too); with systemd-analyze on the
                  machine, also `systemd-analyze verify` on copies whose
                  ExecStart is /bin/true (the programs are not installed);
                  jobmatch-metrics.service writes `jobmatch metrics` into
                  its own state directory, readable by node_exporter,
                  with the same hardening, and its timer repeats.
  Dockerfile      the build stage installs with tools/deps.sh (the one
                  package list); the runtime stage installs exactly the
                  runtime packages of the libraries the programs link
                  (readelf NEEDED -> ldd path -> dpkg -S), plus lmdb-utils.
  entrypoint      `sh -n`, and every service it names exists.
  prometheus      the alerting rules load and pass their test cases
                  (promtool, where Debian's prometheus is installed).
  compose.yaml    parses as YAML (with python3-yaml if installed, else
                  skipped); two municipalities' intake and profiles, one
                  matcher whose config follows all four; every config file
                  it mounts exists and passes `jobmatch-<svc> -c FILE -t`
                  (the service's own config table) when the programs are
                  given.
  compose.curve   compose.curve.yaml's services are compose.yaml's, each
                  with its own key volume (its pair, its allow list, its
                  health check pinging with the monitor key), the keys
                  service mounts every one of them and runs the script the
                  Dockerfile installs (sh -n), the matcher has one source
                  key per source, in order; with the programs, each
                  service's config plus its command line passes `-t`.

Usage: check-deploy.py [--programs FILE...]   (built programs for the
Dockerfile check; without them that part is skipped)
Exit status 0 when every check that could run passed.
"""
import argparse
import configparser
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVICES = ("intake", "profiles", "matcher")
problems = []
skipped = []


def problem(text):
    problems.append(text)


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


# ---- systemd ----

REQUIRED = {
    "Service": {
        "Type": "simple",
        "User": "jobmatch",
        "Group": "jobmatch",
        "Restart": "on-failure",
        # systemctl reload: the allow list read again (SIGHUP).
        "ExecReload": "/bin/kill -HUP $MAINPID",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        # Without AF_NETLINK libzmq aborts when it binds a tcp:// endpoint
        # (getifaddrs): every service died at its start under the units
        # until they were run under systemd (tools/check-systemd.py).
        "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6 AF_NETLINK",
    },
    "Install": {"WantedBy": "multi-user.target"},
}


def install_dir(svc):
    """bin or sbin: where services/<svc>/CMakeLists.txt installs it."""
    path = os.path.join(ROOT, "services", svc, "CMakeLists.txt")
    if not os.path.exists(path):
        return None
    m = re.search(r"install\(TARGETS\s+jobmatch-%s\s+RUNTIME\s+DESTINATION\s+"
                  r"\$\{CMAKE_INSTALL_(S?BIN)DIR\}" % svc, read(path))
    return m.group(1).lower() if m else None


def installs_config(svc):
    """Does services/<svc>/CMakeLists.txt install deploy/config/<svc>.conf
    into SYSCONFDIR/jobmatch?"""
    path = os.path.join(ROOT, "services", svc, "CMakeLists.txt")
    if not os.path.exists(path):
        return False
    return re.search(r"install\(FILES\s+\$\{PROJECT_SOURCE_DIR\}/deploy/config/"
                     r"%s\.conf\s+DESTINATION\s+\$\{CMAKE_INSTALL_SYSCONFDIR\}"
                     r"/jobmatch\)" % svc, read(path)) is not None


def check_units():
    for svc in SERVICES:
        path = "deploy/systemd/jobmatch-%s.service" % svc
        unit = configparser.ConfigParser(strict=True, interpolation=None)
        unit.optionxform = str  # keys are case-sensitive
        try:
            unit.read_string(read(path))
        except (OSError, configparser.Error) as e:
            problem("%s: %s" % (path, e))
            continue
        for section, keys in REQUIRED.items():
            for key, want in keys.items():
                got = unit.get(section, key, fallback=None)
                if got != want:
                    problem("%s: [%s] %s=%s, want %s" % (path, section, key,
                                                         got, want))
        # profiles' access lines must all reach the journal (operations.md,
        # "Access to personal data").
        if svc == "profiles" and unit.get("Service", "LogRateLimitIntervalSec",
                                          fallback=None) != "0":
            problem("%s: LogRateLimitIntervalSec=0 missing: journald would "
                    "drop access lines during a bulk import" % path)
        state = unit.get("Service", "StateDirectory", fallback=None)
        if state != "jobmatch/%s" % svc:
            problem("%s: StateDirectory=%s" % (path, state))
        # The unit reads /etc/jobmatch/<svc>.conf: `cmake --install` must
        # put the sample there, or the unit fails at its first start.
        if not installs_config(svc):
            problem("services/%s/CMakeLists.txt: does not install "
                    "deploy/config/%s.conf, which %s reads" % (svc, svc, path))
        where = install_dir(svc) or "sbin"
        want = "/usr/%s/jobmatch-%s -c /etc/jobmatch/%s.conf" % (where, svc,
                                                                 svc)
        if unit.get("Service", "ExecStart", fallback=None) != want:
            problem("%s: ExecStart=%s, want %s (cmake installs it to %s)" %
                    (path, unit.get("Service", "ExecStart", fallback=None),
                     want, where))
    check_metrics_units()
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        skipped.append("systemd-analyze verify (systemd-analyze not installed)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        units = []
        for name in ["jobmatch-%s.service" % svc for svc in SERVICES] + \
                ["jobmatch-metrics.service", "jobmatch-metrics.timer"]:
            text = re.sub(r"^ExecStart=\S+", "ExecStart=/bin/true",
                          read("deploy/systemd/" + name), flags=re.M)
            units.append(os.path.join(tmp, name))
            with open(units[-1], "w") as f:
                f.write(text)
        r = subprocess.run([analyze, "verify"] + units, capture_output=True,
                           text=True)
        if r.returncode != 0 or r.stderr.strip():
            problem("systemd-analyze verify: %s" % (r.stderr.strip() or
                                                    r.returncode))


def unit_of(path):
    unit = configparser.ConfigParser(strict=True, interpolation=None)
    unit.optionxform = str
    unit.read_string(read(path))
    return unit


def check_metrics_units():
    """jobmatch-metrics.service writes `jobmatch metrics` into its own state
    directory as the jobmatch user, with the services' hardening; the
    timer starts it again and again (operations.md, "Metrics")."""
    path = "deploy/systemd/jobmatch-metrics.service"
    try:
        unit = unit_of(path)
        timer = unit_of("deploy/systemd/jobmatch-metrics.timer")
    except (OSError, configparser.Error) as e:
        problem("metrics units: %s" % e)
        return
    want = dict(REQUIRED["Service"], Type="oneshot")
    del want["Restart"], want["ExecReload"]
    for key, value in want.items():
        got = unit.get("Service", key, fallback=None)
        if got != value:
            problem("%s: [Service] %s=%s, want %s" % (path, key, got, value))
    m = re.search(r"install\(TARGETS\s+jobmatch\s+RUNTIME\s+DESTINATION\s+"
                  r"\$\{CMAKE_INSTALL_(S?BIN)DIR\}",
                  read("services/cli/CMakeLists.txt"))
    where = m.group(1).lower() if m else "bin"
    state = unit.get("Service", "StateDirectory", fallback="")
    start = unit.get("Service", "ExecStart", fallback="")
    if not start.startswith("/usr/%s/jobmatch " % where):
        problem("%s: ExecStart=%s, not /usr/%s/jobmatch" % (path, start, where))
    if not re.search(r" metrics --out %%S/%s/[^ /]+\.prom$" % re.escape(state),
                     start):
        problem("%s: ExecStart does not write a .prom file in its "
                "StateDirectory (%s): %s" % (path, state, start))
    if unit.get("Service", "StateDirectoryMode", fallback="") != "0755":
        problem("%s: node_exporter's user cannot read %s" % (path, state))
    if timer.get("Install", "WantedBy", fallback=None) != "timers.target" or \
            not timer.get("Timer", "OnUnitActiveSec", fallback=None):
        problem("deploy/systemd/jobmatch-metrics.timer: not a repeating "
                "timer wanted by timers.target")


# ---- Dockerfile ----

def dockerfile_stages():
    """[(base image, text of the stage)]"""
    stages, current = [], None
    for line in read("deploy/docker/Dockerfile").splitlines():
        m = re.match(r"FROM\s+(\S+)", line)
        if m:
            current = [m.group(1), ""]
            stages.append(current)
        elif current is not None:
            current[1] += line + "\n"
    return stages


def apt_packages(stage_text):
    joined = stage_text.replace("\\\n", " ")
    pkgs = set()
    for m in re.finditer(r"apt-get install ([^&\n]*)", joined):
        pkgs |= {w for w in m.group(1).split() if not w.startswith("-")}
    return pkgs


def package_of(path):
    """The Debian package that owns a library path (merged /usr aware)."""
    real = os.path.realpath(path)
    candidates = {path, real}
    for p in list(candidates):
        if p.startswith("/usr/lib/"):
            candidates.add(p[4:])
        elif p.startswith("/lib/"):
            candidates.add("/usr" + p)
    for p in candidates:
        r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0]
    return None


def linked_packages(programs):
    pkgs = set()
    for prog in programs:
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]",
                            subprocess.run(["readelf", "-d", prog],
                                           capture_output=True,
                                           text=True).stdout)
        paths = {}
        for line in subprocess.run(["ldd", prog], capture_output=True,
                                   text=True).stdout.splitlines():
            m = re.match(r"\s*(\S+) => (\S+)", line)
            if m:
                paths[m.group(1)] = m.group(2)
        for soname in needed:
            if soname not in paths:
                problem("%s: %s not found by ldd" % (prog, soname))
                continue
            pkg = package_of(paths[soname])
            if pkg is None:
                problem("%s: no package owns %s" % (prog, paths[soname]))
            else:
                pkgs.add(pkg)
    return pkgs


# In debian:12-slim already; sanitizer runtimes only in Debug builds.
BASE = {"libc6", "libgcc-s1"}
SANITIZERS = {"libasan8", "libubsan1", "liblsan0", "libtsan2"}


def check_dockerfile(programs):
    stages = dockerfile_stages()
    if len(stages) != 2 or not stages[0][0].startswith("debian:12") or \
            not stages[1][0].startswith("debian:12"):
        problem("Dockerfile: want two stages FROM debian:12, got %s" %
                [s[0] for s in stages])
        return
    if "tools/deps.sh" not in stages[0][1]:
        problem("Dockerfile: the build stage does not use tools/deps.sh")
    runtime = apt_packages(stages[1][1])
    if "lmdb-utils" not in runtime:
        problem("Dockerfile: lmdb-utils (mdb_copy, for backups) missing")
    runtime.discard("lmdb-utils")
    if not programs:
        skipped.append("Dockerfile runtime packages vs linked libraries "
                       "(no --programs given)")
        return
    if shutil.which("dpkg") is None or shutil.which("readelf") is None:
        skipped.append("Dockerfile runtime packages (no dpkg or readelf)")
        return
    linked = linked_packages(programs) - BASE - SANITIZERS
    if linked != runtime:
        problem("Dockerfile runtime packages %s != packages of the linked "
                "libraries %s (missing %s, extra %s)" %
                (sorted(runtime), sorted(linked), sorted(linked - runtime),
                 sorted(runtime - linked)))


# ---- entrypoint and compose ----

def check_entrypoint():
    path = os.path.join(ROOT, "deploy/docker/docker-entrypoint.sh")
    r = subprocess.run(["sh", "-n", path], capture_output=True, text=True)
    if r.returncode != 0:
        problem("docker-entrypoint.sh: %s" % r.stderr.strip())
    if not os.access(path, os.X_OK):
        problem("docker-entrypoint.sh is not executable")
    if "intake|profiles|matcher)" not in read(
            "deploy/docker/docker-entrypoint.sh"):
        problem("docker-entrypoint.sh does not dispatch the three services")


def mounted_configs(svc):
    """{container path: host path} of the config files a service mounts."""
    out = {}
    for vol in svc.get("volumes", []):
        parts = vol.split(":") if isinstance(vol, str) else []
        if len(parts) >= 2 and parts[0].startswith(".") and \
                parts[1].startswith("/etc/jobmatch/"):
            out[parts[1]] = os.path.normpath(os.path.join(
                ROOT, "deploy/docker", parts[0]))
    return out


def check_config_with_program(path, role, programs, extra=()):
    """Runs `jobmatch-<role> -c path [extra...] -t`: the service's own
    table parses it and the options (unknown keys, bad values and bounds
    are errors)."""
    prog = next((p for p in programs
                 if os.path.basename(p) == "jobmatch-%s" % role), None)
    if prog is None:
        skipped.append("%s with jobmatch-%s -t (program not given)" %
                       (os.path.relpath(path, ROOT), role))
        return
    r = subprocess.run([prog, "-c", path] + list(extra) + ["-t"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        problem("%s: jobmatch-%s -t says: %s" % (os.path.relpath(path, ROOT),
                                                 role, r.stderr.strip()))


def check_compose(programs):
    try:
        import yaml
    except ImportError:
        skipped.append("compose.yaml (python3-yaml not installed)")
        return
    try:
        doc = yaml.safe_load(read("deploy/docker/compose.yaml"))
    except (OSError, yaml.YAMLError) as e:
        problem("compose.yaml: %s" % e)
        return
    # Debian 12's docker-compose (1.29) refuses any other top-level key
    # (`name:` among them); Compose v2 takes these too.
    known = {"version", "services", "volumes", "networks", "secrets",
             "configs"}
    for key in doc:
        if key not in known and not str(key).startswith("x-"):
            problem("compose.yaml: top-level key %r: Debian 12's "
                    "docker-compose 1.29 refuses it" % key)
    services = doc.get("services", {})
    roles = {}
    for name, svc in services.items():
        cmd = svc.get("command", [])
        role = cmd[0] if cmd else None
        roles.setdefault(role, []).append(name)
        build = svc.get("build") or {}
        if svc.get("image") is None and build.get("dockerfile") is None:
            problem("compose.yaml: %s has neither image nor build" % name)
        for vol in svc.get("volumes", []):
            src = vol.split(":")[0] if isinstance(vol, str) else None
            if src and src.startswith("."):
                path = os.path.normpath(os.path.join(ROOT, "deploy/docker",
                                                     src))
                if not os.path.exists(path):
                    problem("compose.yaml: %s mounts %s, which does not "
                            "exist" % (name, src))
    if len(roles.get("intake", [])) != 2 or len(roles.get("profiles", [])) != 2:
        problem("compose.yaml: want two intake and two profiles, got %s" %
                roles)
    if len(roles.get("matcher", [])) != 1:
        problem("compose.yaml: want one matcher, got %s" % roles)
        return
    for role in SERVICES:
        for name in roles.get(role, []):
            for path in mounted_configs(services[name]).values():
                if os.path.exists(path):
                    check_config_with_program(path, role, programs)
    matcher = services[roles["matcher"][0]]
    sources = []
    for path in mounted_configs(matcher).values():
        if os.path.exists(path):
            with open(path) as f:
                sources += [l.split()[1] for l in f
                            if l.split()[:1] == ["source"] and
                            len(l.split()) > 1]
    # What the host's jobmatch CLI connects to: the matcher's api, and its
    # publish socket (matcher watch), each published on the same port.
    published = {str(p).rsplit(":", 1)[-1] for p in matcher.get("ports", [])}
    for path in mounted_configs(matcher).values():
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for l in f:
                w = l.split()
                if len(w) == 2 and w[0] in ("api", "publish") and \
                        w[1].startswith("tcp://"):
                    port = w[1].rsplit(":", 1)[-1]
                    if port not in published:
                        problem("compose.yaml: the matcher's %s port %s is "
                                "not published" % (w[0], port))
    for name in roles["intake"] + roles["profiles"]:
        if not any(src.startswith("tcp://%s:" % name) for src in sources):
            problem("compose.yaml: the matcher does not follow %s (its "
                    "sources: %s)" % (name, sources))


CURVE_DIR = "/etc/jobmatch/curve"


def option_values(cmd, option):
    return [cmd[i + 1] for i, w in enumerate(cmd[:-1]) if w == option]


def check_compose_curve(programs):
    try:
        import yaml
    except ImportError:
        skipped.append("compose.curve.yaml (python3-yaml not installed)")
        return
    name = "compose.curve.yaml"
    try:
        base = yaml.safe_load(read("deploy/docker/compose.yaml"))["services"]
        doc = yaml.safe_load(read("deploy/docker/" + name))
    except (OSError, KeyError, TypeError, yaml.YAMLError) as e:
        problem("%s: %s" % (name, e))
        return
    services = doc.get("services", {})
    declared = set(doc.get("volumes") or {})
    keys = services.get("keys")
    if keys is None:
        problem("%s: no keys service" % name)
        return
    if keys.get("profiles") is None:
        problem("%s: the keys service has no profile: `up` would run it" %
                name)
    if keys.get("entrypoint") != ["jobmatch-compose-keys"] or \
            "deploy/docker/compose-keys.sh /usr/local/bin/" \
            "jobmatch-compose-keys" not in read("deploy/docker/Dockerfile"):
        problem("%s: the keys service does not run the jobmatch-compose-keys "
                "the Dockerfile installs" % name)
    script = os.path.join(ROOT, "deploy/docker/compose-keys.sh")
    r = subprocess.run(["sh", "-n", script], capture_output=True, text=True)
    if r.returncode != 0 or not os.access(script, os.X_OK):
        problem("compose-keys.sh: not executable, or %s" % r.stderr.strip())
    keys_mounts = dict(reversed(v.split(":")[:2])
                       for v in keys.get("volumes", []))
    if set(services) - {"keys"} != set(base):
        problem("%s: services %s, compose.yaml's are %s" % (
            name, sorted(set(services) - {"keys"}), sorted(base)))
    for svc_name in base:
        svc = services.get(svc_name) or {}
        cmd = [str(w) for w in svc.get("command", [])]
        role = cmd[0] if cmd else None
        base_cmd = base[svc_name].get("command") or [None]
        if role != base_cmd[0]:
            problem("%s: %s runs %s, compose.yaml says %s" % (
                name, svc_name, role, base_cmd[0]))
            continue
        volume = "curve-" + svc_name
        mounts = [v for v in svc.get("volumes", [])
                  if v.split(":")[0] == volume]
        if mounts != ["%s:%s:ro" % (volume, CURVE_DIR)] or \
                volume not in declared:
            problem("%s: %s does not mount its own key volume %s read-only "
                    "at %s" % (name, svc_name, volume, CURVE_DIR))
        if keys_mounts.get("/keys/" + svc_name) != volume:
            problem("%s: the keys service does not mount %s at /keys/%s" %
                    (name, volume, svc_name))
        if option_values(cmd, "--key-file") != [CURVE_DIR + "/self.key"] or \
                option_values(cmd, "--allow-file") != [CURVE_DIR + "/allow"]:
            problem("%s: %s does not use its own pair and allow list" %
                    (name, svc_name))
        test = [str(w) for w in (svc.get("healthcheck") or {}).get("test", [])]
        if option_values(test, "--key") != [CURVE_DIR + "/monitor.key"] or \
                option_values(test, "--%s-key" % role) != \
                [CURVE_DIR + "/self.pub"] or test[-2:] != ["ping", role]:
            problem("%s: %s's health check does not ping %s with the monitor "
                    "key: %s" % (name, svc_name, role, test))
        for path in mounted_configs(base[svc_name]).values():
            if role == "matcher" and os.path.exists(path):
                with open(path) as f:
                    sources = [l.split()[1] for l in f
                               if l.split()[:1] == ["source"]]
                want = ["%s/%s.pub" % (CURVE_DIR, re.sub(
                    r"^tcp://([^:]+):.*", r"\1", src)) for src in sources]
                if option_values(cmd, "--source-key") != want:
                    problem("%s: the matcher's source keys %s, its sources "
                            "want %s" % (name, option_values(
                                cmd, "--source-key"), want))
            check_config_with_program(path, role, programs, cmd[1:])


# ---- Prometheus ----

def check_alerts():
    """deploy/prometheus: the rules load (promtool check rules) and fire as
    their test cases say (promtool test rules); skipped without promtool
    (Debian's prometheus package)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        skipped.append("deploy/prometheus with promtool (not installed)")
        return
    for argv in (["check", "rules", "jobmatch-alerts.yml"],
                 ["test", "rules", "jobmatch-alerts.test.yml"]):
        r = subprocess.run([promtool] + argv, capture_output=True, text=True,
                           cwd=os.path.join(ROOT, "deploy/prometheus"))
        if r.returncode != 0:
            problem("promtool %s: %s" % (" ".join(argv),
                                         (r.stdout + r.stderr).strip()))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--programs", nargs="*", default=[])
    args = p.parse_args()
    check_units()
    check_alerts()
    check_dockerfile(args.programs)
    check_entrypoint()
    check_compose(args.programs)
    check_compose_curve(args.programs)
    for s in skipped:
        print("skipped: %s" % s)
    for pr in problems:
        print("PROBLEM: %s" % pr)
    print("deploy files: %d problem(s), %d check(s) skipped" %
          (len(problems), len(skipped)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
