#!/usr/bin/env python3
"""Vault client benchmarks: a 10,000-secret tree, and `get` beside `node -e 0`.

    python3 bench/bench_vault.py [--secrets N] [--latency-ms MS] [--parallel P]
                                 [--tree-runs N] [--get-runs N] [--tool PATH] [--bin PATH]

1. Tree: build/tools/vault_tool lists and reads a generated KV v2 tree of
   N secrets (10 folders x 10 folders x N/100 secrets) from the Vault
   emulator through the fault proxy, which adds MS of latency to every
   request. Printed: wall time, requests, the lower bound
   ceil(requests / P) x MS and the ratio to it (target within 1.5x), peak
   RSS, and the CPU the emulator and the proxy used. Both are Python
   (ThreadingHTTPServer, one process each, the emulator behind one lock): if
   either is near one core busy for the whole run, it and not the client is
   the bottleneck; the same tree with no injected latency measures how fast
   they can answer at all, which gives a second bound, requests / that rate.
2. get: `secretsync get` of 20 secrets on 20 paths with AppRole (login,
   mount info, 20 reads, revoke), whole process, straight to the emulator,
   the median of --get-runs runs, beside `node -e 0` measured in the same
   run, interleaved. Target: under 0.3x.

Figures are printed, never asserted. Peak RSS comes from wait4's ru_maxrss
measured by a tiny C launcher (built with cc into a temp directory): a child
forked from Python would report Python's own RSS, which the kernel carries
over at exec; without a compiler, os.wait4 is used and RSS is flagged as an
upper bound.

The fixture is generated on the fly; the emulators are started here (not with
world.py) so their process ids are known for the CPU figures. The emulator's
listen backlog is raised to 128 by the launcher line below, as the proxy's
is: Python's default of 5 drops SYNs when 16 connections open at once, and
each drop costs a 1 s retransmission.
"""
import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EMULATORS = os.path.join(ROOT, "tests", "emulators")
CLK_TCK = os.sysconf("SC_CLK_TCK")

LAUNCHER_C = r"""
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	struct timespec a, b;
	struct rusage ru;
	int st, fd;
	pid_t pid;

	if (argc < 3)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &a);
	pid = fork();
	if (pid == 0) {
		fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 2);
		execv(argv[2], argv + 2);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &st, 0, &ru) < 0)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.6f %ld %d %.6f\n", (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9,
	       ru.ru_maxrss, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
	       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	return 0;
}
"""

# Runs the Vault emulator with a listen backlog like the proxy's.
VAULT_LAUNCH = ("import sys; sys.path.insert(0, sys.argv.pop(1)); import vault; "
                "vault.Server.request_queue_size = max(128, vault.Server.request_queue_size); "
                "sys.exit(vault.main(sys.argv[1:]))")


