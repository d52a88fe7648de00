"""`secretsync get vault:MOUNT/PATH[#KEY][=NAME] [--export-env]` end to end.

Runs build/secretsync (SECRETSYNC_BIN overrides it) against the Vault and
GitHub emulators through the proxy, and reads GITHUB_OUTPUT / GITHUB_ENV with
tests/tools/ghfile_parse.py, the runner's own reading rules. Covers every
auth method, #KEY / =NAME / dotted keys / whole secrets, --export-env, the
add-mask lines coming before anything else, a missing key (names, never
values), a missing secret (nothing written, the login token still revoked),
action mode (INPUT_COMMAND=get, multi-line INPUT_SECRETS), concurrent reads,
and a leak search through everything printed with debug logging.

    python3 tests/integration/run.py test_get
"""
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

from world_fixture import ROOT, FIXTURES, World

sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
import ghfile_parse  # noqa: E402

BIN = os.environ.get("SECRETSYNC_BIN", os.path.join(ROOT, "build", "secretsync"))
WORLD = None

with open(os.path.join(FIXTURES, "vault_client.json"), encoding="utf-8") as _f:
    FX = json.load(_f)
ROOT_NS = FX["vault"]["namespaces"][""]
KV = ROOT_NS["mounts"]["kv"]["secrets"]
LEGACY = ROOT_NS["mounts"]["legacy"]["secrets"]
CI = ROOT_NS["approle"]["roles"]["ci"]
READER = "tok-reader-8c2e51"
APPROLE = {"VAULT_ROLE_ID": CI["role_id"], "VAULT_SECRET_ID": CI["secret_id"]}


def setUpModule():
    global WORLD
    if not os.access(BIN, os.X_OK):
        raise unittest.SkipTest(f"{BIN} is not built (make)")
    WORLD = World("vault_client", services=("vault", "github")).start()


def tearDownModule():
    if WORLD:
        WORLD.stop()


def emu(path, body=None):
    url = WORLD.env["SECRETSYNC_TEST_VAULT_URL"] + path
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def unescape(msg):
    return msg.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")


class Get:
    def __init__(self, proc, out_path, env_path, elapsed):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.elapsed = elapsed
        self.outputs = ghfile_parse.parse_file(out_path)
        self.env = ghfile_parse.parse_file(env_path)
        self.lines = proc.stdout.splitlines()
        self.masks = [unescape(ln[len("::add-mask::"):]) for ln in self.lines
                      if ln.startswith("::add-mask::")]

    def __repr__(self):
        return (f"rc={self.rc}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}\n"
                f"outputs: {len(self.outputs)}")


def get(args, env=None, files=True):
    """Run secretsync with args; env adds to the world's (None drops a key)."""
    extra = {k: v for k, v in (env or {}).items() if v is not None}
    drop = [k for k, v in (env or {}).items() if v is None]
    tmp = tempfile.mkdtemp(prefix="get-test-")
    out_path = os.path.join(tmp, "output")
    env_path = os.path.join(tmp, "env")
    if files:
        extra.setdefault("GITHUB_OUTPUT", out_path)
        extra.setdefault("GITHUB_ENV", env_path)
        for p in (out_path, env_path):
            open(p, "w").close()
    e = WORLD.binary_env(extra, drop=drop)
    try:
        t0 = time.monotonic()
        p = subprocess.run([BIN] + args, env=e, capture_output=True, text=True, timeout=60,
                           cwd=tmp)
        return Get(p, out_path, env_path, time.monotonic() - t0)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def compact(v):
    return v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))


