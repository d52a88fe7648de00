#!/usr/bin/env python3
"""The pipeline at scale: 10,000 Vault secrets over 50 targets, against the
test world with injected latency on every service.

    python3 bench/bench_pipeline.py [--secrets N] [--targets N] [--accounts N]
        [--latency-ms MS] [--merge-store s3|vault|none] [--bin PATH] [--static PATH]
        [--keep-log DIR] [--default-backlog]

The fixture is generated on the fly (tests/emulators/fixtures/*.json shape):
- Vault: two KV v2 mounts (`kv`, `apps`) holding N secrets (default 10,000)
  in one folder per target slice, nested three folders deep below it
  (`team07/svc2/a1/b3/s4`); small JSON objects (user, password, port,
  flags); AppRole login with a policy for both mounts.
- AWS: the base user of the demo world (base-user.json) and --accounts
  (default 5) target accounts, each with a `secretsync` role
  (target-role.json, SECRET_PREFIX `bench/`) trusting the base user; the 50
  targets share them round robin with distinct secret_prefixes
  (`bench/tNN/`); an S3 merge store (bucket policy as merge-bucket.json),
  or with --merge-store vault a KV v2 mount `merged`, or none.
- Config: target i imports the source of slice i; every fifth target
  (i % 5 == 4) first imports target i-1 (inheritance: its bundle is the
  parent's plus its own slice); `${VAR}` expansion for the Vault address and
  AppRole credentials; sync parallel 16.

The proxy adds MS (default 20) of latency before every request of every
service (`POST /latency {"service": "*"}`). Runs of `secretsync pipeline`:
the first sync (every secret created), a re-run with nothing changed, and
the same re-run with build/secretsync-static when it exists (what the
container ships: musl, BearSSL, no shared libraries). For each: wall time,
peak RSS (wait4, via the C launcher of bench/common.py), the requests from
the proxy's request log (total, per service and operation), the lower bound
ceil(requests / parallel) x MS and the ratio to it (target: within 1.5x;
peak RSS target: under 64 MiB), the average number of requests in flight,
the CPU the emulators used, and a timeline of the phases taken from the
request log, with the emulators' CPU in each. Also an estimate of the wall
time had every answer taken exactly the injected latency at the same
concurrency: wall - (sum of request durations - requests x MS) / (average
requests in flight); it separates the binary's share from the emulators'.
The re-runs also print the Secrets Manager requests per target against the
bound "ListSecrets pages + ceil(secrets / 20) batch reads" and the number
of writes (must be 0).

The Vault emulator's listen backlog is raised from Python's 5 to 128 for the
run (a sitecustomize.py on PYTHONPATH; --default-backlog leaves it): with 5,
the proxy opening 16 upstream connections at once overflows the accept
queue and every dropped SYN costs a 1 s retransmission.

The emulators are Python: moto (one process, werkzeug threads), the Vault
emulator (one process, one lock) and the proxy (one process). When their CPU
is near one core each, or the machine's two cores are saturated, they are
the bottleneck, not the binary: the request durations in the log (minus the
injected latency) say how long they took to answer. Figures are printed,
never asserted.
"""
import argparse
import collections
import datetime
import json
import math
import os
import random
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))

import common  # noqa: E402
from world_fixture import World  # noqa: E402

PARALLEL = 16
BATCH = 20     # SecretIdList entries per BatchGetSecretValue
PAGE = 100     # MaxResults of a ListSecrets page
TARGET_RATIO = 1.5
TARGET_RSS_MIB = 64
ROLE_ID = "bench-role-id"
STORES = {"s3": "an S3 merge store", "vault": "a Vault merge store (KV v2 mount `merged`)",
          "none": "no merge store"}
SECRET_ID = "bench-secret-id"


# --- the world ----------------------------------------------------------------

def slice_paths(k, per_slice):
    """Secret paths (relative to the mount) of slice k: team/svc/aX/bY/sZ."""
    folder = f"team{k // 5:02d}/svc{k % 5}/"
    out = []
    for j in range(per_slice):
        a, rest = divmod(j, 50)
        b, c = divmod(rest, 10)
        out.append(f"{folder}a{a}/b{b}/s{c}")
    return folder, out