class Launcher:
    """Runs a command and reports (wall seconds, peak RSS KiB, exit code, stdout);
    self.cpu is the CPU seconds (user + system) of the last run."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.path = None
        cc = shutil.which("cc") or shutil.which("gcc")
        if cc:
            src = os.path.join(tmp, "launch.c")
            with open(src, "w") as f:
                f.write(LAUNCHER_C)
            exe = os.path.join(tmp, "launch")
            if subprocess.run([cc, "-O2", "-o", exe, src], capture_output=True).returncode == 0:
                self.path = exe
        self.exact_rss = self.path is not None
        self.cpu = 0.0

    def run(self, argv, env):
        out = os.path.join(self.tmp, "stdout")
        argv = list(argv)
        argv[0] = shutil.which(argv[0]) or argv[0]
        if self.path:
            p = subprocess.run([self.path, out] + argv, env=env, capture_output=True, text=True)
            wall, rss, rc, cpu = p.stdout.split()
            self.cpu = float(cpu)
            with open(out) as f:
                return float(wall), int(rss), int(rc), f.read()
        t0 = time.monotonic()
        with open(out, "w") as fo:
            proc = subprocess.Popen(argv, env=env, stdout=fo, stderr=subprocess.DEVNULL)
            _, status, ru = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t0
        self.cpu = ru.ru_utime + ru.ru_stime
        with open(out) as f:
            return wall, ru.ru_maxrss, os.waitstatus_to_exitcode(status), f.read()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def http_json(url, body=None, method=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method or ("POST" if data else "GET"),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def make_fixture(path, n):
    per = max(1, n // 100)
    secrets = {}
    for a in range(10):
        for b in range(10):
            for c in range(per):
                secrets[f"f{a}/g{b}/s{c:04d}"] = {
                    "user": f"user-{a}{b}{c}", "password": f"bench-pw-{a:02d}{b:02d}{c:05d}",
                    "port": 5432, "tags": ["x", "y"]}
    for i in range(1, 21):
        secrets[f"get/p{i:02d}/secret"] = {"value": f"get-value-{i:02d}-ab12"}
    fx = {"vault": {
        "root_token": "bench-root-token",
        "mounts": {"kv": {"type": "kv", "version": 2, "secrets": secrets}},
        "policies": {"reader": [{"path": "kv/data/*", "capabilities": ["read"]},
                                {"path": "kv/metadata/*", "capabilities": ["list"]}]},
        "approle": {"roles": {"bench": {"role_id": "bench-role-id", "secret_id": "bench-secret-id",
                                        "policies": ["reader"], "token_ttl": 600}}},
    }}
    with open(path, "w") as f:
        json.dump(fx, f)
    return len(secrets) - 20, 1 + 10 + 100


class Child:
    def __init__(self, argv, tmp, name):
        self.err = open(os.path.join(tmp, name + ".stderr"), "wb")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.err,
                                     start_new_session=True)
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("READY"):
            raise SystemExit(f"{name} did not start: {line!r}")
        self.ready = line[5:].strip()
        self.pid = self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser(description="Vault client benchmarks")
    ap.add_argument("--secrets", type=int, default=10000)
    ap.add_argument("--latency-ms", type=float, default=10.0)
    ap.add_argument("--parallel", type=int, default=16)
    ap.add_argument("--tree-runs", type=int, default=2)
    ap.add_argument("--get-runs", type=int, default=25)
    ap.add_argument("--tool", default=os.path.join(ROOT, "build", "tools", "vault_tool"))
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "secretsync"))
    ap.add_argument("--bin-static", default=os.path.join(ROOT, "build", "secretsync-static"),
                    help="also measured for get when it exists (make static)")
    args = ap.parse_args()
    for exe in (args.tool, args.bin):
        if not os.access(exe, os.X_OK):
            print(f"bench_vault: {exe} is not built (make all)")
            return 0

    tmp = tempfile.mkdtemp(prefix="bench-vault-")
    children = []
    try:
        fixture = os.path.join(tmp, "fixture.json")
        nsecrets, nfolders = make_fixture(fixture, args.secrets)
        vault = Child([sys.executable, "-c", VAULT_LAUNCH, EMULATORS, "--port", "0",
                       "--fixture", fixture], tmp, "vault")
        children.append(vault)
        vport = int(vault.ready)
        cfg = os.path.join(tmp, "proxy.json")
        with open(cfg, "w") as f:
            json.dump({"listen": "127.0.0.1", "control_port": 0,
                       "services": {"vault": {"upstream": f"http://127.0.0.1:{vport}"}}}, f)
        proxy = Child([sys.executable, os.path.join(EMULATORS, "proxy.py"), "--config", cfg],
                      tmp, "proxy")
        children.append(proxy)
        ready = json.loads(proxy.ready)
        control = f"http://127.0.0.1:{ready['control']}"
        proxied = f"http://127.0.0.1:{ready['services']['vault']}"
        direct = f"http://127.0.0.1:{vport}"
        launcher = Launcher(tmp)
        base_env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("VAULT_", "SECRETSYNC_", "GITHUB_", "ACTIONS_", "INPUT_"))}

        print(f"machine: {os.cpu_count()} CPUs; emulators: Python {sys.version.split()[0]}")
        print(f"rss: {'wait4 ru_maxrss via a C launcher' if launcher.exact_rss else 'os.wait4 from Python (an upper bound: includes Python at fork)'}")

        # -- 1. the tree ------------------------------------------------------
        tree_env = dict(base_env, VAULT_ADDR=proxied, VAULT_TOKEN="bench-root-token")
        tree_argv = [args.tool, "--out", os.path.join(tmp, "tree.json"), "--parallel",
                     str(args.parallel), "--max-secrets", str(nsecrets + 10), "tree", "kv"]
        for path in ("f0/",):  # warm-up: page caches, the emulator's first requests
            launcher.run(tree_argv + [path], tree_env)

        def tree_run(latency):
            http_json(control + "/latency", {"service": "vault", "ms": latency})
            http_json(control + "/log", method="DELETE")
            c0 = (cpu_seconds(vault.pid), cpu_seconds(proxy.pid))
            wall, rss, rc, out = launcher.run(tree_argv + ["f0/", "f1/", "f2/", "f3/", "f4/",
                                                           "f5/", "f6/", "f7/", "f8/", "f9/"],
                                              tree_env)
            c1 = (cpu_seconds(vault.pid), cpu_seconds(proxy.pid))
            counts = dict(line.split("=", 1) for line in out.split() if "=" in line)
            if rc != 0:
                raise SystemExit(f"vault_tool failed ({rc}): {out}")
            return wall, rss, counts, c1[0] - c0[0], c1[1] - c0[1]

        print(f"\n== tree: {nsecrets} secrets in {nfolders} folders, KV v2, through the proxy")
        results = []
        for i in range(args.tree_runs):
            wall, rss, counts, vcpu, pcpu = tree_run(args.latency_ms)
            reqs = int(counts["requests"])
            bound = math.ceil(reqs / args.parallel) * args.latency_ms / 1000.0
            results.append((wall, rss, reqs, bound, vcpu, pcpu, counts))
            print(f"run {i + 1}: {wall:.2f} s wall, {reqs} requests "
                  f"({counts['lists']} LIST, {counts['reads']} reads, {counts['secrets']} "
                  f"secrets), max in flight {counts['max_in_flight']}, retries "
                  f"{counts['retries']}, peak RSS {rss / 1024:.1f} MiB")
            print(f"       lower bound ceil({reqs}/{args.parallel}) x {args.latency_ms:g} ms = "
                  f"{bound:.2f} s; ratio {wall / bound:.2f}x (target <= 1.5x)")
            print(f"       CPU during the run: client {launcher.cpu:.2f} s, emulator {vcpu:.2f} s "
                  f"({100 * vcpu / wall:.0f}% of a core), proxy {pcpu:.2f} s "
                  f"({100 * pcpu / wall:.0f}%)")
        best = min(results)
        # how fast the Python emulators answer at all
        wall0, _, counts0, vcpu0, pcpu0 = tree_run(0)
        reqs0 = int(counts0["requests"])
        rate = reqs0 / wall0
        emu_bound = best[2] / rate
        print(f"no injected latency: {wall0:.2f} s for {reqs0} requests = {rate:.0f} requests/s "
              f"(client CPU {launcher.cpu:.2f} s, emulator {100 * vcpu0 / wall0:.0f}% of a core, "
              f"proxy {100 * pcpu0 / wall0:.0f}%)")
        lb = max(best[3], emu_bound)
        print(f"summary: best {best[0]:.2f} s; latency bound {best[3]:.2f} s ({best[0] / best[3]:.2f}x); "
              f"the whole chain with no latency takes {emu_bound:.2f} s; against the larger of "
              f"the two {best[0] / lb:.2f}x")
        if emu_bound > best[3]:
            print("note: the Python emulator + proxy cannot answer fast enough for the latency "
                  "bound to be reached here")
        print("(the emulator answers one request at a time behind its lock: 16 requests that "
              "arrive together leave it one after another, which is most of the gap)")
        http_json(control + "/latency", {"service": "vault", "ms": 0})

        # -- 2. get of 20 secrets beside node -e 0 ---------------------------
        get_env = dict(base_env, VAULT_ADDR=direct, VAULT_ROLE_ID="bench-role-id",
                       VAULT_SECRET_ID="bench-secret-id",
                       GITHUB_OUTPUT=os.path.join(tmp, "github_output"))
        specs = [f"vault:kv/get/p{i:02d}/secret#value=V{i:02d}" for i in range(1, 21)]
        node = shutil.which("node")
        static = args.bin_static if os.access(args.bin_static, os.X_OK) else None
        g, n, s, rss_g, rss_n, rss_s = [], [], [], [], [], []
        launcher.run([args.bin, "get"] + specs, get_env)  # warm-up
        emu_cpu = 0.0
        for _ in range(args.get_runs):
            c0 = cpu_seconds(vault.pid)
            open(get_env["GITHUB_OUTPUT"], "w").close()
            wall, rss, rc, _ = launcher.run([args.bin, "get"] + specs, get_env)
            if rc != 0:
                raise SystemExit(f"get failed with {rc}")
            g.append(wall)
            rss_g.append(rss)
            if static:
                wall, rss, rc, _ = launcher.run([static, "get"] + specs, get_env)
                if rc == 0:
                    s.append(wall)
                    rss_s.append(rss)
            emu_cpu += cpu_seconds(vault.pid) - c0
            if node:
                wall, rss, _, _ = launcher.run([node, "-e", "0"], base_env)
                n.append(wall)
                rss_n.append(rss)
        st = http_json(direct + "/_emu/state")
        print(f"\n== get: 20 secrets on 20 paths, AppRole, straight to the emulator "
              f"({args.get_runs} runs)")
        print(f"secretsync get: median {1000 * median(g):.1f} ms (min {1000 * min(g):.1f}, "
              f"max {1000 * max(g):.1f}), peak RSS {max(rss_g) / 1024:.1f} MiB; "
              f"login tokens left unrevoked: "
              f"{len([t for t in st['tokens'] if t['via'].startswith('auth/approle')])}")
        if s:
            print(f"static (musl, BearSSL; {os.path.relpath(static, ROOT)}, as last built): "
                  f"median {1000 * median(s):.1f} ms, peak RSS {max(rss_s) / 1024:.1f} MiB")
        if node:
            print(f"node -e 0:      median {1000 * median(n):.1f} ms (min {1000 * min(n):.1f}, "
                  f"max {1000 * max(n):.1f}), peak RSS {max(rss_n) / 1024:.1f} MiB")
            print(f"ratio get / node: {median(g) / median(n):.2f}x (target < 0.3x)"
                  + (f"; static: {median(s) / median(n):.2f}x" if s else ""))
        else:
            print("node is not installed: no ratio")
        print(f"the emulator's CPU per get: {1000 * emu_cpu / max(1, len(g) + len(s)):.1f} ms "
              f"({len(specs) + 3} requests, answered one at a time behind its lock)")
    finally:
        for c in reversed(children):
            c.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