class GetTest(unittest.TestCase):
    def setUp(self):
        emu("/_emu/reset", {})
        WORLD.clear_faults()
        WORLD.control("DELETE", "/latency")
        WORLD.clear_log()

    def ok(self, r):
        self.assertEqual(r.rc, 0, r)
        return r

    def assert_masked_first(self, r):
        """Every ::add-mask:: line comes before any other line of stdout, and
        every value written (each of its lines too) was masked."""
        seen_other = False
        for ln in r.lines:
            if ln.startswith("::add-mask::"):
                self.assertFalse(seen_other, f"add-mask after other output:\n{r.stdout}")
            else:
                seen_other = True
        for _, value in r.outputs + r.env:
            if len(value) >= 4:
                self.assertIn(value, r.masks)
            for line in value.split("\n"):
                if len(line.strip()) >= 4 and line.strip() not in ("true", "false", "null"):
                    self.assertIn(line, r.masks)


class TestGet(GetTest):
    def test_keys_names_and_whole_secrets(self):
        r = self.ok(get(["get", "vault:kv/team/app/db#password", "vault:kv/team/app/db#host=DB_HOST",
                         "vault:kv/team/app/api", "vault:kv/team/web/cfg#nested.inner",
                         "vault:legacy/old/cfg#user", "vault:kv/team/app/api#multi",
                         "vault:kv/team/app/db#port"],
                        {"VAULT_TOKEN": READER}))
        want = [("password", KV["team/app/db"]["password"]),
                ("DB_HOST", KV["team/app/db"]["host"]),
                ("api", compact(KV["team/app/api"])),
                ("nested.inner", KV["team/web/cfg"]["nested"]["inner"]),
                ("user", LEGACY["old/cfg"]["user"]),
                ("multi", KV["team/app/api"]["multi"]),
                ("port", "5432")]
        self.assertEqual(r.outputs, want)
        self.assertEqual(json.loads(dict(r.outputs)["api"]), KV["team/app/api"])
        self.assertEqual(r.env, [])  # no --export-env
        self.assertIn("vault:kv/team/app/db#host=DB_HOST -> DB_HOST", r.stdout)
        # one read per secret, however many specs name it
        self.assertEqual(emu("/_emu/state")["requests"]["GET kv/data"], 3)

    def test_export_env(self):
        r = self.ok(get(["get", "--export-env", "vault:kv/team/app/db#password",
                         "vault:kv/team/app/db#host=db_host", "vault:kv/top"],
                        {"VAULT_TOKEN": READER}))
        self.assertEqual(r.env, [("PASSWORD", KV["team/app/db"]["password"]),
                                 ("db_host", KV["team/app/db"]["host"]),
                                 ("TOP", compact(KV["top"]))])
        self.assertEqual([k for k, _ in r.outputs], ["password", "db_host", "top"])
        self.assertIn("-> password, $PASSWORD", r.stdout)

    def test_add_mask_precedes_everything(self):
        r = self.ok(get(["get", "--export-env", "vault:kv/team/app/api#multi=M",
                         "vault:kv/team/app/api", "vault:kv/team/app/db#password"],
                        dict(APPROLE, GITHUB_ACTIONS="true")))
        self.assert_masked_first(r)
        self.assertIn(CI["secret_id"], r.masks)
        self.assertTrue(any(m.startswith("hvs.") for m in r.masks))  # the login token
        self.assertIn("SV-line-one-77ab", r.masks)
        self.assertIn("SV-line-two-88cd", r.masks)

    def test_approle_token_revoked(self):
        r = self.ok(get(["get", "vault:kv/top#k"], APPROLE))
        self.assertEqual(r.outputs, [("k", KV["top"]["k"])])
        st = emu("/_emu/state")
        self.assertEqual(st["revoked"], 1)
        self.assertEqual(st["requests"]["POST auth/token/revoke-self"], 1)
        self.assertFalse([t for t in st["tokens"] if t["via"].startswith("auth/approle")])

    def test_missing_secret(self):
        r = get(["get", "vault:kv/top#k", "vault:kv/team/app/nope#x"], APPROLE)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("vault: kv/team/app/nope: no such secret", r.stderr)
        self.assertEqual(r.outputs, [])  # nothing half-written
        st = emu("/_emu/state")
        self.assertEqual(st["revoked"], 1)  # revoked on failure too
        self.assertFalse([t for t in st["tokens"] if t["via"].startswith("auth/approle")])

    def test_missing_key(self):
        r = get(["get", "vault:kv/team/app/db#nokey"], {"VAULT_TOKEN": READER})
        self.assertEqual(r.rc, 1, r)
        self.assertIn("get: vault:kv/team/app/db#nokey: the secret has no key 'nokey' "
                      "(its keys: password, host, port)", r.stderr)
        for v in ("SV-db-password-a91f3c", "db.internal.example", "5432"):
            self.assertNotIn(v, r.stderr + r.stdout.replace("::add-mask::" + v, ""))
        self.assertEqual(r.outputs, [])

    def test_denied_and_missing_mount(self):
        r = get(["get", "vault:kv/denied/secret#x", "vault:nosuch/a#b"], {"VAULT_TOKEN": READER})
        self.assertEqual(r.rc, 1, r)
        self.assertIn('policy needs "read" on kv/data/denied/secret', r.stderr)
        self.assertIn("vault: mount 'nosuch' not found", r.stderr)

    def test_jwt(self):
        r = self.ok(get(["get", "vault:kv/team/app/db#password"],
                        {"VAULT_ROLE": "ci", "VAULT_JWT_AUDIENCE": "vault",
                         "GITHUB_ACTIONS": "true"}))
        self.assertEqual(r.outputs, [("password", KV["team/app/db"]["password"])])
        self.assert_masked_first(r)
        self.assertTrue(any(m.startswith("eyJ") for m in r.masks))  # the OIDC JWT
        self.assertEqual(emu("/_emu/state")["revoked"], 1)

    def test_action_mode(self):
        secrets = ("vault:kv/team/app/db#password\n"
                   "  vault:kv/team/app/db#host=DB_HOST  \n"
                   "\n"
                   "vault:legacy/old/deep/x#y\n")
        r = self.ok(get([], dict(APPROLE, GITHUB_ACTIONS="true", INPUT_COMMAND="get",
                                 INPUT_SECRETS=secrets, **{"INPUT_EXPORT-ENV": "true"})))
        want = [("password", KV["team/app/db"]["password"]),
                ("DB_HOST", KV["team/app/db"]["host"]), ("y", LEGACY["old/deep/x"]["y"])]
        self.assertEqual(r.outputs, want)
        self.assertEqual(r.env, [("PASSWORD", want[0][1]), ("DB_HOST", want[1][1]),
                                 ("Y", want[2][1])])
        self.assert_masked_first(r)
        # the address from the action's input
        r = self.ok(get([], {"VAULT_TOKEN": READER, "GITHUB_ACTIONS": "true",
                             "INPUT_COMMAND": "get", "INPUT_SECRETS": "vault:kv/top#k",
                             "VAULT_ADDR": None, "INPUT_VAULT-ADDR": WORLD.env["VAULT_ADDR"]}))
        self.assertEqual(r.outputs, [("k", KV["top"]["k"])])
        # errors are workflow commands, and name no value
        r = get([], {"VAULT_TOKEN": READER, "GITHUB_ACTIONS": "true", "INPUT_COMMAND": "get",
                     "INPUT_SECRETS": "vault:kv/team/app/db#nope"})
        self.assertEqual(r.rc, 1, r)
        self.assertIn("::error::get: vault:kv/team/app/db#nope: the secret has no key 'nope'",
                      r.stderr + r.stdout)

    def test_bad_specs(self):
        for spec in ("vault:kv", "vault:/x", "vault:kv/x#", "kv/x", "vault:kv/a/b=bad name"):
            r = get(["get", spec], {"VAULT_TOKEN": READER})
            self.assertEqual(r.rc, 64, (spec, r))
        self.assertEqual(emu("/_emu/state")["requests_total"], 0)

    def test_without_github_output(self):
        r = get(["get", "vault:kv/top#k"], {"VAULT_TOKEN": READER}, files=False)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("GITHUB_OUTPUT is not set", r.stderr)
        self.assertNotIn(KV["top"]["k"], r.stdout + r.stderr)

    def test_reads_concurrently(self):
        specs = [f"vault:kv/bulk/s{i:02d}#v=S{i:02d}" for i in range(1, 21)]
        WORLD.latency("vault", 100)
        r = self.ok(get(["get"] + specs, APPROLE))
        self.assertEqual(r.outputs, [(f"S{i:02d}", KV[f"bulk/s{i:02d}"]["v"])
                                     for i in range(1, 21)])
        reads = [e for e in WORLD.log(service="vault") if e["path"].startswith("/v1/kv/data/")]
        self.assertEqual(len(reads), 20)
        # the proxy held 16 of them at once (its log: start and duration)
        self.assertGreaterEqual(max_overlap(reads), 16)


