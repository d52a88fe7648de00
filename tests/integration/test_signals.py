"""SIGTERM / SIGINT in the middle of a run.

The fault proxy adds latency so that a run is mid-flight (writes to
Secrets Manager one at a time, or Vault reads, or the ID-token request),
then the test sends the signal and checks that the binary

* stops within a couple of seconds with exit code 1 and says it was
  interrupted;
* revokes its Vault login token (the emulator's /_emu/state has no live
  token left from the run);
* reports what it applied: the targets it was working on are marked
  failed, the report's counts are the changes made (checked against AWS
  with boto3, allowing for the one request that was in flight), and
  --output json is still a valid report;
* sends nothing new after the signal but the revocation, and a later
  run converges (one version per secret: no duplicate from the
  interrupted run);
* dies at once on a second signal.

SECRETSYNC_BIN picks the binary (default build/secretsync).

    python3 tests/integration/run.py test_signals
"""
import calendar
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.request

from world_fixture import ROOT, World

BIN = os.environ.get("SECRETSYNC_BIN", os.path.join(ROOT, "build", "secretsync"))
CONFIG = os.path.join("tests", "integration", "e2e_configs", "signals.yaml")
ACCOUNTS = {"staging": "111111111111", "prod": "222222222222"}
N = 40                  # secrets per target: more than one window of writes
STOP_WITHIN = 2.5       # seconds from the signal to the exit
WAIT = 30               # seconds any wait may take before the test fails
WORLD = None
SNAPSHOT = None


def setUpModule():
    global WORLD, SNAPSHOT
    if not os.access(BIN, os.X_OK):
        raise unittest.SkipTest(f"{BIN} is not built (make)")
    d = tempfile.mkdtemp(prefix="secretsync-bin-")
    path = os.path.join(d, "secretsync")
    shutil.copy2(BIN, path)
    SNAPSHOT = (d, path)
    WORLD = World("e2e").start()


def tearDownModule():
    if WORLD:
        WORLD.stop()
    if SNAPSHOT:
        shutil.rmtree(SNAPSHOT[0], ignore_errors=True)


