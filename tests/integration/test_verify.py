"""`secretsync verify` (SPEC §9) end to end against the test world.

One world (fixture e2e.json) for the module; the binary and the helpers are
those of test_pipeline_e2e (Harness). Each test has its own Vault folder and
AWS prefix (E2E_ID / E2E_PATH). Covers a healthy setup (every check PASS,
exit 0, no mutating request), broken Vault auth, a wrong AWS key, an
unreadable merge store, drift (exit 1; --allow-drift exit 0), the JSON
shape, --output github, the step summary, --status, and an invalid config.

    python3 tests/integration/run.py test_verify
"""
import json
import os
import re
import shutil
import tempfile
import unittest

from world_fixture import ROOT, World
import test_pipeline_e2e as e2e

WORLD = None
SNAPSHOT = None
LINE = re.compile(r"^(PASS|FAIL)  (.+?)\s+(\d+\.\d\d)s  (.*)$")


def setUpModule():
    global WORLD, SNAPSHOT
    SNAPSHOT = e2e.snapshot_binary()
    WORLD = World("e2e").start()


def tearDownModule():
    if WORLD:
        WORLD.stop()
    if SNAPSHOT:
        shutil.rmtree(SNAPSHOT[0], ignore_errors=True)


def checks_of(stdout):
    """[(PASS|FAIL, name, reason)] of the text output."""
    out = []
    for ln in stdout.splitlines():
        m = LINE.match(ln)
        if m:
            out.append((m.group(1), m.group(2), m.group(4)))
    return out