def max_overlap(entries):
    ev = []
    for e in entries:
        t = datetime.datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
        ev += [(t, 1), (t + e["duration_ms"] / 1000.0, -1)]
    ev.sort()
    cur = best = 0
    for _, d in ev:
        cur += d
        best = max(best, cur)
    return best


class TestLeaks(GetTest):
    SECRETS = None

    @classmethod
    def setUpClass(cls):
        vals = [READER, CI["role_id"], CI["secret_id"],
                WORLD.env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]]
        for data in list(KV.values()) + list(LEGACY.values()):
            for v in data.values():
                if isinstance(v, str):
                    vals += [v] + v.split("\n")
        cls.SECRETS = [v for v in vals if len(v) >= 4]

    def search(self, text):
        for s in self.SECRETS:
            self.assertNotIn(s, text)
        self.assertNotRegex(text, r"hvs\.[A-Za-z0-9]{8}")
        self.assertNotRegex(text, r"eyJ[A-Za-z0-9_-]{10,}")

    def test_debug_text_mode(self):
        specs = ["get", "--export-env", "vault:kv/team/app/db#password", "vault:kv/team/app/api",
                 "vault:legacy/old/cfg"]
        for env in (APPROLE, {"VAULT_TOKEN": READER},
                    {"VAULT_ROLE": "ci", "VAULT_JWT_AUDIENCE": "vault"}):
            WORLD.fault("vault", "vault_error", count=1, status=503,
                        path_regex=r"^/v1/kv/data/team/app/api$")
            r = self.ok(get(specs, dict(env, SECRETSYNC_LOG_LEVEL="debug",
                                        SECRETSYNC_HTTP_BACKOFF_MS="10"), files=False))
            self.assertIn("debug: http: >", r.stderr)
            self.assertIn("retrying vault read after HTTP 503", r.stderr)
            self.assertEqual(r.masks, [])
            self.search(r.stdout + r.stderr)

    def test_debug_github_mode(self):
        r = self.ok(get(["get", "vault:kv/team/app/api", "vault:kv/team/web/cfg"],
                        dict(APPROLE, SECRETSYNC_LOG_LEVEL="debug", GITHUB_ACTIONS="true")))
        self.assert_masked_first(r)
        # outside the add-mask lines nothing shows a secret
        rest = "\n".join(ln for ln in r.lines if not ln.startswith("::add-mask::"))
        self.search(rest + r.stderr)

    def test_failure_messages(self):
        r = get(["get", "vault:kv/team/app/db#nope", "vault:kv/denied/secret"],
                dict(APPROLE, SECRETSYNC_LOG_LEVEL="debug"))
        self.assertEqual(r.rc, 1, r)
        self.search(r.stderr + "\n".join(ln for ln in r.lines
                                         if not ln.startswith("::add-mask::")))


if __name__ == "__main__":
    unittest.main()