def gen_world(nsecrets, ntargets, naccounts, merge_store, rng):
    """(fixture dict, plan): plan = {targets: [{name, mount, folder, account,
    prefix, parent, own, total}], vault_secrets}."""
    per = [nsecrets // ntargets + (1 if k < nsecrets % ntargets else 0)
           for k in range(ntargets)]
    mounts = {"kv": {}, "apps": {}}
    targets = []
    for k in range(ntargets):
        mount = "kv" if k < ntargets // 2 else "apps"
        folder, paths = slice_paths(k, per[k])
        for j, p in enumerate(paths):
            mounts[mount][p] = {
                "username": f"svc{k}-{j}",
                "password": "".join(rng.choice("abcdefghijkmnpqrstuvwxyz23456789")
                                    for _ in range(24)),
                "port": 5000 + j,
                "flags": {"tls": bool(j % 2), "pool": j % 7},
            }
        parent = k - 1 if k % 5 == 4 else None
        own = per[k]
        total = own + (targets[parent]["total"] if parent is not None else 0)
        targets.append({"name": f"t{k:02d}", "mount": mount, "folder": folder,
                        "account": f"2100000000{k % naccounts:02d}",
                        "prefix": f"bench/t{k:02d}/", "parent": parent,
                        "own": own, "total": total})
    accounts = sorted({t["account"] for t in targets})
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": ["${BASE_USER_ARN}"]},
        "Action": "sts:AssumeRole"}]}
    bucket_policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyUnencryptedUploads", "Effect": "Deny", "Principal": "*",
         "Action": "s3:PutObject", "Resource": "arn:aws:s3:::${BUCKET}/*",
         "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}},
        {"Sid": "SecretSyncOnly", "Effect": "Allow",
         "Principal": {"AWS": ["${BASE_USER_ARN}"]},
         "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": "arn:aws:s3:::${BUCKET}/${MERGE_PREFIX}*"}]}
    aws = {
        "region": "us-east-1",
        "account_id": "123456789012",
        "vars": {"TARGET_ROLE_NAME": "secretsync", "SECRET_PREFIX": "",
                 "TOKEN_SECRET": "github/token", "BUCKET": "secretsync-bench",
                 "MERGE_PREFIX": "bundles/", "AUDIENCE": "sts.amazonaws.com"},
        "users": [{"name": "secretsync-ci", "policies": ["base-user.json"], "env": True}],
        "roles": [{"account_id": a, "name": "secretsync", "trust": trust,
                   "policies": ["target-role.json"], "vars": {"SECRET_PREFIX": "bench/"}}
                  for a in accounts],
        "buckets": ([{"name": "${BUCKET}", "policy": bucket_policy}]
                    if merge_store == "s3" else []),
        "secrets": [],
    }
    rules = []
    for m in mounts:
        rules.append({"path": f"{m}/data/*", "capabilities": ["read"]})
        rules.append({"path": f"{m}/metadata/*", "capabilities": ["list", "read"]})
    vmounts = {m: {"type": "kv", "version": 2, "secrets": s} for m, s in mounts.items()}
    if merge_store == "vault":
        vmounts["merged"] = {"type": "kv", "version": 2, "secrets": {}}
        rules.append({"path": "merged/data/*", "capabilities": ["create", "update", "read"]})
        rules.append({"path": "merged/metadata/*", "capabilities": ["list", "read"]})
    vault = {"root_token": "root-bench-token", "namespaces": {"": {
        "mounts": vmounts,
        "policies": {"secretsync": rules},
        "approle": {"mount": "approle", "roles": {"ci": {
            "role_id": ROLE_ID, "secret_id": SECRET_ID, "policies": ["secretsync"],
            "token_ttl": 3600}}},
    }}}
    fixture = {"world": {"export_vault_token": False, "export_github_token": False,
                         "iam_check": True,
                         "env": {"VAULT_ROLE_ID": ROLE_ID, "VAULT_SECRET_ID": SECRET_ID}},
               "aws": aws, "vault": vault}
    return fixture, {"targets": targets, "vault_secrets": sum(per), "accounts": accounts}


