"""`secretsync credentials` end to end against the test world (SPEC §2, §7, §8).

The GitHub emulator issues the OIDC token, the proxy verifies it and the
role's trust policy, moto (IAM enforced, least-privilege policies from
tests/emulators/policies/) answers STS. The GITHUB_ENV and GITHUB_OUTPUT
files are read with the runner's own parsing rules (tests/tools/ghfile_parse.py)
and the credentials they hold are tried with boto3. Every run is also checked
for leaks: the secret access key, the session token and the OIDC token may
appear on stdout/stderr only on "::add-mask::" lines.
"""
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
sys.path.insert(0, os.path.join(ROOT, "tests", "emulators"))

import ghfile_parse  # noqa: E402
from world_fixture import World  # noqa: E402

BIN = os.environ.get("SECRETSYNC_BIN", os.path.join(ROOT, "build", "secretsync"))
OIDC_VARS = ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
STATIC_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


@unittest.skipUnless(os.access(BIN, os.X_OK), "build/secretsync is not built (make)")
class CredentialsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.world = World("demo").start()
        cls.env = cls.world.env
        cls.web_role = cls.env["SECRETSYNC_TEST_WEB_IDENTITY_ROLE_ARN"]
        cls.staging_role = cls.env["SECRETSYNC_TEST_ROLE_ARN_STAGING"]
        cls.account = cls.env["SECRETSYNC_TEST_ACCOUNT_ID"]

    @classmethod
    def tearDownClass(cls):
        cls.world.stop()

    def setUp(self):
        self.world.clear_faults()
        self.world.clear_log()
        self.tmp = tempfile.mkdtemp(prefix="secretsync-cred-")

    def tearDown(self):
        import shutil
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- helpers -----------------------------------------------------------
    def actions_env(self, drop=(), **extra):
        """The world's env as a GitHub Actions step sees it."""
        env = self.world.binary_env(drop=drop)
        env["GITHUB_ACTIONS"] = "true"
        env["GITHUB_RUN_ID"] = "987654"
        env["GITHUB_ENV"] = os.path.join(self.tmp, "github_env")
        env["GITHUB_OUTPUT"] = os.path.join(self.tmp, "github_output")
        for k in ("GITHUB_ENV", "GITHUB_OUTPUT"):
            open(env[k], "w").close()
        env.update(extra)
        return env

    def run_bin(self, args, env, expect=None):
        p = subprocess.run([BIN] + args, env=env, capture_output=True, text=True, timeout=60)
        if expect is not None and p.returncode != expect:
            self.fail(f"exit {p.returncode}, want {expect}\nstdout:\n{p.stdout}\n"
                      f"stderr:\n{p.stderr}")
        return p

    @staticmethod
    def pairs(path):
        return dict(ghfile_parse.parse_file(path))

    def assert_no_leak(self, p, secrets):
        """Each secret appears only on ::add-mask:: lines (and at least once
        there when masks are announced)."""
        for name, value in secrets.items():
            if not value:
                continue
            for stream_name, text in (("stdout", p.stdout), ("stderr", p.stderr)):
                for line in text.splitlines():
                    if value in line and not line.startswith("::add-mask::"):
                        self.fail(f"{name} leaked on {stream_name}: {line[:80]}...")

    def masked(self, p, value):
        return f"::add-mask::{value}" in p.stdout.splitlines()

    def ops(self, service=None):
        return [e.get("operation") for e in self.world.log(service=service)]

    # -- OIDC ----------------------------------------------------------------
    def test_oidc_end_to_end(self):
        env = self.actions_env(drop=STATIC_KEYS)
        p = self.run_bin(["credentials", "--role-to-assume", self.web_role], env, expect=0)
        log = self.world.log()
        exported = self.pairs(env["GITHUB_ENV"])
        outputs = self.pairs(env["GITHUB_OUTPUT"])
        self.assertEqual(sorted(exported), ["AWS_ACCESS_KEY_ID", "AWS_DEFAULT_REGION",
                                            "AWS_REGION", "AWS_SECRET_ACCESS_KEY",
                                            "AWS_SESSION_TOKEN"])
        self.assertTrue(exported["AWS_ACCESS_KEY_ID"].startswith("ASIA"))
        self.assertEqual(exported["AWS_REGION"], "us-east-1")
        self.assertEqual(exported["AWS_DEFAULT_REGION"], "us-east-1")
        self.assertEqual(outputs, {"aws-account-id": self.account})
        # the exported credentials are the role's and they work
        sts = self.world.client("sts", access_key=exported["AWS_ACCESS_KEY_ID"],
                                secret_key=exported["AWS_SECRET_ACCESS_KEY"],
                                session_token=exported["AWS_SESSION_TOKEN"])
        ident = sts.get_caller_identity()
        self.assertEqual(ident["Account"], self.account)
        self.assertIn(":assumed-role/secretsync-github/secretsync-987654", ident["Arn"])
        # masked before anything else, and never printed otherwise
        secret, token = exported["AWS_SECRET_ACCESS_KEY"], exported["AWS_SESSION_TOKEN"]
        self.assertTrue(self.masked(p, secret))
        self.assertTrue(self.masked(p, token))
        self.assertTrue(self.masked(p, exported["AWS_ACCESS_KEY_ID"]))
        first = p.stdout.splitlines()[0]
        self.assertTrue(first.startswith("::add-mask::"), first)
        self.assert_no_leak(p, {"secret key": secret, "session token": token,
                                "request token": self.env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]})
        self.assertIn(f"(account {self.account})", p.stdout)
        # the requests: the token, the exchange (unsigned), the confirmation
        self.assertEqual([(e["service"], e["operation"]) for e in log],
                         [("github", "GET /_apis/oidc/token"),
                          ("sts", "AssumeRoleWithWebIdentity"),
                          ("sts", "GetCallerIdentity")])
        self.assertEqual(log[1]["resource"], self.web_role)
        self.assertFalse(any(e.get("mutating") for e in log))

    def test_output_credentials(self):
        env = self.actions_env(drop=STATIC_KEYS)
        p = self.run_bin(["credentials", "--role-to-assume", self.web_role,
                          "--output-credentials", "--role-session-name", "ci run/7",
                          "--role-duration-seconds", "1800"], env, expect=0)
        exported = self.pairs(env["GITHUB_ENV"])
        outputs = self.pairs(env["GITHUB_OUTPUT"])
        self.assertEqual(outputs["aws-account-id"], self.account)
        self.assertEqual(outputs["aws-access-key-id"], exported["AWS_ACCESS_KEY_ID"])
        self.assertEqual(outputs["aws-secret-access-key"], exported["AWS_SECRET_ACCESS_KEY"])
        self.assertEqual(outputs["aws-session-token"], exported["AWS_SESSION_TOKEN"])
        self.assertRegex(outputs["aws-expiration"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
        self.assertIn("/secretsync-github/ci-run-7 ", p.stdout)  # the sanitised session name
        self.assert_no_leak(p, {"secret key": exported["AWS_SECRET_ACCESS_KEY"],
                                "session token": exported["AWS_SESSION_TOKEN"]})

    def test_wrong_audience_shows_claims(self):
        env = self.actions_env(drop=STATIC_KEYS)
        p = self.run_bin(["credentials", "--role-to-assume", self.web_role,
                          "--audience", "not-sts"], env, expect=1)
        err = p.stdout + p.stderr
        self.assertIn(f"AssumeRoleWithWebIdentity into {self.web_role}", err)
        self.assertIn("InvalidIdentityToken", err)
        self.assertIn("sub=repo:acme/infra:pull_request", err)
        self.assertIn("aud=not-sts", err)
        self.assertIn("repository=acme/infra", err)
        self.assertIn("ref=refs/pull/7/merge", err)
        self.assertEqual(self.pairs(env["GITHUB_ENV"]), {})
        self.assertEqual(self.pairs(env["GITHUB_OUTPUT"]), {})
        # the JWT was announced as a mask, and is not in the error lines
        jwt_lines = [ln for ln in p.stdout.splitlines() if ln.startswith("::add-mask::eyJ")]
        self.assertEqual(len(jwt_lines), 1)
        self.assert_no_leak(p, {"jwt": jwt_lines[0][len("::add-mask::"):]})

    def test_trust_policy_refusal_names_role_and_claims(self):
        # the staging role trusts the base user and the GitHub role by ARN,
        # not the OIDC provider: AssumeRoleWithWebIdentity into it is denied
        env = self.actions_env(drop=STATIC_KEYS)
        p = self.run_bin(["credentials", "--role-to-assume", self.staging_role], env, expect=1)
        self.assertIn(f"AssumeRoleWithWebIdentity into {self.staging_role}", p.stderr)
        self.assertRegex(p.stderr, r"AccessDenied|InvalidIdentityToken")
        self.assertIn("sub=repo:acme/infra:pull_request", p.stderr)

    def test_no_id_token_variables(self):
        env = self.actions_env(drop=STATIC_KEYS + OIDC_VARS)
        p = self.run_bin(["credentials", "--role-to-assume", self.web_role], env, expect=1)
        self.assertIn("id-token: write", p.stderr)
        self.assertIn(self.web_role, p.stderr)
        self.assertEqual(self.world.log(), [])

    def test_request_token_refused(self):
        env = self.actions_env(drop=STATIC_KEYS, ACTIONS_ID_TOKEN_REQUEST_TOKEN="stale-token")
        p = self.run_bin(["credentials", "--role-to-assume", self.web_role], env, expect=1)
        self.assertIn("id-token: write", p.stderr)
        self.assertNotIn("sts", self.ops())

    def test_oidc_preferred_over_static_keys_with_role(self):
        env = self.actions_env()  # static keys present too
        self.run_bin(["credentials", "--role-to-assume", self.web_role], env, expect=0)
        self.assertIn("AssumeRoleWithWebIdentity", self.ops("sts"))
        self.assertNotIn("AssumeRole", self.ops("sts"))

    def test_throttling_retried(self):
        self.world.fault("sts", "aws_error", count=2, operation="AssumeRoleWithWebIdentity",
                         code="Throttling", message="Rate exceeded")
        env = self.actions_env(drop=STATIC_KEYS, SECRETSYNC_HTTP_BACKOFF_MS="5")
        self.run_bin(["credentials", "--role-to-assume", self.web_role], env, expect=0)
        self.assertEqual(self.ops("sts").count("AssumeRoleWithWebIdentity"), 3)
        self.assertTrue(self.pairs(env["GITHUB_ENV"])["AWS_ACCESS_KEY_ID"].startswith("ASIA"))

    # -- web identity token file ----------------------------------------------
    def _token_file(self, token):
        path = os.path.join(self.tmp, "token")
        with open(path, "w") as f:
            f.write(token + "\n")
        return path

    def test_web_identity_token_file(self):
        path = self._token_file(self.world.oidc_token())
        env = self.actions_env(drop=STATIC_KEYS + OIDC_VARS, AWS_WEB_IDENTITY_TOKEN_FILE=path,
                               AWS_ROLE_ARN=self.web_role)
        self.run_bin(["credentials"], env, expect=0)
        self.assertEqual(self.pairs(env["GITHUB_OUTPUT"])["aws-account-id"], self.account)
        self.assertEqual(self.ops("sts"), ["AssumeRoleWithWebIdentity", "GetCallerIdentity"])

    def test_expired_token(self):
        import jwtlib
        key = jwtlib.load_key(self.env["SECRETSYNC_TEST_JWT_KEY"])
        now = int(time.time())
        claims = {"iss": self.env["SECRETSYNC_TEST_OIDC_ISSUER"], "aud": "sts.amazonaws.com",
                  "sub": "repo:acme/infra:ref:refs/heads/main", "repository": "acme/infra",
                  "ref": "refs/heads/main", "environment": "prod",
                  "iat": now - 900, "nbf": now - 900, "exp": now - 600}
        token = jwtlib.sign(claims, key, kid=jwtlib.public_jwk(key)["kid"])
        path = self._token_file(token)
        env = self.actions_env(drop=STATIC_KEYS + OIDC_VARS, AWS_WEB_IDENTITY_TOKEN_FILE=path,
                               AWS_ROLE_ARN=self.web_role)
        p = self.run_bin(["credentials"], env, expect=1)
        self.assertIn("ExpiredToken", p.stderr)
        self.assertIn("has expired", p.stderr)
        self.assertIn("sub=repo:acme/infra:ref:refs/heads/main", p.stderr)
        self.assertIn("environment=prod", p.stderr)
        self.assertTrue(self.masked(p, token))
        self.assert_no_leak(p, {"token": token})

    # -- static keys -----------------------------------------------------------
    def test_static_env_keys(self):
        env = self.actions_env(drop=OIDC_VARS)
        p = self.run_bin(["credentials"], env, expect=0)
        exported = self.pairs(env["GITHUB_ENV"])
        self.assertEqual(exported["AWS_ACCESS_KEY_ID"], self.env["AWS_ACCESS_KEY_ID"])
        self.assertEqual(exported["AWS_SECRET_ACCESS_KEY"], self.env["AWS_SECRET_ACCESS_KEY"])
        self.assertNotIn("AWS_SESSION_TOKEN", exported)
        self.assertEqual(self.pairs(env["GITHUB_OUTPUT"]), {"aws-account-id": self.account})
        self.assertEqual(self.ops("sts"), ["GetCallerIdentity"])
        self.assertIn(self.env["SECRETSYNC_TEST_BASE_USER_ARN"], p.stdout)
        self.assert_no_leak(p, {"secret key": self.env["AWS_SECRET_ACCESS_KEY"]})

    def test_bad_session_token(self):
        # long-term keys with a session token that is not theirs: refused,
        # and the message says which credentials to check
        env = self.actions_env(drop=OIDC_VARS,
                               AWS_SESSION_TOKEN="stale-session-token-from-an-earlier-step")
        p = self.run_bin(["credentials"], env, expect=1)
        self.assertIn("sts: GetCallerIdentity (credentials from environment", p.stderr)
        self.assertIn("AWS_SESSION_TOKEN", p.stderr)
        self.assertEqual(self.pairs(env["GITHUB_ENV"]), {})
        self.assert_no_leak(p, {"token": "stale-session-token-from-an-earlier-step"})

    def test_static_keys_assume_target_role(self):
        env = self.actions_env(drop=OIDC_VARS)
        p = self.run_bin(["credentials", "--role-to-assume", self.staging_role,
                          "--output-credentials"], env, expect=0)
        outputs = self.pairs(env["GITHUB_OUTPUT"])
        self.assertEqual(outputs["aws-account-id"], "111111111111")
        self.assertEqual(self.ops("sts"), ["AssumeRole", "GetCallerIdentity"])
        log = self.world.log(service="sts")
        self.assertEqual(log[0]["principal"], self.env["SECRETSYNC_TEST_BASE_USER_ARN"])
        self.assertIn("arn:aws:sts::111111111111:assumed-role/secretsync/", p.stdout)
        sts = self.world.client("sts", access_key=outputs["aws-access-key-id"],
                                secret_key=outputs["aws-secret-access-key"],
                                session_token=outputs["aws-session-token"])
        self.assertEqual(sts.get_caller_identity()["Account"], "111111111111")
        self.assert_no_leak(p, {"secret key": outputs["aws-secret-access-key"],
                                "session token": outputs["aws-session-token"],
                                "base secret": self.env["AWS_SECRET_ACCESS_KEY"]})

    def test_assume_role_denied_names_action_and_role(self):
        env = self.actions_env(drop=OIDC_VARS)
        # the GitHub role trusts only the OIDC provider, not the base user
        p = self.run_bin(["credentials", "--role-to-assume", self.web_role], env, expect=1)
        self.assertIn(f"sts: AssumeRole into {self.web_role}", p.stderr)
        self.assertIn("AccessDenied", p.stderr)
        self.assertIn(f"sts:AssumeRole on {self.web_role}", p.stderr)
        self.assertEqual(self.pairs(env["GITHUB_ENV"]), {})

    def test_bad_secret_key(self):
        env = self.actions_env(drop=OIDC_VARS, AWS_SECRET_ACCESS_KEY="wrong-secret-key-0000")
        p = self.run_bin(["credentials"], env, expect=1)
        self.assertIn("GetCallerIdentity", p.stderr)
        self.assertIn("SignatureDoesNotMatch", p.stderr)
        self.assertIn("AWS_SECRET_ACCESS_KEY", p.stderr)
        self.assert_no_leak(p, {"secret key": "wrong-secret-key-0000"})

    # -- outside Actions, region, action mode ----------------------------------
    def test_outside_actions_prints_names_only(self):
        env = self.world.binary_env(drop=OIDC_VARS)
        p = self.run_bin(["credentials", "--role-to-assume", self.staging_role,
                          "--output-credentials"], env, expect=0)
        self.assertNotIn("::add-mask::", p.stdout)
        self.assertIn("GITHUB_ENV is not set", p.stdout)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                     "AWS_REGION", "AWS_DEFAULT_REGION", "aws-account-id"):
            self.assertIn(name, p.stdout)
        # no credential value at all: only the account and ARN
        self.assertNotIn("ASIA", p.stdout + p.stderr)
        self.assertNotIn(self.env["AWS_SECRET_ACCESS_KEY"], p.stdout + p.stderr)

    def test_debug_log_redacts(self):
        env = self.actions_env(drop=STATIC_KEYS, SECRETSYNC_LOG_LEVEL="debug")
        p = self.run_bin(["credentials", "--role-to-assume", self.web_role], env, expect=0)
        exported = self.pairs(env["GITHUB_ENV"])
        jwt = [ln for ln in p.stdout.splitlines() if ln.startswith("::add-mask::eyJ")]
        self.assertEqual(len(jwt), 1)
        self.assert_no_leak(p, {"secret key": exported["AWS_SECRET_ACCESS_KEY"],
                                "session token": exported["AWS_SESSION_TOKEN"],
                                "jwt": jwt[0][len("::add-mask::"):],
                                "request token": self.env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]})

    def test_region_sources(self):
        env = self.actions_env(drop=OIDC_VARS + ("AWS_REGION", "AWS_DEFAULT_REGION"))
        p = self.run_bin(["credentials"], env, expect=64)
        self.assertIn("no AWS region", p.stderr)
        self.assertIn("--aws-region", p.stderr)
        self.run_bin(["credentials", "--aws-region", "eu-west-1"], env, expect=0)
        self.assertEqual(self.pairs(env["GITHUB_ENV"])["AWS_REGION"], "eu-west-1")
        env["AWS_DEFAULT_REGION"] = "ap-south-1"
        open(env["GITHUB_ENV"], "w").close()
        self.run_bin(["credentials"], env, expect=0)
        self.assertEqual(self.pairs(env["GITHUB_ENV"])["AWS_DEFAULT_REGION"], "ap-south-1")
        p = self.run_bin(["credentials", "--aws-region", "mars-1"], env, expect=64)
        self.assertIn("not an AWS region", p.stderr)

    def test_action_mode_inputs(self):
        env = self.actions_env(drop=STATIC_KEYS)
        env.update({"INPUT_COMMAND": "credentials", "INPUT_ROLE-TO-ASSUME": self.web_role,
                    "INPUT_AWS-REGION": "us-west-2", "INPUT_OUTPUT-CREDENTIALS": "true",
                    "INPUT_ROLE-SESSION-NAME": "from-inputs"})
        p = subprocess.run([BIN], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        outputs = self.pairs(env["GITHUB_OUTPUT"])
        self.assertEqual(outputs["aws-account-id"], self.account)
        self.assertIn("aws-session-token", outputs)
        self.assertEqual(self.pairs(env["GITHUB_ENV"])["AWS_REGION"], "us-west-2")
        self.assertIn("/secretsync-github/from-inputs", p.stdout)


if __name__ == "__main__":
    unittest.main()
