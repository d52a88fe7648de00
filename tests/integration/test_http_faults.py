"""The HTTP transport under the fault proxy and the Vault emulator's faults.

Drives build/tools/vault_tool (VAULT_TOOL overrides it): Vault reads for the
rules as the client meets them, and its `http` command for one raw request
(to show the rule for requests that are not idempotent). Proves: retries for
retryable failures only (connection errors, timeouts, 429, 5xx, Vault's 412),
a bounded number of attempts, exponential backoff with full jitter,
Retry-After honoured, each retry logged at info with its reason, a plain 4xx
never retried, a non-idempotent request retried only when nothing was sent,
a dropped connection, a stall past the timeout (SECRETSYNC_HTTP_TIMEOUT_MS),
a truncated body, a malformed body, and the response size caps (LIST 10 MB,
read 4 MB).

    python3 tests/integration/run.py test_http_faults
"""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

from world_fixture import ROOT, FIXTURES, World

TOOL = os.environ.get("VAULT_TOOL", os.path.join(ROOT, "build", "tools", "vault_tool"))
WORLD = None
with open(os.path.join(FIXTURES, "vault_client.json"), encoding="utf-8") as _f:
    KV = json.load(_f)["vault"]["namespaces"][""]["mounts"]["kv"]["secrets"]
READER = "tok-reader-8c2e51"
TOP = r"^/v1/kv/data/top$"
LIST_CAP = 10 * 1024 * 1024
READ_CAP = 4 * 1024 * 1024


def setUpModule():
    global WORLD
    if not os.access(TOOL, os.X_OK):
        raise unittest.SkipTest(f"{TOOL} is not built (make tools)")
    WORLD = World("vault_client", services=("vault",)).start()


def tearDownModule():
    if WORLD:
        WORLD.stop()


def emu(path, body=None):
    url = WORLD.env["SECRETSYNC_TEST_VAULT_URL"] + path
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


class Run:
    def __init__(self, p, out, elapsed):
        self.rc = p.returncode
        self.stdout = p.stdout
        self.stderr = p.stderr
        self.elapsed = elapsed
        self.counts = {}
        for line in p.stdout.splitlines():
            k, _, v = line.partition("=")
            if re.fullmatch(r"-?\d+(\.\d+)?", v):
                self.counts[k] = float(v) if "." in v else int(v)
        self.result = None
        if out and os.path.exists(out):
            with open(out, encoding="utf-8") as f:
                self.result = json.load(f)
        self.retries = re.findall(r"info: retrying (.+?) after (.+?) \(attempt (\d+) of (\d+)\) "
                                  r"in (\d+) ms", self.stderr)

    def __repr__(self):
        return f"rc={self.rc} ({self.elapsed:.2f}s)\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"


def tool(args, env=None, stdin=None):
    """Run vault_tool; env adds to the world's environment (None drops a key)."""
    env = dict({"VAULT_TOKEN": READER, "SECRETSYNC_HTTP_BACKOFF_MS": "20"}, **(env or {}))
    e = WORLD.binary_env({k: v for k, v in env.items() if v is not None},
                         drop=[k for k, v in env.items() if v is None])
    tmp = tempfile.mkdtemp(prefix="http-faults-")
    out = os.path.join(tmp, "out.json")
    try:
        t0 = time.monotonic()
        p = subprocess.run([TOOL, "--out", out] + args, env=e, input=stdin,
                           capture_output=True, text=True, timeout=60)
        return Run(p, out, time.monotonic() - t0)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_top(env=None):
    # the version is given: the request counted is the read itself
    return tool(["--kv-version", "2", "read", "kv", "top"], env)


def proxied(path_regex):
    return [e for e in WORLD.log(service="vault") if re.search(path_regex, e["path"])]