def gen_config(plan, merge_store):
    out = ["# Generated by bench/bench_pipeline.py",
           "vault:", "  address: ${VAULT_ADDR}", "  auth:", "    approle:",
           "      role_id: ${VAULT_ROLE_ID}", "      secret_id: ${VAULT_SECRET_ID}",
           "aws:", "  region: ${AWS_REGION:-us-east-1}",
           '  role_pattern: "arn:aws:iam::{account_id}:role/secretsync"',
           "sources:"]
    for i, t in enumerate(plan["targets"]):
        out += [f"  s{i:02d}:", "    vault:", f"      mount: {t['mount']}",
                f'      paths: ["{t["folder"]}"]']
        if i % 2 == 0:
            out.append("      kv_version: 2")  # the others detect it
    if merge_store == "s3":
        out += ["merge_store:", "  s3:", "    bucket: secretsync-bench", "    prefix: bundles/"]
    elif merge_store == "vault":
        out += ["merge_store:", "  vault:", "    mount: merged"]
    out.append("targets:")
    for i, t in enumerate(plan["targets"]):
        imports = ([plan["targets"][t["parent"]]["name"]] if t["parent"] is not None
                   else []) + [f"s{i:02d}"]
        out += [f"  {t['name']}:", f'    account_id: "{t["account"]}"',
                f"    imports: [{', '.join(imports)}]", f'    secret_prefix: "{t["prefix"]}"']
    out += ["pipeline:", "  merge: {parallel: 4}",
            f"  sync: {{parallel: {PARALLEL}, delete_orphans: false}}",
            "  continue_on_error: true"]
    return "\n".join(out) + "\n"


# Loaded by every Python process of the world (PYTHONPATH): the listen
# backlog of the stdlib servers (the Vault emulator) becomes the proxy's 128.
# With Python's default of 5, the proxy opening 16 upstream connections at
# once overflows the accept queue: the kernel drops the SYNs and each costs a
# 1 s retransmission, which would be measured as the binary's time.
SITECUSTOMIZE = """
import socketserver
socketserver.TCPServer.request_queue_size = max(128, socketserver.TCPServer.request_queue_size)
"""


def start_world(fixture_path, tmp, raise_backlog=True):
    hooks = os.path.join(tmp, "pyhooks")
    old = os.environ.get("PYTHONPATH")
    if raise_backlog:
        os.makedirs(hooks, exist_ok=True)
        with open(os.path.join(hooks, "sitecustomize.py"), "w", encoding="utf-8") as f:
            f.write(SITECUSTOMIZE)
        os.environ["PYTHONPATH"] = hooks + (os.pathsep + old if old else "")
    try:
        return World(fixture_path, services=("aws", "vault"), timeout=120).start()
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


# --- one run -----------------------------------------------------------------

