"""The Vault client against the Vault and GitHub emulators, through the proxy.

Drives build/tools/vault_tool (VAULT_TOOL overrides it), which runs the
client the way the binary does with the settings of the environment, writes
the secrets it read to a file and prints only counters. Covers: auth by
token, AppRole and JWT (the GitHub OIDC token for the configured audience),
revocation of a login token (also when the run fails), namespaces, KV v1 and
v2 (detected or given), the breadth-first walk with its visited set, caps and
key validation, concurrency, writes, the message for each kind of failure,
redaction of debug logs, and TLS with VAULT_CACERT and VAULT_TLS_SERVER_NAME
through a TLS front made in the test (openssl CLI + python ssl).

    python3 tests/integration/run.py test_vault_client
"""
import json
import os
import re
import select
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

from world_fixture import ROOT, FIXTURES, World

TOOL = os.environ.get("VAULT_TOOL", os.path.join(ROOT, "build", "tools", "vault_tool"))
FIXTURE = os.path.join(FIXTURES, "vault_client.json")
WORLD = None

with open(FIXTURE, encoding="utf-8") as _f:
    FX = json.load(_f)
ROOT_NS = FX["vault"]["namespaces"][""]
KV = ROOT_NS["mounts"]["kv"]["secrets"]
LEGACY = ROOT_NS["mounts"]["legacy"]["secrets"]
APPROLE = ROOT_NS["approle"]["roles"]["ci"]
READER = "tok-reader-8c2e51"


def setUpModule():
    global WORLD
    if not os.access(TOOL, os.X_OK):
        raise unittest.SkipTest(f"{TOOL} is not built (make tools)")
    WORLD = World("vault_client", services=("vault", "github")).start()


def tearDownModule():
    if WORLD:
        WORLD.stop()


def emu(path, body=None):
    """The Vault emulator's control API (direct, not through the proxy)."""
    url = WORLD.env["SECRETSYNC_TEST_VAULT_URL"] + path
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def vault_http(method, path, token=None, body=None):
    """A plain request to the emulator (for setting up a test), JSON back."""
    url = WORLD.env["SECRETSYNC_TEST_VAULT_URL"] + "/v1/" + path
    headers = {"X-Vault-Token": token} if token else {}
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=10) as r:
        raw = r.read()
        return json.loads(raw) if raw else None


def reset_world():
    emu("/_emu/reset", {})
    WORLD.clear_faults()
    WORLD.control("DELETE", "/latency")
    WORLD.clear_log()


def expected(mapping, prefix=""):
    """{path relative to prefix's mount: data} of the fixture below prefix."""
    return {p: v for p, v in mapping.items() if p.startswith(prefix)}


class Run:
    def __init__(self, proc, out_path):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.counts = {}
        for line in proc.stdout.splitlines():
            k, _, v = line.partition("=")
            try:
                self.counts[k] = float(v) if "." in v else int(v)
            except ValueError:
                pass
        self.result = None
        if out_path and os.path.exists(out_path):
            with open(out_path, encoding="utf-8") as f:
                self.result = json.load(f)

    def __repr__(self):
        return f"rc={self.rc}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"