class FaultTest(unittest.TestCase):
    def setUp(self):
        emu("/_emu/reset", {})
        WORLD.clear_faults()
        WORLD.control("DELETE", "/latency")
        WORLD.clear_log()

    def ok(self, r):
        self.assertEqual(r.rc, 0, r)
        return r

    def fails(self, r, *needles):
        self.assertEqual(r.rc, 1, r)
        for n in needles:
            self.assertIn(n, r.stderr, r)
        return r


class TestRetryable(FaultTest):
    def test_k_failures_then_success(self):
        for status in (500, 502, 503, 504, 412, 429):
            with self.subTest(status=status):
                self.setUp()
                WORLD.fault("vault", "vault_error", count=2, status=status, path_regex=TOP)
                r = self.ok(read_top())
                self.assertEqual(r.result, KV["top"])
                self.assertEqual(len(proxied(TOP)), 3)
                self.assertEqual(r.counts["retries"], 2)
                self.assertEqual([(x[0], x[1], x[2]) for x in r.retries],
                                 [("vault read", f"HTTP {status}", "2"),
                                  ("vault read", f"HTTP {status}", "3")])

    def test_bounded_attempts(self):
        WORLD.fault("vault", "vault_error", count=50, status=503, path_regex=TOP)
        r = self.fails(read_top({"SECRETSYNC_HTTP_ATTEMPTS": "3"}),
                       "vault: GET kv/data/top: HTTP 503 Vault is sealed")
        self.assertEqual(len(proxied(TOP)), 3)
        self.assertEqual(len(r.retries), 2)
        self.assertEqual(r.retries[-1][2:4], ("3", "3"))

    def test_backoff_full_jitter(self):
        """Delay k is uniform in [0, base * 2^(k-1)]: within the bound, and not
        simply the bound (jitter)."""
        delays = []
        for _ in range(3):
            WORLD.clear_faults()
            WORLD.fault("vault", "vault_error", count=4, status=503, path_regex=TOP)
            r = self.ok(read_top({"SECRETSYNC_HTTP_BACKOFF_MS": "100",
                                  "SECRETSYNC_HTTP_ATTEMPTS": "5"}))
            ds = [int(x[4]) for x in r.retries]
            self.assertEqual(len(ds), 4, r)
            for k, d in enumerate(ds, start=1):
                self.assertLessEqual(d, 100 * 2 ** (k - 1), r)
            self.assertGreaterEqual(r.elapsed, sum(ds) / 1000.0, r)
            delays += ds
        self.assertGreater(len(set(delays)), 3, delays)
        self.assertNotEqual(delays, [100, 200, 400, 800] * 3)

    def test_retry_after_honoured(self):
        WORLD.fault("vault", "vault_error", count=1, status=429, retry_after=1, path_regex=TOP)
        r = self.ok(read_top({"SECRETSYNC_HTTP_BACKOFF_MS": "0"}))
        self.assertEqual(r.retries, [("vault read", "HTTP 429", "2", "5", "1000")])
        self.assertGreaterEqual(r.elapsed, 0.95, r)

    def test_connection_refused(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        r = self.fails(read_top({"VAULT_ADDR": f"http://127.0.0.1:{port}",
                                 "SECRETSYNC_HTTP_ATTEMPTS": "4"}),
                       f"cannot connect to http://127.0.0.1:{port}/v1/")
        self.assertEqual([x[1] for x in r.retries], ["connection refused"] * 3)

    def test_dropped_connection(self):
        for kind in ("drop_before", "drop_after"):
            with self.subTest(kind=kind):
                self.setUp()
                WORLD.fault("vault", kind, count=1, path_regex=TOP)
                r = self.ok(read_top())
                self.assertEqual(r.result, KV["top"])
                self.assertEqual(len(proxied(TOP)), 2, r)
                # on a kept-alive connection curl itself sends a GET again when
                # the connection turns out dead before any answer; else the
                # transport retries it
                self.assertIn([x[1] for x in r.retries], ([], ["connection dropped"]), r)
        # a first request on a new connection: the transport's own retry
        WORLD.clear_log()
        WORLD.fault("vault", "drop_after", count=1, path_regex=r"^/v1/sys/health$")
        r = self.ok(tool(["http", "GET", WORLD.env["VAULT_ADDR"] + "/v1/sys/health"]))
        self.assertEqual(r.counts["attempts"], 2, r)
        self.assertIn("retrying raw request after connection dropped (attempt 2 of", r.stderr)
        # dropped by the emulator itself, mid-tree
        emu("/_emu/fault", {"method": "GET", "path": r"^/v1/kv/data/team/app/db$",
                            "status": "drop", "count": 1})
        r = self.ok(tool(["tree", "kv", "team/app/"]))
        self.assertEqual(len(r.result), 2)

    def test_stall_past_timeout(self):
        WORLD.fault("vault", "stall", count=1, stall_ms=4000, path_regex=TOP)
        r = self.ok(read_top({"SECRETSYNC_HTTP_TIMEOUT_MS": "500"}))
        self.assertEqual(r.result, KV["top"])
        self.assertEqual(r.retries[0][1], "timeout", r)
        self.assertGreaterEqual(r.elapsed, 0.5)
        self.assertLess(r.elapsed, 3.0, r)
        # every attempt stalls: bounded, and the message says so
        WORLD.fault("vault", "stall", count=10, stall_ms=4000, path_regex=TOP)
        r = self.fails(read_top({"SECRETSYNC_HTTP_TIMEOUT_MS": "300",
                                 "SECRETSYNC_HTTP_ATTEMPTS": "2"}),
                       "timed out after 300 ms")
        self.assertLess(r.elapsed, 3.0, r)

    def test_truncated_body(self):
        WORLD.fault("vault", "truncate", count=1, path_regex=TOP)
        r = self.ok(read_top())
        self.assertEqual(r.result, KV["top"])
        self.assertEqual(r.retries[0][1], "truncated response", r)
        WORLD.fault("vault", "truncate", count=10, path_regex=TOP)
        self.fails(read_top({"SECRETSYNC_HTTP_ATTEMPTS": "2"}), "truncated body")


class TestLoop(FaultTest):
    def test_returns_when_done(self):
        """The event loop returns as soon as the last answer is in (it once
        slept a second more in curl_multi_poll)."""
        r = self.ok(read_top())
        self.assertEqual(r.counts["requests"], 2)
        self.assertLess(r.counts["ms"], 500, r)
        self.assertLess(r.elapsed, 0.8, r)


class TestFinal(FaultTest):
    def test_plain_4xx_never_retried(self):
        for status in (400, 401, 403, 404, 405, 409, 413):
            with self.subTest(status=status):
                self.setUp()
                WORLD.fault("vault", "vault_error", count=5, status=status,
                            message="injected", path_regex=TOP)
                r = self.fails(read_top())
                self.assertEqual(len(proxied(TOP)), 1, r)
                self.assertEqual(r.retries, [])

    def test_malformed_body(self):
        WORLD.fault("vault", "malformed", count=1, path_regex=TOP)
        r = self.fails(read_top(), "vault: GET kv/data/top: the answer is not JSON")
        self.assertEqual(len(proxied(TOP)), 1)
        WORLD.fault("vault", "malformed", count=1, path_regex=r"^/v1/kv/data/team/app/db$")
        self.fails(tool(["tree", "kv", "team/app/"]),
                   "vault: GET kv/data/team/app/db: the answer is not JSON")

    def test_non_idempotent_request(self):
        url = WORLD.env["VAULT_ADDR"] + "/v1/sys/health"
        # sent, then the connection broke: not repeated
        WORLD.fault("vault", "drop_after", count=1, method="POST", path_regex="sys/health")
        r = tool(["--not-idempotent", "http", "POST", url], stdin="{}")
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(r.counts["attempts"], 1)
        self.assertEqual(len(proxied("sys/health")), 1)
        # the same on a kept-alive connection: curl must not send it again
        # on a new connection by itself
        WORLD.clear_log()
        WORLD.fault("vault", "drop_after", count=1, method="POST", path_regex="sys/health")
        r = tool(["--warm", "--not-idempotent", "http", "POST", url], stdin="{}")
        self.assertEqual(r.rc, 1, r)
        self.assertEqual([e["method"] for e in proxied("sys/health")], ["GET", "POST"], r)
        # a 500 after sending: not repeated; 503 and 429 (not processed): repeated
        for status, attempts in ((500, 1), (503, 2), (429, 2)):
            WORLD.clear_log()
            WORLD.fault("vault", "vault_error", count=1, status=status, method="POST",
                        path_regex="sys/health")
            r = tool(["--not-idempotent", "http", "POST", url], stdin="{}")
            self.assertEqual(r.counts["attempts"], attempts, (status, r))
        # nothing could be sent: repeated, up to the bound
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        r = tool(["--not-idempotent", "http", "POST", f"http://127.0.0.1:{port}/v1/x"],
                 {"SECRETSYNC_HTTP_ATTEMPTS": "3"}, stdin="{}")
        self.assertEqual(r.counts["requests"], 3, r)
        # the same broken POST, marked safe to repeat: repeated
        WORLD.clear_log()
        WORLD.fault("vault", "drop_after", count=1, method="POST", path_regex="sys/health")
        r = self.ok(tool(["--idempotent", "http", "POST", url], stdin="{}"))
        self.assertEqual(r.counts["attempts"], 2)

    def test_vault_write_repeated_safely(self):
        """A KV write replaces the whole secret: repeating it is safe."""
        writer = json.load(open(os.path.join(FIXTURES, "vault_client.json")))[
            "vault"]["namespaces"][""]["approle"]["roles"]["writer"]
        WORLD.fault("vault", "drop_after", count=1, method="POST",
                    path_regex=r"^/v1/merged/data/t/x$")
        r = self.ok(tool(["write", "merged", "t/x"],
                         {"VAULT_TOKEN": None, "VAULT_ROLE_ID": writer["role_id"],
                          "VAULT_SECRET_ID": writer["secret_id"]},
                         stdin='{"k": "v-write-once"}'))
        self.assertEqual(len(proxied(r"^/v1/merged/data/t/x$")), 2, r)
        sec = emu("/_emu/state")["namespaces"][""]["mounts"]["merged"]["secrets"]["t/x"]
        cur = sec["versions"][str(sec["current_version"])]
        self.assertEqual(cur["data"], {"k": "v-write-once"})


class TestSizeCaps(FaultTest):
    def big_list(self, size):
        pad = "x" * (size - 40)
        body = json.dumps({"data": {"keys": ["a"]}, "pad": pad})
        emu("/_emu/fault", {"method": "GET", "path": r"^/v1/kv/metadata/huge/$", "status": 200,
                            "body": body, "count": 1})

    def test_list_cap(self):
        self.big_list(LIST_CAP + 4096)
        r = self.fails(tool(["--kv-version", "2", "tree", "kv", "huge/"]),
                       f"is larger than the {LIST_CAP}-byte limit")
        self.assertEqual(len(proxied(r"^/v1/kv/metadata/huge/$")), 1)  # not retried
        # under the cap it is read (and its one key is missing: a warning)
        self.big_list(LIST_CAP - 4096)
        r = self.ok(tool(["--kv-version", "2", "tree", "kv", "huge/"]))
        self.assertIn("kv/huge/a was listed but is gone", r.stderr)

    def test_read_cap(self):
        body = json.dumps({"data": {"data": {"k": "y" * (READ_CAP + 100)}}})
        emu("/_emu/fault", {"method": "GET", "path": TOP, "status": 200, "body": body,
                            "count": 1})
        r = self.fails(read_top(), f"is larger than the {READ_CAP}-byte limit")
        self.assertEqual(r.retries, [])


if __name__ == "__main__":
    unittest.main()
