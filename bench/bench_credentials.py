#!/usr/bin/env python3
"""OIDC -> STS -> GetCallerIdentity -> GITHUB_ENV: `secretsync credentials`
from process start to exported credentials, against the test world.

    python3 bench/bench_credentials.py [--runs N] [--bin PATH]...

Each run is one whole process: wall time from fork to wait4, and the peak
RSS the kernel reports for it (wait4's ru_maxrss). A child forked from this
Python process would report Python's own RSS (the kernel records the old
address space's high-water mark at exec), so the fork/exec/wait4 is done by a
tiny static launcher (C source below, built with musl-gcc or cc into a temp
directory); without a compiler, os.wait4 from Python is used and the RSS
figures are flagged as an upper bound. The run is what a workflow step does: fetch the GitHub OIDC
token (the GitHub emulator), exchange it with AssumeRoleWithWebIdentity (the
proxy verifies the JWT and the trust policy, moto answers), confirm with
GetCallerIdentity, write GITHUB_ENV and GITHUB_OUTPUT. `node -e 0` is
measured the same way in the same run, as the floor of any JavaScript action
(aws-actions/configure-aws-credentials measures about 7x `node -e 0` and
69 MiB doing this job). The emulators are Python: the time they spend
answering (from the proxy's request log) is printed too, with the client's
own share of the wall time.

Targets, printed, never asserted: under 0.3x the wall time of `node -e 0`,
under 4 MiB peak RSS. Also printed: how many write/sendto calls the process
makes per HTTP request (strace, when installed): 1 means each request goes
out in one segment, so Nagle's algorithm cannot delay it (curl also sets
TCP_NODELAY), and the number of TCP connections it opens (keep-alive reuses
one per host).
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from world_fixture import World  # noqa: E402

TARGET_RATIO = 0.3
TARGET_RSS_MIB = 4.0

LAUNCHER = r"""
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	struct timespec a, b;
	struct rusage ru;
	int st;
	pid_t pid;

	if (argc < 2)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &a);
	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[1], argv + 1);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &st, 0, &ru) < 0)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.6f %ld %d\n", (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9,
	       ru.ru_maxrss, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}