def emu(var, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(WORLD.env[var] + path, data=data,
                                 method="POST" if data is not None else "GET",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        raw = r.read()
    return json.loads(raw) if raw else None


def live_tokens():
    st = emu("SECRETSYNC_TEST_VAULT_URL", "/_emu/state")
    return {t["accessor"] for t in st["tokens"] if t["via"].startswith("auth/approle")}


class Proc:
    """The binary running in the background."""

    def __init__(self, args, env, tmp):
        self.args = args
        self.out_path = os.path.join(tmp, "stdout")
        self.err_path = os.path.join(tmp, "stderr")
        self.out = open(self.out_path, "w")
        self.err = open(self.err_path, "w")
        self.p = subprocess.Popen([SNAPSHOT[1]] + args, cwd=ROOT, env=env, stdout=self.out,
                                  stderr=self.err, text=True)
        self.t0 = time.monotonic()
        self.signalled_at = None

    def signal(self, sig):
        if self.signalled_at is None:
            self.signalled_at = time.monotonic()
        self.p.send_signal(sig)

    def wait(self, timeout=WAIT):
        try:
            self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise AssertionError(f"secretsync {' '.join(self.args)} hung\n{self.texts()}")
        self.out.close()
        self.err.close()
        self.stopped_after = time.monotonic() - (self.signalled_at or self.t0)
        return self.p.returncode

    def texts(self):
        with open(self.out_path) as f:
            out = f.read()
        with open(self.err_path) as f:
            err = f.read()
        return f"--- stdout:\n{out}--- stderr:\n{err}"

    @property
    def stdout(self):
        with open(self.out_path) as f:
            return f.read()

    @property
    def stderr(self):
        with open(self.err_path) as f:
            return f.read()


class Signals(unittest.TestCase):
    seq = 0

    @classmethod
    def setUpClass(cls):
        import boto3
        from botocore.config import Config
        cls.sm = {}
        for account, who in ((ACCOUNTS["staging"], "E2E_AUDIT_STAGING"),
                             (ACCOUNTS["prod"], "E2E_AUDIT_PROD")):
            cls.sm[account] = boto3.client(
                "secretsmanager", endpoint_url=WORLD.env["SECRETSYNC_TEST_MOTO_URL"],
                region_name="us-east-1",
                aws_access_key_id=WORLD.env[who + "_ACCESS_KEY_ID"],
                aws_secret_access_key=WORLD.env[who + "_SECRET_ACCESS_KEY"],
                config=Config(retries={"max_attempts": 1}))

    def setUp(self):
        Signals.seq += 1
        self.uid = f"sig{Signals.seq:02d}{re.sub(r'[^a-z]', '', self.id().split('.')[-1])[5:15]}"
        self.tmp = tempfile.mkdtemp(prefix="secretsync-sig-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.addCleanup(WORLD.control, "DELETE", "/latency")
        self.addCleanup(WORLD.clear_faults)
        WORLD.control("DELETE", "/latency")
        WORLD.clear_faults()
        emu("SECRETSYNC_TEST_VAULT_URL", "/_emu/expire-tokens", {})
        self.values = {}
        for i in range(N):
            v = {"password": f"pw-{self.uid}-{i}-7c1e", "n": i}
            self.values[f"s{i}"] = v
            emu("SECRETSYNC_TEST_VAULT_URL", "/_emu/secret",
                {"namespace": "", "mount": "kv", "path": f"{self.uid}/s{i}", "data": v})
        self.prefix = f"app/{self.uid}/{self.uid}/"

    # -- helpers ----------------------------------------------------------------
    def env(self, **extra):
        e = {"E2E_ID": self.uid, "E2E_PATH": self.uid, "SECRETSYNC_HTTP_BACKOFF_MS": "5"}
        e.update(extra)
        return WORLD.binary_env(e)

    def start(self, args, **env):
        d = tempfile.mkdtemp(dir=self.tmp)
        return Proc(args, self.env(**env), d)

    def wait_for(self, what, pred, p):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if pred():
                return
            if p.p.poll() is not None:
                self.fail(f"the run ended before {what}\n{p.texts()}")
            time.sleep(0.02)
        self.fail(f"timed out waiting for {what}\n{p.texts()}")

    def ops(self, service=None, operation=None, status=None):
        return [e for e in WORLD.log(service=service)
                if (operation is None or e.get("operation") == operation)
                and (status is None or e.get("status") == status)]

    def in_aws(self, account):
        out, kw = {}, {"Filters": [{"Key": "name", "Values": [self.prefix]}]}
        while True:
            page = self.sm[account].list_secrets(**kw)
            for s in page["SecretList"]:
                if s["Name"].startswith(self.prefix):
                    out[s["Name"]] = s
            if not page.get("NextToken"):
                return out
            kw["NextToken"] = page["NextToken"]

    def versions(self, account, name):
        return self.sm[account].list_secret_version_ids(SecretId=name,
                                                        IncludeDeprecated=True)["Versions"]

    def assert_stopped(self, p, rc):
        self.assertEqual(rc, 1, f"exit code after the signal\n{p.texts()}")
        self.assertLess(p.stopped_after, STOP_WITHIN,
                        f"took {p.stopped_after:.2f}s to stop\n{p.texts()}")
        self.assertIn("interrupted by a signal", p.stderr, p.texts())
        self.assertNotRegex(p.stderr, r"(AddressSanitizer|LeakSanitizer|runtime error:)",
                            p.texts())
        for v in self.values.values():
            self.assertNotIn(v["password"], p.stdout + p.stderr, "a value was printed")

    def assert_revoked(self, p, before):
        self.assertEqual(live_tokens() - before, set(), f"the Vault token is alive\n{p.texts()}")
        revokes = self.ops("vault", "POST /v1/auth/token/revoke-self")
        self.assertEqual([e["status"] for e in revokes], [204], f"{revokes}\n{p.texts()}")

    def converge(self):
        """A run without latency makes AWS whole; one version each."""
        WORLD.control("DELETE", "/latency")
        p = self.start(["pipeline", "-c", CONFIG])
        rc = p.wait()
        self.assertEqual(rc, 0, p.texts())
        for target, account in ACCOUNTS.items():
            got = self.in_aws(account)
            self.assertEqual(sorted(got), sorted(self.prefix + k for k in self.values), target)
            for name in got:
                value = json.loads(self.sm[account].get_secret_value(SecretId=name)
                                   ["SecretString"])
                self.assertEqual(value, self.values[name[len(self.prefix):]])
                self.assertEqual(len(self.versions(account, name)), 1,
                                 f"{name} in {target}: a duplicate version")

    def sync_interrupted(self, sig, output):
        """Writes one at a time, slowed: signal after three landed."""
        WORLD.latency("secretsmanager", 250)
        before = live_tokens()
        WORLD.clear_log()
        args = ["pipeline", "--parallel", "1", "-c", CONFIG] + (["--output", output]
                                                                 if output else [])
        p = self.start(args)
        self.wait_for("three secrets created",
                      lambda: len(self.ops("secretsmanager", "CreateSecret", 200)) >= 3, p)
        p.signal(sig)
        signalled = time.time()
        rc = p.wait()
        self.assert_stopped(p, rc)
        self.assert_revoked(p, before)
        # Nothing new went out after the signal but the revocation (the
        # request in flight may still land: the proxy was holding it).
        time.sleep(0.4)
        log = WORLD.log()
        late = [e for e in log if e["service"] != "vault" and
                calendar.timegm(time.strptime(e["ts"][:19], "%Y-%m-%dT%H:%M:%S")) >
                signalled + 1.0]
        self.assertEqual(late, [], f"requests after the signal\n{p.texts()}")
        landed = {t: set(self.in_aws(a)) for t, a in ACCOUNTS.items()}
        creates = len(self.ops("secretsmanager", "CreateSecret"))
        self.assertLessEqual(sum(len(x) for x in landed.values()), creates)
        self.assertLess(creates, 2 * N, "the run was not interrupted midway")
        return p, landed

    # -- the tests ----------------------------------------------------------------
    def test_sigterm_mid_sync_text(self):
        p, landed = self.sync_interrupted(signal.SIGTERM, None)
        out = p.stdout
        # Each target is reported, the interrupted ones as failed, with
        # the creates that were made (not the plan).
        reported = {}
        for target in ACCOUNTS:
            m = re.search(rf"(?m)^target {target} \(account \d+, [a-z0-9-]+\): (.*)$", out)
            self.assertIsNotNone(m, f"target {target} not reported\n{p.texts()}")
            names = set(re.findall(rf"(?m)^  \+ ({re.escape(self.prefix)}s\d+) create$",
                                   out.split(f"target {target} ", 1)[1].split("\ntarget ")[0]))
            reported[target] = names
            if len(landed[target]) < N:
                self.assertIn("failed", m.group(1), f"{target} not marked failed\n{p.texts()}")
                self.assertIn("interrupted by a signal", m.group(1), p.texts())
            # What the report says was created is in AWS; at most the one
            # request in flight landed without being reported.
            self.assertLessEqual(reported[target], landed[target], p.texts())
            self.assertLessEqual(len(landed[target] - reported[target]), 1, p.texts())
        total = sum(len(x) for x in reported.values())
        self.assertRegex(out, rf"(?m)^Result: {total} created, 0 updated, 0 deleted, "
                              rf"0 unchanged, [12] failed targets?\.$", p.texts())
        self.converge()

    def test_sigint_mid_sync_json(self):
        p, landed = self.sync_interrupted(signal.SIGINT, "json")
        doc = json.loads(p.stdout)
        self.assertEqual(doc["version"], 1)
        self.assertEqual(doc["command"], "pipeline")
        failed = 0
        for t in doc["targets"]:
            made = {c["aws_name"] for c in t["changes"] if c["action"] == "create"}
            self.assertLessEqual(made, landed[t["name"]], p.texts())
            self.assertLessEqual(len(landed[t["name"]] - made), 1, p.texts())
            self.assertEqual(t["counts"]["create"], len(made))
            if len(landed[t["name"]]) < N:
                self.assertEqual(t["status"], "failed", p.texts())
                self.assertIn("interrupted by a signal", t["error"])
            failed += t["status"] != "ok"
        self.assertEqual(doc["counts"]["failed"], failed)
        self.assertGreaterEqual(failed, 1)
        self.converge()

    def test_sigterm_while_reading_vault(self):
        """Mid-read: nothing is written at all, the token is revoked."""
        WORLD.latency("vault", 150)
        before = live_tokens()
        WORLD.clear_log()
        p = self.start(["pipeline", "--parallel", "1", "-c", CONFIG])
        self.wait_for("two Vault reads",
                      lambda: len([e for e in self.ops("vault")
                                   if e.get("operation", "").startswith("GET /v1/kv/data/")
                                   and e.get("status") == 200]) >= 2, p)
        p.signal(signal.SIGTERM)
        rc = p.wait()
        self.assert_stopped(p, rc)
        self.assert_revoked(p, before)
        self.assertEqual(WORLD.log(mutating=True), [], p.texts())
        for account in ACCOUNTS.values():
            self.assertEqual(self.in_aws(account), {})
        for target in ACCOUNTS:
            self.assertRegex(p.stdout, rf"(?m)^target {target} .*(failed|skipped)", p.texts())
        self.converge()

    def test_sigterm_plan(self):
        """A dry run stops the same way and writes nothing."""
        WORLD.latency("secretsmanager", 300)
        before = live_tokens()
        WORLD.clear_log()
        p = self.start(["plan", "--parallel", "1", "-c", CONFIG])
        self.wait_for("a ListSecrets", lambda: len(self.ops("secretsmanager", "ListSecrets",
                                                             200)) >= 1, p)
        p.signal(signal.SIGTERM)
        rc = p.wait()
        self.assert_stopped(p, rc)
        self.assert_revoked(p, before)
        self.assertEqual(WORLD.log(mutating=True), [], p.texts())

    def test_sigterm_credentials(self):
        """While the ID token is fetched: no credentials are exported."""
        WORLD.latency("github", 3000)
        outputs = os.path.join(self.tmp, "output")
        envfile = os.path.join(self.tmp, "env")
        for f in (outputs, envfile):
            open(f, "w").close()
        WORLD.clear_log()
        p = self.start(["credentials", "--role-to-assume",
                        WORLD.env["SECRETSYNC_TEST_WEB_IDENTITY_ROLE_ARN"],
                        "--aws-region", "us-east-1"],
                       GITHUB_OUTPUT=outputs, GITHUB_ENV=envfile)
        time.sleep(0.5)
        self.assertIsNone(p.p.poll(), p.texts())
        p.signal(signal.SIGTERM)
        rc = p.wait()
        self.assert_stopped(p, rc)
        for f in (outputs, envfile):
            with open(f) as fh:
                self.assertEqual(fh.read(), "", f"{f} written after the signal\n{p.texts()}")
        self.assertEqual(self.ops("sts"), [], p.texts())

    def second_signal(self, sig):
        """The first signal starts the clean-up (the revocation, slowed
        down here); a second one ends the process there and then."""
        WORLD.latency("secretsmanager", 250)
        WORLD.clear_log()
        p = self.start(["pipeline", "--parallel", "1", "-c", CONFIG])
        self.wait_for("a secret created",
                      lambda: len(self.ops("secretsmanager", "CreateSecret", 200)) >= 1, p)
        WORLD.latency("vault", 10000)  # the revocation will hang
        p.signal(sig)
        # The report is printed before the revocation: once it is out,
        # the process is in its clean-up, held by the slow Vault.
        self.wait_for("the report", lambda: "Result:" in p.stdout, p)
        time.sleep(0.3)
        self.assertIsNone(p.p.poll(), f"the clean-up did not wait for Vault\n{p.texts()}")
        t0 = time.monotonic()
        p.p.send_signal(sig)
        rc = p.wait(timeout=5)
        self.assertLess(time.monotonic() - t0, 0.5, p.texts())
        self.assertEqual(rc, -sig, p.texts())
        WORLD.control("DELETE", "/latency")

    def test_second_sigterm_kills_at_once(self):
        self.second_signal(signal.SIGTERM)

    def test_second_sigint_kills_at_once(self):
        self.second_signal(signal.SIGINT)


if __name__ == "__main__":
    unittest.main()