def tool(args, env=None, stdin=None, out=True, timeout=60):
    """Run vault_tool; env adds to the world's environment (None drops a key)."""
    extra = {k: v for k, v in (env or {}).items() if v is not None}
    drop = [k for k, v in (env or {}).items() if v is None]
    e = WORLD.binary_env(extra, drop=drop)
    tmp = tempfile.mkdtemp(prefix="vault-tool-")
    out_path = os.path.join(tmp, "out.json") if out else None
    argv = [TOOL] + (["--out", out_path] if out else []) + args
    try:
        p = subprocess.run(argv, env=e, input=stdin, capture_output=True, text=True,
                           timeout=timeout)
        return Run(p, out_path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def approle_env(role="ci"):
    r = ROOT_NS["approle"]["roles"][role]
    return {"VAULT_ROLE_ID": r["role_id"], "VAULT_SECRET_ID": r["secret_id"]}


class VaultWorldTest(unittest.TestCase):
    def setUp(self):
        reset_world()

    def ok(self, run):
        self.assertEqual(run.rc, 0, run)
        return run

    def fails(self, run, *needles):
        self.assertEqual(run.rc, 1, run)
        for n in needles:
            self.assertIn(n, run.stderr, run)
        return run


class TestAuth(VaultWorldTest):
    def test_token(self):
        r = self.ok(tool(["tree", "kv", "team/app/"], {"VAULT_TOKEN": READER}))
        self.assertEqual(r.result, expected(KV, "team/app/"))
        st = emu("/_emu/state")
        self.assertNotIn("POST auth/token/revoke-self", st["requests"])

    def test_approle_login_and_revoke(self):
        before = emu("/_emu/state")
        r = self.ok(tool(["tree", "kv", "team/"], approle_env()))
        self.assertEqual(r.result, expected(KV, "team/"))
        st = emu("/_emu/state")
        self.assertEqual(st["requests"].get("POST auth/approle/login"), 1)
        self.assertEqual(st["requests"].get("POST auth/token/revoke-self"), 1)
        self.assertEqual(st["revoked"], before["revoked"] + 1)
        # no token from the login is left alive
        self.assertEqual(len(st["tokens"]), len(before["tokens"]))
        self.assertFalse([t for t in st["tokens"] if t["via"].startswith("auth/approle")])

    def test_login_token_revoked_on_failure(self):
        r = self.fails(tool(["read", "kv", "denied/secret"], approle_env()),
                       'policy needs "read" on kv/data/denied/secret')
        st = emu("/_emu/state")
        self.assertEqual(st["revoked"], 1, r)
        self.assertFalse([t for t in st["tokens"] if t["via"].startswith("auth/approle")])

    def test_login_retried(self):
        WORLD.fault("vault", "vault_error", count=2, status=503, method="POST",
                    path_regex=r"/auth/approle/login$")
        r = self.ok(tool(["read", "kv", "top"], dict(approle_env(),
                                                     SECRETSYNC_HTTP_BACKOFF_MS="10")))
        self.assertEqual(r.result, KV["top"])
        self.assertIn("retrying vault approle login after HTTP 503 (attempt 2 of", r.stderr)
        self.assertEqual(r.counts["retries"], 2)

    def test_approle_refused(self):
        self.fails(tool(["read", "kv", "top"], {"VAULT_ROLE_ID": APPROLE["role_id"],
                                                 "VAULT_SECRET_ID": "not-the-secret-id"}),
                   "AppRole login at auth/approle/login: HTTP 400 invalid role or secret ID",
                   "check role_id and secret_id")
        self.assertEqual(emu("/_emu/state")["requests"].get("POST auth/approle/login"), 1)

    def test_jwt_with_audience(self):
        gh = WORLD.env["SECRETSYNC_TEST_GITHUB_URL"]
        with urllib.request.urlopen(gh + "/_emu/state", timeout=10) as f:
            issued = json.loads(f.read())["oidc_tokens_issued"]
        r = self.ok(tool(["read", "kv", "team/app/db"],
                         {"VAULT_ROLE": "ci", "VAULT_JWT_AUDIENCE": "vault"}))
        self.assertEqual(r.result, KV["team/app/db"])
        with urllib.request.urlopen(gh + "/_emu/state", timeout=10) as f:
            self.assertEqual(json.loads(f.read())["oidc_tokens_issued"], issued + 1)
        st = emu("/_emu/state")
        self.assertEqual(st["requests"].get("POST auth/jwt/login"), 1)
        self.assertEqual(st["requests"].get("POST auth/token/revoke-self"), 1)
        self.assertFalse([t for t in st["tokens"] if t["via"].startswith("auth/jwt")])

    def test_jwt_audience_matters(self):
        # without the audience the role's bound_audiences refuses the token
        self.fails(tool(["read", "kv", "top"], {"VAULT_ROLE": "ci"}),
                   "JWT login at auth/jwt/login as role 'ci': HTTP 400",
                   "invalid audience", "aud=https://github.com/octo")

    def test_jwt_claims_refused(self):
        self.fails(tool(["read", "kv", "top"], {"VAULT_ROLE": "other",
                                                "VAULT_JWT_AUDIENCE": "vault"}),
                   "as role 'other'", 'claim "repository" does not match',
                   "repository=octo/app")

    def test_jwt_without_oidc(self):
        self.fails(tool(["read", "kv", "top"], {"VAULT_ROLE": "ci",
                                                "ACTIONS_ID_TOKEN_REQUEST_URL": None}),
                   "id-token: write")

    def test_namespace(self):
        ns = FX["vault"]["namespaces"]["team-a"]
        role = ns["approle"]["roles"]["ns"]
        r = self.ok(tool(["tree", "kv"], {"VAULT_NAMESPACE": "team-a",
                                          "VAULT_ROLE_ID": role["role_id"],
                                          "VAULT_SECRET_ID": role["secret_id"]}))
        self.assertEqual(r.result, ns["mounts"]["kv"]["secrets"])
        st = emu("/_emu/state")
        self.assertEqual(st["requests"].get("POST auth/approle/login [team-a]"), 1)
        self.assertEqual(st["requests"].get("POST auth/token/revoke-self [team-a]"), 1)
        # without the namespace the same mount is the root namespace's
        r = self.ok(tool(["tree", "kv", "team/app/"], {"VAULT_TOKEN": READER}))
        self.assertEqual(r.result, expected(KV, "team/app/"))


class TestKV(VaultWorldTest):
    def test_kv2_detected(self):
        r = self.ok(tool(["tree", "kv", "team/", "bulk/"], {"VAULT_TOKEN": READER}))
        want = dict(expected(KV, "team/"), **expected(KV, "bulk/"))
        self.assertEqual(r.result, want)
        self.assertEqual(list(r.result), sorted(want))  # sorted by name
        st = emu("/_emu/state")["requests"]
        self.assertEqual(st["GET sys/internal/ui/mounts/*"], 1)
        self.assertEqual(st["GET kv/data"], len(want))

    def test_kv1_detected(self):
        r = self.ok(tool(["tree", "legacy"], {"VAULT_TOKEN": READER}))
        self.assertEqual(r.result, LEGACY)
        r = self.ok(tool(["version", "legacy"], {"VAULT_TOKEN": READER}, out=False))
        self.assertEqual(r.counts["version"], 1)
        # a v1 mount created without -version shows options: null
        r = self.ok(tool(["tree", "oldstyle"], {"VAULT_TOKEN": READER}))
        self.assertEqual(r.result, ROOT_NS["mounts"]["oldstyle"]["secrets"])

    def test_version_given_skips_detection(self):
        r = self.ok(tool(["--kv-version", "2", "tree", "kv", "team/app/"],
                         {"VAULT_TOKEN": READER}))
        self.assertEqual(r.result, expected(KV, "team/app/"))
        self.assertNotIn("GET sys/internal/ui/mounts/*", emu("/_emu/state")["requests"])

    def test_start_paths(self):
        # a secret, a folder named without '/', a folder inside another start
        r = self.ok(tool(["tree", "kv", "team/app/db", "team/web", "team/", "team/app/"],
                         {"VAULT_TOKEN": READER}))
        self.assertEqual(r.result, expected(KV, "team/"))
        st = emu("/_emu/state")["requests"]
        # visited set: every secret read once, every folder listed once
        self.assertEqual(st["GET kv/data"], len(expected(KV, "team/")) + 1)  # + team/web as a secret
        folders = {"team/", "team/app/", "team/web/", "team/deep/", "team/deep/l1/",
                   "team/deep/l1/l2/", "team/deep/l1/l2/l3/", "team/deep/l1/l2/l3/l4/"}
        self.assertEqual(st["LIST kv/metadata"], len(folders))

    def test_hostile_keys(self):
        r = self.ok(tool(["--max-depth", "6", "tree", "hostile", "evil/", "good/"],
                         {"VAULT_TOKEN": READER}))
        self.assertEqual(r.result, {"evil/ok": {"v": "SV-hostile-ok-c3d4"},
                                    "good/one": {"v": "SV-hostile-good-a1b2"}})
        for key in ['"../escape"', '"a//b"', '"/abs"', '"ctl\\u0001x"', '"tab\\tkey"', '""',
                    '".."', '"sub/x/"', '"../../up"']:
            self.assertRegex(r.stderr, r"warning: vault: LIST hostile/evil/(again/)? returned an "
                             r"unsafe key " + re.escape(key) + "; skipped")
        log = emu("/_emu/state")["request_log"]
        for e in log:
            self.assertNotRegex(e["path"], r"\.\.|//|/abs|\x01|\t", e)

    def test_depth_cap_fails_the_read(self):
        # a folder that lists itself: cut at the cap, and the read fails
        # (a partial tree would let delete_orphans delete what it missed)
        r = self.fails(tool(["--max-depth", "6", "tree", "hostile", "loop/"],
                            {"VAULT_TOKEN": READER}),
                       "is deeper than max_traversal_depth (6): raise "
                       "vault.max_traversal_depth or narrow the source's paths")
        self.assertIsNone(r.result)
        log = emu("/_emu/state")["request_log"]
        loops = [e for e in log if e["path"].startswith("/v1/hostile/metadata/loop/")]
        self.assertEqual(len(loops), 7)

    def test_count_cap(self):
        r = self.fails(tool(["--max-secrets", "299", "tree", "hostile", "wide/"],
                            {"VAULT_TOKEN": READER}),
                       "vault: mount 'hostile' has more than max_secrets_per_mount (299) "
                       "secrets under the configured paths")
        self.assertIsNone(r.result)
        # refused on the LIST answer, before any read
        self.assertNotIn("GET hostile/data", emu("/_emu/state")["requests"])
        r = self.ok(tool(["--max-secrets", "300", "tree", "hostile", "wide/"],
                         {"VAULT_TOKEN": READER}))
        self.assertEqual(len(r.result), 300)
        self.assertEqual(r.result["wide/w000299"], {"n": "299"})

    def test_concurrent(self):
        WORLD.latency("vault", 40)
        t0 = time.monotonic()
        r = self.ok(tool(["--kv-version", "2", "tree", "hostile", "wide/"],
                         {"VAULT_TOKEN": READER}))
        wall = time.monotonic() - t0
        self.assertEqual(len(r.result), 300)
        self.assertEqual(r.counts["max_in_flight"], 16, r)
        # sequentially 301 requests would take 301 x 40 ms = 12 s
        self.assertLess(wall, 6.0, r)
        # the proxy saw them overlap
        log = [e for e in WORLD.log(service="vault") if e["path"].startswith("/v1/hostile/data/")]
        self.assertEqual(len(log), 300)
        self.assertGreaterEqual(max_overlap(log), 8)

    def test_write(self):
        data = {"a": "SV-written-value-7a7a", "n": [1, 2], "o": {"k": None}}
        text = json.dumps(data)
        self.ok(tool(["write", "merged", "target/x"], approle_env("writer"), stdin=text,
                     out=False))
        self.ok(tool(["write", "merged1", "target/y"], approle_env("writer"), stdin=text,
                     out=False))
        mounts = emu("/_emu/state")["namespaces"][""]["mounts"]
        v2 = mounts["merged"]["secrets"]["target/x"]
        self.assertEqual(v2["versions"][str(v2["current_version"])]["data"], data)
        self.assertEqual(mounts["merged1"]["secrets"]["target/y"]["data"], data)
        r = self.ok(tool(["read", "merged", "target/x"], approle_env("writer")))
        self.assertEqual(r.result, data)
        self.fails(tool(["write", "kv", "x"], approle_env("writer"), stdin=text, out=False),
                   "403")


def max_overlap(entries):
    """The most requests in flight at once, from proxy log start times and durations."""
    import datetime
    ev = []
    for e in entries:
        t = datetime.datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
        ev.append((t, 1))
        ev.append((t + e["duration_ms"] / 1000.0, -1))
    ev.sort(key=lambda x: (x[0], x[1]))
    cur = best = 0
    for _, d in ev:
        cur += d
        best = max(best, cur)
    return best


class TestErrors(VaultWorldTest):
    def test_403_read(self):
        self.fails(tool(["read", "kv", "denied/secret"], {"VAULT_TOKEN": READER}),
                   'vault: GET kv/data/denied/secret: 403 permission denied (policy needs '
                   '"read" on kv/data/denied/secret)')

    def test_403_list(self):
        self.fails(tool(["tree", "kv", "team/"], {"VAULT_TOKEN": "tok-nolist-5b7a90"}),
                   'vault: LIST kv/metadata/team/: 403 permission denied (policy needs '
                   '"list" on kv/metadata/team/*)')

    def test_403_read_in_tree(self):
        self.fails(tool(["tree", "kv", "team/app/"], {"VAULT_TOKEN": "tok-noread-2f6c33"}),
                   'policy needs "read" on kv/data/team/app/')

    def test_missing_mount(self):
        self.fails(tool(["tree", "nosuch"], {"VAULT_TOKEN": READER}),
                   "vault: mount 'nosuch' not found, or the token cannot see it")
        self.fails(tool(["--kv-version", "2", "tree", "nosuch"],
                        {"VAULT_TOKEN": FX["vault"]["root_token"]}),
                   "vault: mount 'nosuch' does not exist")

    def test_wrong_kv_version(self):
        self.fails(tool(["--kv-version", "1", "tree", "kv", "team/"], {"VAULT_TOKEN": READER}),
                   "vault: mount 'kv' is KV v2, but kv_version 1 is configured")
        self.fails(tool(["--kv-version", "2", "tree", "legacy", "old/"],
                        {"VAULT_TOKEN": READER}),
                   "vault: mount 'legacy' is KV v1, but kv_version 2 is configured")

    def test_missing_secret(self):
        self.fails(tool(["read", "kv", "team/app/nope"], {"VAULT_TOKEN": READER}),
                   "vault: kv/team/app/nope: no such secret")
        emu("/_emu/secret", {"mount": "kv", "path": "team/app/api", "delete": True})
        self.fails(tool(["read", "kv", "team/app/api"], {"VAULT_TOKEN": READER}),
                   "vault: kv/team/app/api: its latest version is deleted or destroyed")

    def test_expired_token(self):
        acc = [t["accessor"] for t in emu("/_emu/state")["tokens"]
               if t["expires_in"] is not None]
        self.assertEqual(len(acc), 1)
        emu("/_emu/expire-tokens", {"accessor": acc[0]})
        self.fails(tool(["tree", "kv", "team/"], {"VAULT_TOKEN": "tok-expiring-77aa12"}),
                   "vault: the token is invalid, expired or revoked")

    def test_revoked_token(self):
        login = vault_http("POST", "auth/approle/login",
                           body={"role_id": APPROLE["role_id"], "secret_id": APPROLE["secret_id"]})
        tok = login["auth"]["client_token"]
        vault_http("POST", "auth/token/revoke-self", token=tok)
        r = self.fails(tool(["read", "kv", "top"], {"VAULT_TOKEN": tok}),
                       "vault: the token is invalid, expired or revoked")
        self.assertNotIn("policy needs", r.stderr)
        self.assertNotIn(tok, r.stderr + r.stdout)

    def test_unreachable(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nothing listens there now
        r = self.fails(tool(["read", "kv", "top"], {"VAULT_TOKEN": READER,
                                                    "VAULT_ADDR": f"http://127.0.0.1:{port}",
                                                    "SECRETSYNC_HTTP_ATTEMPTS": "3",
                                                    "SECRETSYNC_HTTP_BACKOFF_MS": "10"}),
                       f"cannot connect to http://127.0.0.1:{port}/v1/",
                       "check vault.address / VAULT_ADDR")
        self.assertEqual(r.stderr.count("retrying vault mount info after connection refused"), 2)

    def test_bad_address(self):
        self.fails(tool(["read", "kv", "top"], {"VAULT_TOKEN": READER,
                                                "VAULT_ADDR": "127.0.0.1:8200"}),
                   "is not a URL like https://vault.example.com:8200")
        self.fails(tool(["read", "kv", "top"], {"VAULT_TOKEN": READER, "VAULT_ADDR": None}),
                   "vault: no address")


class TestDebugLog(VaultWorldTest):
    def test_debug_log_redacts_everything(self):
        """Everything printed with debug logging, searched for every secret."""
        WORLD.fault("vault", "vault_error", count=1, status=503,
                    path_regex=r"^/v1/kv/data/team/app/db$")
        runs = [
            tool(["tree", "kv", "team/", "top"], dict(approle_env(),
                                                      SECRETSYNC_LOG_LEVEL="debug")),
            tool(["tree", "kv", "team/app/"], {"VAULT_TOKEN": READER,
                                               "SECRETSYNC_LOG_LEVEL": "debug"}),
            tool(["read", "kv", "team/app/api"], {"VAULT_ROLE": "ci",
                                                  "VAULT_JWT_AUDIENCE": "vault",
                                                  "SECRETSYNC_LOG_LEVEL": "debug"}),
            tool(["write", "merged", "t/x"], dict(approle_env("writer"),
                                                  SECRETSYNC_LOG_LEVEL="debug"),
                 stdin=json.dumps({"w": "SV-write-body-6c6c"}), out=False),
        ]
        for r in runs:
            self.assertEqual(r.rc, 0, r)
        text = "".join(r.stdout + r.stderr for r in runs)
        secrets = [READER, APPROLE["role_id"], APPROLE["secret_id"],
                   ROOT_NS["approle"]["roles"]["writer"]["secret_id"],
                   WORLD.env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"], "SV-write-body-6c6c"]
        secrets += leaves(KV)
        for s in secrets:
            self.assertNotIn(s, text)
        # login tokens (hvs.) and the OIDC JWT (eyJ...) never show
        self.assertNotRegex(text, r"hvs\.[A-Za-z0-9]")
        self.assertNotRegex(text, r"eyJ[A-Za-z0-9_-]{10,}")
        # what the debug log does show: method, URL, attempt, headers redacted
        self.assertRegex(text, r"debug: http: > GET http://127\.0\.0\.1:\d+/v1/kv/data/team/app/db "
                               r"\(attempt 1/\d+\)")
        self.assertRegex(text, r"debug: http: < GET http://127\.0\.0\.1:\d+/v1/kv/data/team/app/db "
                               r"-> 503 in \d+ ms \(attempt 1\)")
        self.assertRegex(text, r"-> 200 in \d+ ms \(attempt 2\)")
        self.assertIn("X-Vault-Token: [redacted]", text)
        self.assertIn("Authorization: [redacted]", text)  # the OIDC token request
        self.assertRegex(text, r"POST http://127\.0\.0\.1:\d+/v1/auth/approle/login \(attempt 1/\d+\)"
                               r"\n  Accept: application/json\n  Content-Type: application/json\n"
                               r"  \(body: \d+ bytes, redacted\)")
        self.assertIn("info: retrying vault read after HTTP 503 (attempt 2 of", text)


def leaves(obj):
    """Every string leaf (and each line of it) of a fixture's secrets."""
    out = []
    if isinstance(obj, dict):
        for v in obj.values():
            out += leaves(v)
    elif isinstance(obj, list):
        for v in obj:
            out += leaves(v)
    elif isinstance(obj, str) and len(obj) >= 4:
        out.append(obj)
        out += [ln for ln in obj.split("\n") if len(ln) >= 4]
    return out


# --------------------------------------------------------------------------
# TLS: a throw-away CA, a certificate for vault.test, a TLS front

def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2",
            "-subj", f"/CN=secretsync test {name}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    return os.path.join(d, f"{name}.pem")


def make_server_cert(d, ca, dns):
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write(f"subjectAltName=DNS:{dns}\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={dns}", cwd=d)
    openssl("x509", "-req", "-in", "server.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf", cwd=d)
    return os.path.join(d, "server.pem"), os.path.join(d, "server.key")


class TLSFront:
    """Terminates TLS on 127.0.0.1 and forwards the bytes to a plain port."""

    def __init__(self, cert, key, upstream_port):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.upstream = upstream_port
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(32)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.handshakes_ok = 0
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        conn.settimeout(20)
        try:
            tls = self.ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            conn.close()
            return
        self.handshakes_ok += 1
        up = socket.create_connection(("127.0.0.1", self.upstream), timeout=20)
        try:
            while True:
                r = [tls] if tls.pending() else select.select([tls, up], [], [], 20)[0]
                if not r:
                    return
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    (up if s is tls else tls).sendall(data)
        except (OSError, ssl.SSLError):
            return
        finally:
            tls.close()
            up.close()

    def stop(self):
        self.stopped = True
        self.sock.close()


class TestTLS(VaultWorldTest):
    @classmethod
    def setUpClass(cls):
        if shutil.which("openssl") is None:
            raise unittest.SkipTest("no openssl command")
        cls.dir = tempfile.mkdtemp(prefix="vault-tls-")
        cls.ca = make_ca(cls.dir, "ca")
        cls.other_ca = make_ca(cls.dir, "other")
        cert, key = make_server_cert(cls.dir, "ca", "vault.test")
        port = int(WORLD.env["VAULT_ADDR"].rsplit(":", 1)[1])
        cls.front = TLSFront(cert, key, port)
        cls.addr = f"https://127.0.0.1:{cls.front.port}"

    @classmethod
    def tearDownClass(cls):
        cls.front.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_ip_address_needs_server_name(self):
        n = self.front.connections
        self.fails(tool(["read", "kv", "top"], {"VAULT_TOKEN": READER, "VAULT_ADDR": self.addr,
                                                "VAULT_CACERT": self.ca}),
                   f"vault: VAULT_ADDR: https://127.0.0.1 is an IP address",
                   "set VAULT_TLS_SERVER_NAME to the name in its certificate")
        self.assertEqual(self.front.connections, n)  # refused before connecting

    def test_server_name_and_ca(self):
        n = self.front.handshakes_ok
        r = self.ok(tool(["tree", "kv", "team/app/"], {"VAULT_TOKEN": READER,
                                                       "VAULT_ADDR": self.addr,
                                                       "VAULT_CACERT": self.ca,
                                                       "VAULT_TLS_SERVER_NAME": "vault.test"}))
        self.assertEqual(r.result, expected(KV, "team/app/"))
        self.assertGreater(self.front.handshakes_ok, n)
        # AppRole over TLS too (login, reads, revoke on one kept-alive connection)
        r = self.ok(tool(["read", "kv", "top"], dict(approle_env(), VAULT_ADDR=self.addr,
                                                     VAULT_CACERT=self.ca,
                                                     VAULT_TLS_SERVER_NAME="vault.test")))
        self.assertEqual(r.result, KV["top"])
        self.assertEqual(emu("/_emu/state")["revoked"], 1)

    def test_wrong_ca(self):
        self.fails(tool(["read", "kv", "top"], {"VAULT_TOKEN": READER, "VAULT_ADDR": self.addr,
                                                "VAULT_CACERT": self.other_ca,
                                                "VAULT_TLS_SERVER_NAME": "vault.test"}),
                   "TLS certificate of https://vault.test:", "could not be verified",
                   "VAULT_CACERT")
        # a TLS failure is not retried
        self.assertEqual(emu("/_emu/state")["requests_total"], 0)

    def test_wrong_name(self):
        self.fails(tool(["read", "kv", "top"], {"VAULT_TOKEN": READER, "VAULT_ADDR": self.addr,
                                                "VAULT_CACERT": self.ca,
                                                "VAULT_TLS_SERVER_NAME": "other.test"}),
                   "TLS certificate of https://other.test:", "that the name matches")


if __name__ == "__main__":
    unittest.main()