"""
LAUNCH = None  # the built launcher, or None


def build_launcher(tmp):
    src = os.path.join(tmp, "launch.c")
    exe = os.path.join(tmp, "launch")
    with open(src, "w") as f:
        f.write(LAUNCHER)
    for cc in (["musl-gcc", "-static"], ["cc", "-static"], ["cc"]):
        if shutil.which(cc[0]) is None:
            continue
        p = subprocess.run(cc + ["-O2", "-o", exe, src], capture_output=True)
        if p.returncode == 0:
            return exe
    return None


def spawn_measure(argv, env):
    """(wall seconds, peak RSS KiB, exit status) of one process."""
    if LAUNCH is not None:
        p = subprocess.run([LAUNCH] + argv, env=env, capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit(f"launcher failed for {argv[0]}: {p.stderr}")
        wall, rss, rc = p.stdout.split()
        return float(wall), int(rss), int(rc)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        actions = [(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
        t0 = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, env, file_actions=actions)
        _, status, ru = os.wait4(pid, 0)
        wall = time.perf_counter() - t0
    finally:
        os.close(devnull)
    return wall, ru.ru_maxrss, os.waitstatus_to_exitcode(status)


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt_ms(s):
    return f"{s * 1000:7.2f} ms"


def measure_node(runs):
    node = shutil.which("node")
    if node is None:
        return None
    walls, rss = [], []
    spawn_measure([node, "-e", "0"], dict(os.environ))  # warm the page cache
    for _ in range(runs):
        w, r, rc = spawn_measure([node, "-e", "0"], dict(os.environ))
        if rc != 0:
            raise SystemExit(f"node -e 0 exited {rc}")
        walls.append(w)
        rss.append(r)
    return median(walls), median(rss), min(walls)


def step_env(world, tmp):
    env = world.binary_env(drop=("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"))
    env.update({"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "4242",
                "GITHUB_ENV": os.path.join(tmp, "env"),
                "GITHUB_OUTPUT": os.path.join(tmp, "out")})
    return env


def measure_bin(world, binary, runs, tmp):
    role = world.env["SECRETSYNC_TEST_WEB_IDENTITY_ROLE_ARN"]
    argv = [binary, "credentials", "--role-to-assume", role]
    env = step_env(world, tmp)

    def reset():
        for k in ("GITHUB_ENV", "GITHUB_OUTPUT"):
            open(env[k], "w").close()

    # one checked run first: it must really export credentials
    reset()
    w, r, rc = spawn_measure(argv, env)
    with open(env["GITHUB_ENV"]) as f:
        exported = f.read()
    if rc != 0 or "AWS_SESSION_TOKEN<<" not in exported:
        p = subprocess.run(argv, env=env, capture_output=True, text=True)
        raise SystemExit(f"{binary}: credentials failed ({rc}): {p.stderr[-2000:]}")
    walls, rss, server = [], [], []
    for _ in range(runs):
        reset()
        world.clear_log()
        w, r, rc = spawn_measure(argv, env)
        if rc != 0:
            raise SystemExit(f"{binary}: credentials exited {rc}")
        log = world.log()
        server.append(sum(e.get("duration_ms", 0) for e in log) / 1000.0)
        walls.append(w)
        rss.append(r)
    # the same binary doing no network at all: process start and exit
    vw = [spawn_measure([binary, "version"], env)[0] for _ in range(runs)]
    return {"wall": median(walls), "min": min(walls), "rss": median(rss),
            "rss_max": max(rss), "server": median(server), "version": median(vw),
            "requests": len(log)}


def strace_counts(world, binary, tmp):
    """Writes per request and connections opened, from one traced run."""
    strace = shutil.which("strace")
    if strace is None:
        return None
    role = world.env["SECRETSYNC_TEST_WEB_IDENTITY_ROLE_ARN"]
    env = step_env(world, tmp)
    for k in ("GITHUB_ENV", "GITHUB_OUTPUT"):
        open(env[k], "w").close()
    trace = os.path.join(tmp, "trace")
    world.clear_log()
    p = subprocess.run([strace, "-f", "-qq", "-e", "trace=connect,sendto,sendmsg,write,writev",
                        "-o", trace, binary, "credentials", "--role-to-assume", role],
                       env=env, capture_output=True, text=True)
    if p.returncode != 0:
        return None
    requests = len(world.log())
    connects = sends = 0
    with open(trace) as f:
        for line in f:
            if re.search(r"\bconnect\(\d+, \{sa_family=AF_INET", line):
                connects += 1
            # sends on sockets: the HTTP requests (stdout/file writes use fd 1
            # and the GITHUB_* files; count only sendto/sendmsg/writev and
            # writes whose data starts like an HTTP request)
            elif re.search(r"\b(sendto|sendmsg)\(", line) or \
                    re.search(r'\bwritev?\(\d+, (\[\{iov_base=)?"(GET|POST|PUT|HEAD) ', line):
                sends += 1
    return {"requests": requests, "sends": sends, "connects": connects}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=31)
    ap.add_argument("--bin", action="append",
                    help="binaries to measure (default build/secretsync and, if present, "
                         "build/secretsync-static)")
    args = ap.parse_args()
    bins = args.bin or [b for b in (os.path.join(ROOT, "build", "secretsync"),
                                    os.path.join(ROOT, "build", "secretsync-static"))
                        if os.access(b, os.X_OK)]
    if not bins:
        raise SystemExit("bench_credentials: build/secretsync is not built (make)")
    tmp = tempfile.mkdtemp(prefix="secretsync-bench-")
    global LAUNCH
    LAUNCH = build_launcher(tmp)
    try:
        with World("demo", services=("aws", "github")) as world:
            print(f"bench_credentials: {args.runs} runs each (medians), world ready in "
                  f"{world.startup_seconds:.2f} s, {os.cpu_count()} CPUs")
            if LAUNCH is None:
                print("  (no C compiler: processes are forked from Python, so peak RSS "
                      "includes Python's own: an upper bound)")
            node = measure_node(args.runs)
            if node:
                print(f"  node -e 0                      wall {fmt_ms(node[0])} "
                      f"(min {fmt_ms(node[2])})  peak RSS {node[1] / 1024:6.1f} MiB")
            else:
                print("  node: not installed; no ratio")
            for b in bins:
                m = measure_bin(world, b, args.runs, tmp)
                name = os.path.relpath(b, ROOT)
                print(f"  {name:<30} wall {fmt_ms(m['wall'])} (min {fmt_ms(m['min'])})  "
                      f"peak RSS {m['rss'] / 1024:6.2f} MiB (max {m['rss_max'] / 1024:.2f})")
                print(f"  {'':<30} {m['requests']} requests; the emulators answered in "
                      f"{fmt_ms(m['server'])}, the client's own share {fmt_ms(m['wall'] - m['server'])}; "
                      f"`version` (no network) {fmt_ms(m['version'])}")
                if node:
                    ratio = m["wall"] / node[0]
                    own = (m["wall"] - m["server"]) / node[0]
                    print(f"  {'':<30} {ratio:.2f}x node -e 0 (target < {TARGET_RATIO}x: "
                          f"{'met' if ratio < TARGET_RATIO else 'NOT met'}; without the "
                          f"emulators' time {own:.2f}x), peak RSS target < {TARGET_RSS_MIB} MiB: "
                          f"{'met' if m['rss'] / 1024 < TARGET_RSS_MIB else 'NOT met'}")
                s = strace_counts(world, b, tmp)
                if s:
                    print(f"  {'':<30} strace: {s['sends']} socket sends for {s['requests']} "
                          f"requests, {s['connects']} TCP connects")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