class Verify(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = e2e.Harness(WORLD, SNAPSHOT[1])

    def setUp(self):
        name = self.id().split(".")[-1].replace("test_", "")
        self.uid = "v" + re.sub(r"[^a-z0-9]", "", name.lower())[:23]
        self.env = {"E2E_ID": self.uid, "E2E_PATH": self.uid}
        self.tmp = tempfile.mkdtemp(prefix="secretsync-verify-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def cfg(self, name):
        return ["-c", os.path.join(e2e.CONFIGS, name + ".yaml")]

    def synced(self, config="single", data=None):
        """Vault data for this test, synced: verify's healthy starting point."""
        self.h.vault_put(f"{self.uid}/db", data or {"password": "pw-verify-1", "host": "h1"})
        r = self.h.run(["pipeline"] + self.cfg(config), env=self.env)
        self.assertEqual(r.rc, 0, r)

    def verify(self, *args, env=None, config="single"):
        return self.h.run(["verify"] + list(args) + self.cfg(config),
                          env=dict(self.env, **(env or {})))

    def test_healthy(self):
        self.synced()
        WORLD.clear_log()
        r = self.verify()
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(self.h.mutating(), [], "verify wrote something")
        checks = checks_of(r.stdout)
        self.assertTrue(checks, r)
        self.assertEqual([c for c in checks if c[0] != "PASS"], [], r)
        names = [c[1] for c in checks]
        want = ["config valid", "aws: base identity",
                "aws: target staging assumes arn:aws:iam::111111111111:role/secretsync",
                "aws: target prod assumes arn:aws:iam::222222222222:role/secretsync",
                "vault: auth", "vault: source src (kv) readable",
                f"merge store: s3://secretsync-merged/bundles/{self.uid}/staging.json readable",
                "secrets manager: target staging (us-east-1) listable",
                "secrets manager: target prod (us-east-1) listable", "drift"]
        self.assertEqual(names, want)
        reasons = dict((c[1], c[2]) for c in checks)
        self.assertIn(WORLD.env["SECRETSYNC_TEST_BASE_USER_ARN"], reasons["aws: base identity"])
        self.assertIn("none", reasons["drift"])
        self.assertIn("verify: 10 passed, 0 failed", r.stdout)
        e2e.assert_no_values(self, ["pw-verify-1"], r.stdout, r.stderr)

    def test_healthy_two_sources_and_vault_store(self):
        self.h.vault_put(f"{self.uid}/db", {"password": "pw-verify-vs"})
        self.assertEqual(self.h.run(["pipeline"] + self.cfg("vault_store"), env=self.env).rc, 0)
        r = self.verify(config="vault_store")
        self.assertEqual(r.rc, 0, r)
        names = [c[1] for c in checks_of(r.stdout)]
        self.assertIn("merge store: vault mount merged readable", names)
        r = self.verify(config="first")
        # first.yaml's prefix (E2E_ID) was never synced: drift, the rest healthy.
        checks = checks_of(r.stdout)
        self.assertEqual(r.rc, 1, r)
        self.assertEqual([c[1] for c in checks if c[0] == "FAIL"], ["drift"])
        self.assertIn("vault: source shared (shared) readable", [c[1] for c in checks])
        self.assertIn("vault: source team (kv) readable", [c[1] for c in checks])

    def test_aws_source_and_base_account(self):
        base = self.h.aws("secretsmanager")
        base.create_secret(Name=f"src-{self.uid}/cfg", SecretString=json.dumps({"k": "aws-v-1"}))
        self.h.vault_put(f"{self.uid}/db", {"password": "pw-verify-aws"})
        self.assertEqual(self.h.run(["pipeline"] + self.cfg("aws_source"), env=self.env).rc, 0)
        r = self.verify(config="aws_source")
        self.assertEqual(r.rc, 0, r)
        checks = checks_of(r.stdout)
        self.assertEqual([c for c in checks if c[0] != "PASS"], [])
        names = [c[1] for c in checks]
        self.assertIn(f"aws: source fromaws (us-east-1, src-{self.uid}/) listable", names)
        self.assertIn("secrets manager: target sandbox (us-east-1) listable", names)
        self.assertFalse([n for n in names if n.startswith("aws: target sandbox")])
        e2e.assert_no_values(self, ["aws-v-1", "pw-verify-aws"], r.stdout, r.stderr)

    def test_tokens_revoked(self):
        self.synced()
        before = len(self.h.vault_state()["tokens"])
        r = self.verify()
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(len(self.h.vault_state()["tokens"]), before, "a Vault token left alive")
        self.assertEqual(len([e for e in WORLD.log(service="vault")
                              if e["path"].endswith("/revoke-self")]) > 0, True)

    def test_wrong_vault_secret_id(self):
        self.synced()
        r = self.verify(env={"VAULT_SECRET_ID": "wrong-secret-id-123"})
        self.assertEqual(r.rc, 1, r)
        checks = {c[1]: c for c in checks_of(r.stdout)}
        self.assertEqual(checks["vault: auth"][0], "FAIL", r)
        self.assertIn("approle", checks["vault: auth"][2])
        self.assertEqual(checks["aws: base identity"][0], "PASS")
        self.assertEqual(checks["drift"][0], "FAIL")
        self.assertNotIn("wrong-secret-id-123", r.stdout + r.stderr)

    def test_wrong_aws_key(self):
        self.synced()
        r = self.verify(env={"AWS_SECRET_ACCESS_KEY": "not-the-right-key-0123456789abcdefghij"})
        self.assertEqual(r.rc, 1, r)
        checks = {c[1]: c for c in checks_of(r.stdout)}
        self.assertEqual(checks["aws: base identity"][0], "FAIL", r)
        self.assertRegex(checks["aws: base identity"][2], r"(?i)signature")
        self.assertEqual(checks["vault: auth"][0], "PASS")
        self.assertNotIn("not-the-right-key", r.stdout + r.stderr)

    def test_unreadable_merge_store(self):
        self.synced()
        r = self.verify(env={"E2E_BUCKET": "no-such-bucket-e2e"})
        self.assertEqual(r.rc, 1, r)
        checks = {c[1]: c for c in checks_of(r.stdout)}
        name = f"merge store: s3://no-such-bucket-e2e/bundles/{self.uid}/staging.json readable"
        self.assertEqual(checks[name][0], "FAIL", r)
        self.assertTrue(checks[name][2])

    def test_drift(self):
        self.synced()
        self.h.vault_put(f"{self.uid}/db", {"password": "pw-verify-2", "host": "h1"})
        WORLD.clear_log()
        r = self.verify()
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(self.h.mutating(), [])
        checks = {c[1]: c for c in checks_of(r.stdout)}
        self.assertEqual(checks["drift"][0], "FAIL")
        self.assertIn("0 to create, 2 to update, 0 to delete", checks["drift"][2])
        self.assertEqual([c for c in checks.values() if c[0] == "FAIL"], [checks["drift"]])
        self.assertIn("password changed", r.stdout)
        e2e.assert_no_values(self, ["pw-verify-1", "pw-verify-2"], r.stdout, r.stderr)
        a = self.verify("--allow-drift")
        self.assertEqual(a.rc, 0, a)
        checks = {c[1]: c for c in checks_of(a.stdout)}
        self.assertEqual(checks["drift"][0], "PASS")
        self.assertIn("allowed by --allow-drift", checks["drift"][2])

    def test_json_shape(self):
        self.synced()
        self.h.vault_put(f"{self.uid}/db", {"password": "pw-verify-3", "host": "h1"})
        r = self.verify("--output", "json")
        self.assertEqual(r.rc, 1, r)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["version"], 1)
        self.assertEqual(doc["command"], "verify")
        self.assertIs(doc["ok"], False)
        self.assertEqual(len(doc["checks"]), 10)
        for c in doc["checks"]:
            self.assertEqual(sorted(c), ["name", "reason", "seconds", "status"])
            self.assertIn(c["status"], ("pass", "fail"))
            self.assertIsInstance(c["seconds"], (int, float))
            self.assertGreaterEqual(c["seconds"], 0)
        self.assertEqual([c["name"] for c in doc["checks"] if c["status"] == "fail"], ["drift"])
        e2e.check_report(self, doc["plan"], "verify", True)
        self.assertEqual(doc["plan"]["counts"]["update"], 2)
        e2e.assert_no_values(self, ["pw-verify-1", "pw-verify-3"], r.stdout, r.stderr)
        ok = self.verify("--output", "json", "--allow-drift")
        self.assertEqual(ok.rc, 0, ok)
        self.assertIs(json.loads(ok.stdout)["ok"], True)

    def test_github_output_and_summary(self):
        self.synced()
        summary = os.path.join(self.tmp, "summary.md")
        out = os.path.join(self.tmp, "output")
        r = self.verify(env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary,
                             "GITHUB_OUTPUT": out, "VAULT_SECRET_ID": "wrong-secret-id-456"})
        self.assertEqual(r.rc, 1, r)
        lines = r.stdout.splitlines()
        first_other = next(i for i, ln in enumerate(lines) if not ln.startswith("::add-mask::"))
        self.assertFalse([ln for ln in lines[first_other:] if ln.startswith("::add-mask::")])
        self.assertIn("::group::secretsync verify", lines)
        errors = [e2e.unescape(ln.replace("%3A", ":").replace("%2C", ","))
                  for ln in lines if ln.startswith("::error")]
        self.assertTrue(any(e.startswith("::error title=secretsync verify: vault: auth::")
                            and "approle" in e for e in errors), errors)
        md = open(summary).read()
        self.assertIn("### secretsync verify: failed", md)
        self.assertIn("| check | result | time | reason |", md)
        self.assertRegex(md, r"\| vault: auth \| \*\*FAIL\*\* \| \d+\.\d\ds \| .*approle")
        self.assertRegex(md, r"\| aws: base identity \| PASS \|")
        # Masked first (the runner hides it), never printed otherwise.
        self.assertIn("::add-mask::wrong-secret-id-456", lines[:first_other])
        self.assertNotIn("wrong-secret-id-456", md + "\n".join(lines[first_other:]) + r.stderr)
        # Healthy: the summary says so.
        open(summary, "w").close()
        r = self.verify(env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary})
        self.assertEqual(r.rc, 0, r)
        self.assertIn("### secretsync verify: healthy", open(summary).read())

    def test_status(self):
        self.synced()
        sha = "ab" * 20
        env = {"GITHUB_SHA": sha, "GITHUB_EVENT_NAME": "schedule"}
        r = self.verify("--status", "--status-context", "verify/e2e", env=env)
        self.assertEqual(r.rc, 0, r)
        st = [s for s in self.h.github_state()["statuses"].get(sha, [])
              if s["context"] == "verify/e2e"]
        self.assertEqual([s["state"] for s in st], ["success", "pending"], st)
        self.assertLessEqual(len(st[0]["description"]), 140)
        self.assertIn("10 of 10 checks passed", st[0]["description"])
        self.h.vault_put(f"{self.uid}/db", {"password": "pw-verify-4"})
        r = self.verify("--status", "--status-context", "verify/e2e", env=env)
        self.assertEqual(r.rc, 1, r)
        st = [s for s in self.h.github_state()["statuses"].get(sha, [])
              if s["context"] == "verify/e2e"]
        self.assertEqual(st[0]["state"], "failure")

    def test_invalid_config(self):
        bad = os.path.join(self.tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write("vault:\n  adress: x\ntargets: {}\n")
        r = self.h.run(["verify", "-c", bad], env=self.env)
        self.assertEqual(r.rc, 78, r)
        self.assertIn("bad.yaml:2:3", r.stderr)
        checks = checks_of(r.stdout)
        self.assertEqual([(c[0], c[1]) for c in checks], [("FAIL", "config valid")])


if __name__ == "__main__":
    unittest.main()