def parse_ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def read_log(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    return out


def emulator_pids(world):
    pids = {}
    for p in common.descendants(world.proc.pid):
        c = common.cmdline(p)
        for name, marker in (("moto", "motoserver.py"), ("vault", "vault.py"),
                             ("proxy", "proxy.py")):
            if marker in c:
                pids[name] = p
    return pids


class RSSWatch:
    """Samples the resident set of the running binary (VmRSS) every 0.1 s,
    to see which phase holds the memory; the peak itself comes from wait4."""

    def __init__(self, binary):
        self.prefix = binary + " pipeline"
        self.samples = []  # (time.monotonic(), KiB)
        self._stop = threading.Event()
        self._th = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        pid = None
        me = os.getpid()
        while not self._stop.is_set():
            if pid is None:
                for p in common.descendants(me):
                    if common.cmdline(p).startswith(self.prefix):
                        pid = p
                        break
            if pid is not None:
                try:
                    with open(f"/proc/{pid}/status", encoding="ascii") as f:
                        for line in f:
                            if line.startswith("VmRSS:"):
                                self.samples.append((time.monotonic(), int(line.split()[1])))
                except (OSError, ValueError):
                    pass
            self._stop.wait(0.1)

    def start(self):
        self._th.start()
        return self

    def stop(self):
        self._stop.set()
        self._th.join()

    def peak(self, t0, t1):
        xs = [k for t, k in self.samples if t0 <= t <= t1]
        return max(xs) if xs else None


def run_once(world, lx, binary, cfg, tmp, label, timeout):
    """Run `secretsync pipeline` once; a dict of what happened."""
    world.clear_log()
    env = world.binary_env({"SECRETSYNC_CONFIG": cfg})
    out_path = os.path.join(tmp, f"{label}.json")
    err_path = os.path.join(tmp, f"{label}.stderr")
    lines = []  # (seconds since start, stderr line)
    r_fd, w_fd = os.pipe()
    t_wall0 = time.time()
    t_mono0 = time.monotonic()

    def reader():
        with os.fdopen(r_fd, "rb") as rf, open(err_path, "wb") as ef:
            for line in rf:
                lines.append((time.monotonic() - t_mono0, line.decode("utf-8", "replace")))
                ef.write(line)

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    sampler = common.CPUSampler(emulator_pids(world)).start()
    rss = RSSWatch(binary).start()
    with open(out_path, "wb") as out:
        m = lx.run([binary, "pipeline", "--output", "json"], env=env, stdout=out,
                   stderr=w_fd, timeout=timeout)
    rss.stop()
    sampler.stop()
    os.close(w_fd)
    th.join(timeout=10)
    time.sleep(0.3)  # the proxy appends its last lines after answering
    log = read_log(world.env["SECRETSYNC_TEST_REQUEST_LOG"])
    report = None
    try:
        with open(out_path, encoding="utf-8") as f:
            report = json.load(f)
    except (OSError, ValueError):
        pass
    return {"label": label, "m": m, "log": log, "t0": t_wall0, "stderr": lines,
            "report": report, "sampler": sampler, "mono0": t_mono0, "rss": rss}


# --- analysis -------------------------------------------------------------------

def op_class(e):
    """A phase name for a logged request."""
    svc, op = e.get("service"), e.get("operation") or ""
    if svc == "vault":
        if "/login" in op:
            return "vault login"
        if "revoke-self" in op:
            return "vault revoke"
        if "sys/internal/ui/mounts" in op or "sys/mounts" in op:
            return "vault mount info"
        if op.startswith("LIST"):
            return "vault LIST"
        return "vault GET"
    if svc == "sts":
        return "sts " + op
    if svc == "s3":
        return "s3 " + op
    if svc == "secretsmanager":
        if op in ("ListSecrets",):
            return "sm ListSecrets"
        if op in ("BatchGetSecretValue", "GetSecretValue", "DescribeSecret"):
            return "sm reads"
        return "sm writes"
    return f"{svc} {op}"


def vault_op_name(op):
    """`GET /v1/kv/data/team00/svc0/a0/b0/s0` -> `GET kv/data/...` (group by route)."""
    parts = op.split(" ", 1)
    if len(parts) != 2:
        return op
    method, path = parts
    path = path[len("/v1/"):] if path.startswith("/v1/") else path
    segs = path.split("/")
    if segs[:3] == ["sys", "internal", "ui"]:
        return f"{method} sys/internal/ui/mounts/*"
    if segs[0] == "auth":
        return f"{method} {path}"
    if len(segs) >= 2 and segs[1] in ("data", "metadata"):
        return f"{method} {segs[0]}/{segs[1]}/*"
    return f"{method} {path}"


def analyze(res, latency_ms, parallel, plan, rerun):
    m, log, t0 = res["m"], res["log"], res["t0"]
    wall = m.wall
    n = len(log)
    print(f"  exit {m.code}; wall {wall:.2f} s; peak RSS {common.mib(m.maxrss_kib)} "
          f"(target under {TARGET_RSS_MIB} MiB: "
          f"{'met' if m.maxrss_kib < TARGET_RSS_MIB * 1024 else 'NOT met'}); "
          f"CPU user {m.user:.2f} s + sys {m.sys:.2f} s")
    rep = res["report"]
    if rep:
        c = rep.get("counts", {})
        print(f"  plan: create {c.get('create')}, update {c.get('update')}, "
              f"delete {c.get('delete')}, unchanged {c.get('unchanged')}, "
              f"failed {c.get('failed')}")
        bad = [t for t in rep.get("targets", []) if t.get("status") != "ok"]
        for t in bad[:5]:
            print(f"  target {t.get('name')}: {t.get('status')}: {t.get('error')}")
    else:
        print("  no JSON report on stdout")
    errs = [l for _, l in res["stderr"] if ": error:" in l or ": warning:" in l]
    for l in errs[:5]:
        print("  stderr: " + l.rstrip()[:200])

    bound = common.ceil_div(n, parallel) * latency_ms / 1000.0
    print(f"  requests: {n}; lower bound ceil({n} / {parallel}) x {latency_ms} ms = "
          f"{bound:.2f} s; ratio {wall / bound:.2f}x (target within {TARGET_RATIO}x: "
          f"{'met' if wall <= TARGET_RATIO * bound else 'NOT met'})")
    if n == 0:
        return
    busy = sum(e.get("duration_ms") or 0 for e in log) / 1000.0
    service_time = sum(max(0.0, (e.get("duration_ms") or 0) - latency_ms) for e in log) / 1000
    print(f"  average requests in flight: {busy / wall:.1f} of {parallel} "
          f"(sum of proxy durations {busy:.1f} s / wall); time the emulators took to "
          f"answer beyond the injected latency: {service_time / n * 1000:.1f} ms per "
          f"request on average")
    excess = busy - n * latency_ms / 1000.0
    if excess > 0 and busy > 0:
        est = wall - excess / (busy / wall)
        print(f"  estimate if every answer took exactly the injected {latency_ms} ms (the same "
              f"concurrency): {est:.2f} s, ratio {est / bound:.2f}x; the emulators' extra "
              f"answer time accounts for the other {wall - est:.2f} s")
    slow = [e for e in log if (e.get("duration_ms") or 0) > 1000]
    if slow:
        kinds = collections.Counter(f"{e.get('service')} {op_class(e)}" for e in slow)
        print(f"  {len(slow)} requests took over 1 s in the proxy (a dropped SYN costs 1 s): " +
              ", ".join(f"{k} x{v}" for k, v in kinds.most_common(5)))
    failed = [e for e in log if (e.get("status") or 0) >= 400 or e.get("status") is None]
    if failed:
        kinds = collections.Counter(f"{e.get('service')} {e.get('operation')} "
                                    f"{e.get('status')}" for e in failed)
        print("  non-2xx answers: " + ", ".join(f"{k} x{v}" for k, v in kinds.most_common(6)))

    by = collections.Counter()
    for e in log:
        op = e.get("operation") or e.get("path")
        if e.get("service") == "vault":
            op = vault_op_name(op)
        by[(e.get("service"), op)] += 1
    per_svc = collections.Counter(e.get("service") for e in log)
    print("  per service: " + ", ".join(f"{s} {c}" for s, c in per_svc.most_common()))
    for (s, op), c in sorted(by.items(), key=lambda kv: (kv[0][0], -kv[1])):
        print(f"    {s:<15} {op:<44} {c:>6}")

    # Timeline of the phases, from the request log (times since the process start).
    print("  phases (from the request log; seconds since the process started):")
    print("    (in flight: average requests in the proxy; bound: ceil(requests / "
          f"{parallel}) x {latency_ms} ms; answer: mean time the emulator took beyond the "
          "injected latency; CPU: cores busy on average, the emulators' and the whole "
          "machine's share of its cores; RSS: the binary's largest VmRSS sampled every "
          "0.1 s until the phase ended)")
    print(f"    {'phase':<18} {'requests':>8} {'first':>6} {'last end':>8} {'span':>6} "
          f"{'bound':>6} {'in flight':>9} {'answer':>7} {'moto':>5} {'proxy':>5} {'vault':>5} "
          f"{'machine':>7} {'RSS':>8}")
    phases = collections.OrderedDict()
    for e in sorted(log, key=lambda e: e["ts"]):
        s = parse_ts(e["ts"]) - t0
        d = (e.get("duration_ms") or 0) / 1000.0
        p = phases.setdefault(op_class(e), [0, s, s + d, 0.0])
        p[0] += 1
        p[2] = max(p[2], s + d)
        p[3] += d
    smp, mono0 = res["sampler"], res["mono0"]
    for name, (cnt, first, last, busy_p) in phases.items():
        span = max(last - first, 1e-9)
        pb = common.ceil_div(cnt, parallel) * latency_ms / 1000.0
        answer = (busy_p / cnt - latency_ms / 1000.0) * 1000
        u = smp.usage(mono0 + first, mono0 + last) if span >= 0.5 else {}
        r = res["rss"].peak(mono0, mono0 + last)
        rtxt = f"{r / 1024:.1f}MiB" if r else "-"

        def pct(k):
            v = u.get(k)
            return f"{v * 100:.0f}%" if v is not None else "-"
        print(f"    {name:<18} {cnt:>8} {first:>6.2f} {last:>8.2f} {span:>6.2f} {pb:>6.2f} "
              f"{busy_p / span:>9.1f} {answer:>5.1f}ms {pct('moto'):>5} {pct('proxy'):>5} "
              f"{pct('vault'):>5} {pct('machine'):>7} {rtxt:>8}")
    gaps = idle_gaps(log, t0, wall)
    if gaps:
        print("  no request in flight (the binary alone): " +
              ", ".join(f"{a:.2f}-{b:.2f} s" for a, b in gaps[:8]) +
              f"; {sum(b - a for a, b in gaps):.2f} s in all")

    u = smp.usage(mono0, mono0 + wall)
    if u:
        print("  CPU during the run (cores busy on average): " + ", ".join(
            f"{k} {u[k] * 100:.0f}%" for k in ("moto", "proxy", "vault") if k in u) +
              f"; the binary {(m.user + m.sys) / wall * 100:.0f}% "
              f"({m.user + m.sys:.1f} s); the whole machine {u['machine'] * 100:.0f}% of "
              f"{os.cpu_count()} cores (other work included)")

    writes = [e for e in log if e.get("mutating")]
    if rerun:
        sm = [e for e in log if e.get("service") == "secretsmanager"]
        lists = sum(1 for e in sm if e.get("operation") == "ListSecrets")
        reads = sum(1 for e in sm if e.get("operation") in
                    ("BatchGetSecretValue", "GetSecretValue"))
        other = len(sm) - lists - reads
        nt = len(plan["targets"])
        b_lists = sum(max(1, math.ceil(t["total"] / PAGE)) for t in plan["targets"])
        b_reads = sum(math.ceil(t["total"] / BATCH) for t in plan["targets"])
        print(f"  Secrets Manager per target: {len(sm) / nt:.1f} requests "
              f"({lists / nt:.1f} ListSecrets + {reads / nt:.1f} reads + {other / nt:.1f} other) "
              f"vs the bound {(b_lists + b_reads) / nt:.1f} "
              f"({b_lists / nt:.1f} pages + {b_reads / nt:.1f} batch reads of {BATCH}); "
              f"in all {len(sm)} vs {b_lists + b_reads}")
        print(f"  writes (mutating requests, every service): {len(writes)}")
    else:
        print(f"  writes (mutating requests): {len(writes)}")


def idle_gaps(log, t0, wall, min_gap=0.05):
    """Intervals (since the start) of at least min_gap with no request in the proxy."""
    iv = sorted((parse_ts(e["ts"]) - t0, parse_ts(e["ts"]) - t0 + (e.get("duration_ms") or 0)
                 / 1000.0) for e in log)
    gaps, cur = [], 0.0
    for a, b in iv:
        if a - cur >= min_gap:
            gaps.append((cur, a))
        cur = max(cur, b)
    if wall - cur >= min_gap:
        gaps.append((cur, wall))
    return gaps


def stderr_timeline(res, limit=12):
    """The binary's own info lines with the time they arrived."""
    keep = [(t, l.rstrip()) for t, l in res["stderr"]
            if "source " in l or "merge store" in l or "target " in l]
    if not keep:
        return
    print("  the binary's log (time of arrival):")
    srcs = [x for x in keep if ": source " in x[1]]
    if srcs:
        print(f"    {srcs[0][0]:7.2f} s .. {srcs[-1][0]:.2f} s  {len(srcs)} 'source' lines "
              f"(first: {srcs[0][1][:90]})")
    stores = [x for x in keep if "merge store" in x[1]]
    if stores:
        print(f"    {stores[0][0]:7.2f} s .. {stores[-1][0]:.2f} s  {len(stores)} 'merge store' "
              f"lines")
    tg = [x for x in keep if ": target " in x[1]]
    if tg:
        print(f"    {tg[0][0]:7.2f} s .. {tg[-1][0]:.2f} s  {len(tg)} 'target' lines "
              f"(first: {tg[0][1][:100]})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--secrets", type=int, default=10000)
    ap.add_argument("--targets", type=int, default=50)
    ap.add_argument("--accounts", type=int, default=5)
    ap.add_argument("--latency-ms", type=int, default=20)
    ap.add_argument("--merge-store", choices=sorted(STORES), default="s3",
                    help="the merge store of the config (default s3)")
    ap.add_argument("--bin", default=os.path.join(common.ROOT, "build", "secretsync"))
    ap.add_argument("--static", default=os.path.join(common.ROOT, "build", "secretsync-static"),
                    help="also re-run with this binary (skipped when missing; '' = never)")
    ap.add_argument("--keep-log", metavar="DIR",
                    help="copy the request logs and the binary's stderr there")
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--default-backlog", action="store_true",
                    help="leave the Vault emulator's listen backlog at Python's 5")
    args = ap.parse_args()
    if not os.path.exists(args.bin):
        print(f"pipeline: {args.bin} is missing (make)")
        return 1
    merge_store = args.merge_store
    rng = random.Random(20260101)
    fixture, plan = gen_world(args.secrets, args.targets, args.accounts, merge_store, rng)
    aws_total = sum(t["total"] for t in plan["targets"])
    inheriting = sum(1 for t in plan["targets"] if t["parent"] is not None)
    print(f"world: {plan['vault_secrets']} Vault secrets (2 KV v2 mounts, one folder per "
          f"target, 3 levels of sub-folders), {args.targets} targets ({inheriting} also "
          f"import the previous target), {len(plan['accounts'])} target accounts, "
          f"{aws_total} secrets to keep in Secrets Manager, "
          f"{STORES[merge_store]}; "
          f"{args.latency_ms} ms injected before every request of every service; "
          f"parallel {PARALLEL}")

    tmp = tempfile.mkdtemp(prefix="secretsync-bench-pipeline-")
    world = None
    rc = 0
    try:
        fx = os.path.join(tmp, "fixture.json")
        with open(fx, "w", encoding="utf-8") as f:
            json.dump(fixture, f)
        cfg = os.path.join(tmp, "secretsync.yaml")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(gen_config(plan, merge_store))
        t = time.monotonic()
        world = start_world(fx, tmp, not args.default_backlog)
        print(f"world started in {time.monotonic() - t:.1f} s; emulators: " +
              ", ".join(f"{k} pid {v}" for k, v in sorted(emulator_pids(world).items())))
        if not args.default_backlog:
            print("the Vault emulator's listen backlog is raised from Python's 5 to 128 (as "
                  "the proxy's): with 5, 16 connections opened at once drop SYNs, 1 s each")
        world.latency("*", args.latency_ms)
        with common.Launcher() as lx:
            print(f"peak RSS: {lx.describe()}")
            runs = [("first sync", False, args.bin), ("re-run, nothing changed", True, args.bin)]
            if args.static and os.path.exists(args.static):
                runs.append(("re-run with the static binary", True, args.static))
            for label, rerun, binary in runs:
                print()
                print(f"{label} ({os.path.relpath(binary, common.ROOT)}): " + common.load_note())
                res = run_once(world, lx, binary, cfg, tmp, label.split(",")[0].replace(
                    " ", "-"), args.timeout)
                analyze(res, args.latency_ms, PARALLEL, plan, rerun)
                stderr_timeline(res)
                if args.keep_log:
                    os.makedirs(args.keep_log, exist_ok=True)
                    base = os.path.join(args.keep_log, label.split(",")[0].replace(" ", "-"))
                    with open(base + ".requests.jsonl", "w", encoding="utf-8") as f:
                        for e in res["log"]:
                            f.write(json.dumps(e) + "\n")
                    with open(base + ".stderr", "w", encoding="utf-8") as f:
                        for ts, l in res["stderr"]:
                            f.write(f"{ts:9.3f} {l}")
                if res["m"].code != 0:
                    rc = 1
        print()
        print("at end: " + common.load_note())
    finally:
        if world is not None:
            world.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
