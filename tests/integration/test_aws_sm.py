"""The Secrets Manager client against moto, through the test world's proxy.

build/tools/sm_tool (tests/tools/sm_tool.c) drives the client the way the
binary does (credentials, endpoint and region from the environment); boto3
checks what it did. The world runs moto with IAM on and the proxy's
resource-scoped policy checks, in a fixture written here: a target role in
account 111111111111 scoped to `app/`, and a second role there without
BatchGetSecretValue or PutSecretValue.

    make build/tools/sm_tool && python3 tests/integration/run.py tests/integration/test_aws_sm.py

Every run of the tool is checked for secret values in its stdout and
stderr (with SECRETSYNC_LOG_LEVEL=debug): none may appear.
"""
import datetime
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from world_fixture import World  # noqa: E402

TOOL = os.path.join(ROOT, os.environ.get("BUILD", "build"), "tools", "sm_tool")
TARGET_ACCOUNT = "111111111111"

# The role's own extra: reading version lists, for the assertions below.
VERSIONS_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "secretsmanager:ListSecretVersionIds",
                   "Resource": "arn:aws:secretsmanager:*:${ACCOUNT_ID}:secret:app/*"}]}
# A role that may list and read one by one, but not batch-read or write.
NOBATCH_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "secretsmanager:ListSecrets", "Resource": "*"},
        {"Effect": "Allow",
         "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
         "Resource": "arn:aws:secretsmanager:*:${ACCOUNT_ID}:secret:app/*"}]}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "${BASE_USER_ARN}"},
                   "Action": "sts:AssumeRole"}]}
MANAGED = {"managed-by": "secretsync", "secretsync:target": "staging"}

FIXTURE = {
    "world": {"iam_check": True},
    "aws": {
        "region": "us-east-1",
        "account_id": "123456789012",
        "vars": {"TARGET_ROLE_NAME": "sm-it*", "SECRET_PREFIX": "",
                 "TOKEN_SECRET": "github/token", "BUCKET": "sm-it-merged",
                 "MERGE_PREFIX": "bundles/", "AUDIENCE": "sts.amazonaws.com"},
        "users": [{"name": "secretsync-ci", "policies": ["base-user.json"], "env": True}],
        "roles": [
            {"account_id": TARGET_ACCOUNT, "name": "sm-it", "trust": TRUST,
             "policies": ["target-role.json", VERSIONS_POLICY], "vars": {"SECRET_PREFIX": "app/"},
             "env": "SM_IT_ROLE"},
            {"account_id": TARGET_ACCOUNT, "name": "sm-it-nobatch", "trust": TRUST,
             "policies": [NOBATCH_POLICY], "env": "SM_IT_ROLE_NOBATCH"},
        ],
        "secrets": [
            {"account_id": TARGET_ACCOUNT, "name": "app/fixture/managed",
             "value": {"password": "fixture-managed-pw"}, "tags": MANAGED},
            {"account_id": TARGET_ACCOUNT, "name": "app/fixture/untagged",
             "value": "fixture-untagged-value"},
            {"account_id": TARGET_ACCOUNT, "name": "outside/prefix",
             "value": "fixture-outside-value"},
        ],
    },
}

WORLD = None
FIXTURE_FILE = None
# Every value a test writes or expects to read: none may show in output.
VALUES = {"fixture-managed-pw", "fixture-untagged-value", "fixture-outside-value"}


def setUpModule():
    global WORLD, FIXTURE_FILE
    if not os.access(TOOL, os.X_OK):
        return
    fd, FIXTURE_FILE = tempfile.mkstemp(prefix="sm-it-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(FIXTURE, f)
    WORLD = World(FIXTURE_FILE, services="aws").start()


def tearDownModule():
    if WORLD:
        WORLD.stop()
    if FIXTURE_FILE:
        os.unlink(FIXTURE_FILE)


def secret(v):
    """Remember v as a secret value (checked absent from the tool's output)."""
    VALUES.add(v)
    return v


class Result:
    def __init__(self, p):
        self.code = p.returncode
        self.out = p.stdout
        self.err = p.stderr
        try:
            self.doc = json.loads(p.stdout) if p.stdout.strip() else None
        except ValueError:
            self.doc = None

    def names(self):
        return [s["name"] for s in self.doc["secrets"]]

    def by_name(self):
        return {s["name"]: s for s in self.doc["secrets"]}


@unittest.skipUnless(os.access(TOOL, os.X_OK), "build/tools/sm_tool is not built (make tools)")
class SecretsManagerClient(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.role = WORLD.env["SM_IT_ROLE"]
        cls.creds = WORLD.assume(cls.role, "sm-it")
        cls.sm = WORLD.client("secretsmanager", credentials=cls.creds)
        cls.nobatch_role = WORLD.env["SM_IT_ROLE_NOBATCH"]
        cls.nobatch = WORLD.assume(cls.nobatch_role, "sm-it-nobatch")

    def setUp(self):
        WORLD.clear_faults()
        WORLD.clear_log()

    # -- helpers --------------------------------------------------------
    def tool(self, *args, creds=None, role=None, stdin=None, env=None, out=None, key=None,
             expect=0):
        creds = creds or self.creds
        extra = {"AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
                 "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
                 "AWS_SESSION_TOKEN": creds["SessionToken"],
                 "SECRETSYNC_LOG_LEVEL": "debug",
                 "SECRETSYNC_HTTP_BACKOFF_MS": "5"}
        extra.update(env or {})
        argv = [TOOL, "--role-arn", role or self.role]
        if out:
            argv += ["--out", out]
        if key:
            argv += ["--token-key", key]
        p = subprocess.run(argv + list(args), input=stdin, env=WORLD.binary_env(extra),
                           capture_output=True, text=True, timeout=300)
        for v in VALUES:
            self.assertNotIn(v, p.stdout, f"a secret value in stdout of {args[0]}")
            self.assertNotIn(v, p.stderr, f"a secret value in stderr of {args[0]}")
        if expect is not None:
            self.assertEqual(p.returncode, expect, f"sm_tool {' '.join(args)}: {p.stderr}")
        return Result(p)

    def read_out(self, path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)

    def token(self, target, name, prev, value, key=None):
        return self.tool("token", target, name, prev or "-", stdin=value, key=key).out.strip()

    def versions(self, name):
        r = self.sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)
        return {v["VersionId"]: v.get("VersionStages", []) for v in r["Versions"]}

    def ops(self, **kw):
        return [(e["operation"], e["status"], e.get("fault"))
                for e in WORLD.log(service="secretsmanager", **kw)]

    def create_many(self, prefix, n, tags=MANAGED):
        for i in range(n):
            self.sm.create_secret(Name=f"{prefix}{i:03d}",
                                  SecretString=secret(f'{{"pw":"{prefix}-pw-{i:03d}"}}'),
                                  Tags=[{"Key": k, "Value": v} for k, v in tags.items()])

    # -- listing and reading -------------------------------------------
    def test_list_pages_past_250_and_state_batches(self):
        self.create_many("app/page/s", 250)
        WORLD.clear_log()
        r = self.tool("list", "app/page/")
        self.assertEqual(r.names(), [f"app/page/s{i:03d}" for i in range(250)])
        self.assertEqual(r.doc["counts"]["list_calls"], 3)  # 100 a page
        self.assertEqual([o for o in self.ops()], [("ListSecrets", 200, None)] * 3)
        one = r.by_name()["app/page/s007"]
        self.assertEqual(one["tags"], MANAGED)
        self.assertTrue(one["managed"])
        self.assertFalse(one["deleted"])
        desc = self.sm.describe_secret(SecretId="app/page/s007")
        cur = [v for v, st in desc["VersionIdsToStages"].items() if "AWSCURRENT" in st]
        self.assertEqual(one["version_id"], cur[0])
        self.assertEqual(one["arn"], desc["ARN"])

        # The target's state: the listing, then the values 20 at a time.
        WORLD.clear_log()
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "values.json")
            r = self.tool("state", "app/page/", out=out)
            vals = self.read_out(out)
        self.assertEqual(r.doc["counts"], {"list_calls": 3, "batch_calls": 13, "get_calls": 0})
        self.assertEqual(len(vals), 250)
        for i in (0, 19, 20, 137, 249):
            self.assertEqual(vals[f"app/page/s{i:03d}"], f'{{"pw":"app/page/s-pw-{i:03d}"}}')
        self.assertEqual([o[0] for o in self.ops()].count("BatchGetSecretValue"), 13)

        # Only the secrets asked for are read.
        WORLD.clear_log()
        r = self.tool("state", "app/page/", "app/page/s001", "app/page/s002", "app/none")
        self.assertEqual(r.doc["counts"]["batch_calls"], 1)
        kinds = {s["name"]: s["kind"] for s in r.doc["secrets"]}
        self.assertEqual(kinds["app/page/s001"], "string")
        self.assertEqual(kinds["app/page/s003"], "none")

    def test_batch_reads_and_errors_entries(self):
        self.create_many("app/batch/s", 45)
        self.sm.delete_secret(SecretId="app/batch/s044", RecoveryWindowInDays=7)
        ids = [f"app/batch/s{i:03d}" for i in range(45)] + ["app/batch/missing"]
        WORLD.clear_log()
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "v.json")
            r = self.tool("batch", *ids, out=out)
            vals = self.read_out(out)
        # 46 ids: 3 batch calls; the deleted secret (an InvalidRequestException
        # in Errors) is tried once alone; the missing one is simply absent.
        self.assertEqual(r.doc["counts"], {"list_calls": 0, "batch_calls": 3, "get_calls": 1})
        self.assertEqual(sorted(vals), ids[:44])
        self.assertEqual(vals["app/batch/s010"], '{"pw":"app/batch/s-pw-010"}')
        gets = [e for e in WORLD.log(service="secretsmanager")
                if e["operation"] == "GetSecretValue"]
        self.assertEqual([(e["resource"], e["status"]) for e in gets],
                         [("app/batch/s044", 400)])
        # The deleted secret is listed, marked.
        r = self.tool("list", "app/batch/")
        self.assertTrue(r.by_name()["app/batch/s044"]["deleted"])
        self.assertFalse(r.by_name()["app/batch/s043"]["deleted"])

    def test_batch_denied_falls_back_to_get(self):
        self.create_many("app/nb/s", 23)
        WORLD.clear_log()
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "v.json")
            r = self.tool("state", "app/nb/", creds=self.nobatch, role=self.nobatch_role,
                          out=out)
            vals = self.read_out(out)
        self.assertEqual(r.doc["counts"], {"list_calls": 1, "batch_calls": 1, "get_calls": 23})
        self.assertEqual(len(vals), 23)
        self.assertEqual(vals["app/nb/s022"], '{"pw":"app/nb/s-pw-022"}')
        ops = self.ops()
        self.assertIn(("BatchGetSecretValue", 400, None), ops)
        self.assertEqual(ops.count(("GetSecretValue", 200, None)), 23)

    def test_source(self):
        self.sm.create_secret(Name="app/src/db", Tags=[{"Key": "managed-by", "Value": "secretsync"}],
                              SecretString=secret('{"user":"u","password":"src-db-password"}'))
        self.sm.create_secret(Name="app/src/team/api", SecretString=secret("src-api-token"),
                              Tags=[{"Key": "managed-by", "Value": "secretsync"}])
        self.sm.create_secret(Name="app/src/list", SecretString=secret('["src-a","src-b"]'),
                              Tags=[{"Key": "managed-by", "Value": "secretsync"}])
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "src.json")
            r = self.tool("source", "app/src/", out=out)
            obj = self.read_out(out)
        self.assertEqual(r.doc, {"keys": ["db", "list", "team/api"]})
        self.assertEqual(obj, {"db": {"user": "u", "password": "src-db-password"},
                               "list": ["src-a", "src-b"], "team/api": "src-api-token"})

    # -- writes -----------------------------------------------------------
    def test_lifecycle_create_put_describe_tag_delete(self):
        a, b = secret('{"k":"life-value-A"}'), secret('{"k":"life-value-B"}')
        r = self.tool("create", "app/life", "staging", stdin=a)
        v1 = r.doc["version_id"]
        self.assertEqual(v1, self.token("staging", "app/life", None, a))
        self.assertEqual(v1, r.doc["token"])
        got = self.sm.get_secret_value(SecretId="app/life")
        self.assertEqual((got["SecretString"], got["VersionId"]), (a, v1))
        tags = {t["Key"]: t["Value"] for t in self.sm.describe_secret(SecretId="app/life")["Tags"]}
        self.assertEqual(tags, MANAGED)

        r = self.tool("put", "app/life", "staging", v1, stdin=b)
        v2 = r.doc["version_id"]
        self.assertEqual(v2, self.token("staging", "app/life", v1, b))
        got = self.sm.get_secret_value(SecretId="app/life")
        self.assertEqual((got["SecretString"], got["VersionId"]), (b, v2))
        self.assertEqual(self.versions("app/life")[v2], ["AWSCURRENT"])

        d = self.tool("describe", "app/life").doc
        self.assertEqual((d["version_id"], d["tags"], d["deleted"]), (v2, MANAGED, False))
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "g.json")
            g = self.tool("get", "app/life", out=out).doc
            self.assertEqual(self.read_out(out), {"app/life": b})
        self.assertEqual(g["version_id"], v2)

        # Tagging an untagged secret makes it managed for the target.
        self.tool("tag", "app/fixture/untagged", "prod")
        tags = {t["Key"]: t["Value"]
                for t in self.sm.describe_secret(SecretId="app/fixture/untagged")["Tags"]}
        self.assertEqual(tags, {"managed-by": "secretsync", "secretsync:target": "prod"})

        # Delete with a recovery window: scheduled, not gone.
        before = datetime.datetime.now(datetime.timezone.utc)
        r = self.tool("delete", "app/life", "7")
        self.assertTrue(r.doc["deleted"])
        desc = self.sm.describe_secret(SecretId="app/life")
        self.assertIn("DeletedDate", desc)
        days = (datetime.datetime.fromtimestamp(r.doc["deleted_date"], datetime.timezone.utc)
                - before).total_seconds() / 86400
        self.assertAlmostEqual(days, 7, delta=0.1)
        self.assertTrue(self.tool("list", "app/life").by_name()["app/life"]["deleted"])
        # Reading it now: the user is told how to restore it.
        r = self.tool("get", "app/life", expect=5)
        self.assertIn("InvalidRequestException", r.err)
        self.assertIn("aws secretsmanager restore-secret --secret-id app/life --region us-east-1",
                      r.err)
        # A window outside 7..30 is refused before sending.
        WORLD.clear_log()
        self.tool("delete", "app/fixture/managed", "3", expect=5)
        self.assertEqual(self.ops(), [])

    def test_retried_write_makes_no_second_version(self):
        a, b = secret("retry-value-AAAA"), secret("retry-value-BBBB")
        v1 = self.tool("create", "app/retry", "staging", stdin=a).doc["version_id"]
        WORLD.clear_log()
        # The PutSecretValue lands, its answer is lost; the transport sends
        # it again with the same token, and AWS answers with that version.
        WORLD.fault("secretsmanager", "drop_after", operation="PutSecretValue")
        r = self.tool("put", "app/retry", "staging", v1, stdin=b)
        v2 = r.doc["version_id"]
        self.assertEqual(self.ops(mutating=True),
                         [("PutSecretValue", None, "drop_after"), ("PutSecretValue", 200, None)])
        self.assertEqual(sorted(self.versions("app/retry")), sorted([v1, v2]))
        # The same write run again (a re-run): still no new version.
        r = self.tool("put", "app/retry", "staging", v1, stdin=b)
        self.assertEqual(r.doc["version_id"], v2)
        self.assertEqual(len(self.versions("app/retry")), 2)
        self.assertEqual(self.sm.get_secret_value(SecretId="app/retry")["SecretString"], b)
        # A create retried after a lost answer: one secret, one version.
        WORLD.fault("secretsmanager", "drop_after", operation="CreateSecret")
        c = secret("retry-created-CCCC")
        r = self.tool("create", "app/retry-created", "staging", stdin=c)
        self.assertEqual(list(self.versions("app/retry-created")), [r.doc["version_id"]])

    def test_keyed_tokens(self):
        a, b = secret("keyed-value-AAAA"), secret("keyed-value-BBBB")
        key = "per-run-key-0123456789"
        va = self.tool("create", "app/keyed", "staging", stdin=a, key=key).doc["version_id"]
        self.assertEqual(va, self.token("staging", "app/keyed", None, a, key=key))
        self.assertNotEqual(va, self.token("staging", "app/keyed", None, a))
        WORLD.clear_log()
        WORLD.fault("secretsmanager", "drop_after", operation="PutSecretValue")
        vb = self.tool("put", "app/keyed", "staging", va, stdin=b, key=key).doc["version_id"]
        self.assertEqual(vb, self.token("staging", "app/keyed", va, b, key=key))
        self.assertEqual([o[0] for o in self.ops(mutating=True)], ["PutSecretValue"] * 2)
        self.assertEqual(sorted(self.versions("app/keyed")), sorted([va, vb]))

    def test_revert_lands_as_new_version(self):
        a, b = secret("revert-value-AAAA"), secret("revert-value-BBBB")
        va = self.tool("create", "app/revert", "staging", stdin=a).doc["version_id"]
        vb = self.tool("put", "app/revert", "staging", va, stdin=b).doc["version_id"]
        va2 = self.tool("put", "app/revert", "staging", vb, stdin=a).doc["version_id"]
        self.assertEqual(len({va, vb, va2}), 3)
        vs = self.versions("app/revert")
        self.assertEqual(sorted(vs), sorted([va, vb, va2]))
        self.assertIn("AWSCURRENT", vs[va2])
        got = self.sm.get_secret_value(SecretId="app/revert")
        self.assertEqual((got["SecretString"], got["VersionId"]), (a, va2))

    def test_token_reused_with_other_value_is_explained(self):
        a, b, other = (secret("reuse-value-AAAA"), secret("reuse-value-BBBB"),
                       secret("reuse-other-value"))
        va = self.tool("create", "app/reuse", "staging", stdin=a).doc["version_id"]
        # Someone else wrote another value under the token our write will carry.
        t = self.token("staging", "app/reuse", va, b)
        self.sm.put_secret_value(SecretId="app/reuse", SecretString=other, ClientRequestToken=t)
        r = self.tool("put", "app/reuse", "staging", va, stdin=b, expect=3)
        self.assertIn("secretsmanager: PutSecretValue app/reuse (us-east-1): "
                      "ResourceExistsException", r.err)
        self.assertIn("already exists with other content", r.err)
        self.assertEqual(self.sm.get_secret_value(SecretId="app/reuse")["SecretString"], other)
        # Creating a secret that exists already (made after a listing).
        r = self.tool("create", "app/reuse", "staging", stdin=b, expect=3)
        self.assertIn("CreateSecret app/reuse", r.err)
        self.assertIn("already exists", r.err)

    def test_access_denied_names_action_secret_role(self):
        cur = self.sm.describe_secret(SecretId="app/fixture/managed")
        v = [k for k, st in cur["VersionIdsToStages"].items() if "AWSCURRENT" in st][0]
        r = self.tool("put", "app/fixture/managed", "staging", v, creds=self.nobatch,
                      role=self.nobatch_role, stdin=secret("denied-value-XYZ"), expect=4)
        self.assertIn("secretsmanager: PutSecretValue app/fixture/managed (us-east-1): "
                      "AccessDeniedException", r.err)
        self.assertIn(f"the IAM policy of role {self.nobatch_role} must allow "
                      f"secretsmanager:PutSecretValue on arn:aws:secretsmanager:us-east-1:"
                      f"{TARGET_ACCOUNT}:secret:app/fixture/managed-*", r.err)
        # Outside the role's prefix.
        r = self.tool("get", "outside/prefix", expect=4)
        self.assertIn("GetSecretValue outside/prefix", r.err)
        self.assertIn(self.role, r.err)
        # Create without being allowed to: refused, nothing made.
        r = self.tool("create", "outside/new", "staging", stdin=secret("denied-create-v"),
                      expect=4)
        self.assertIn("secretsmanager:CreateSecret", r.err)
        self.assertNotIn("outside/new", [s["Name"] for s in
                                         self.sm.list_secrets()["SecretList"]])

    def test_refused_before_sending(self):
        big = "x" * 65537
        r = self.tool("create", "app/big", "staging", stdin=big, expect=6)
        self.assertIn("app/big: the value is 65537 bytes", r.err)
        r = self.tool("create", "app/bad name", "staging", stdin=secret("bad-name-value"),
                      expect=5)
        self.assertIn("'app/bad name' is not a valid secret name", r.err)
        self.assertEqual(self.ops(), [])
        # Exactly 64 KiB is accepted by the client and by the service.
        r = self.tool("create", "app/big", "staging", stdin="y" * 65536)
        self.assertEqual(len(self.sm.get_secret_value(SecretId="app/big")["SecretString"]), 65536)

    def test_throttling_storm_is_retried(self):
        self.create_many("app/storm/s", 5)
        WORLD.clear_log()
        WORLD.fault("secretsmanager", "aws_error", count=2, operation="ListSecrets")
        WORLD.fault("secretsmanager", "aws_error", count=3, operation="BatchGetSecretValue",
                    code="ThrottlingException", message="Rate exceeded")
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "v.json")
            self.tool("state", "app/storm/", out=out, env={"SECRETSYNC_HTTP_ATTEMPTS": "5"})
            self.assertEqual(len(self.read_out(out)), 5)
        self.assertEqual(self.ops(), [("ListSecrets", 400, "aws_error")] * 2 +
                         [("ListSecrets", 200, None)] +
                         [("BatchGetSecretValue", 400, "aws_error")] * 3 +
                         [("BatchGetSecretValue", 200, None)])
        # A write throttled, then through: one version.
        v = self.tool("create", "app/storm-w", "staging",
                      stdin=secret("storm-write-AAAA")).doc["version_id"]
        WORLD.fault("secretsmanager", "aws_error", count=2, operation="PutSecretValue")
        self.tool("put", "app/storm-w", "staging", v, stdin=secret("storm-write-BBBB"))
        self.assertEqual(len(self.versions("app/storm-w")), 2)
        # A storm longer than the attempts: a clear failure, bounded.
        WORLD.clear_log()
        WORLD.fault("secretsmanager", "aws_error", count=10, operation="ListSecrets")
        r = self.tool("list", "app/storm/", env={"SECRETSYNC_HTTP_ATTEMPTS": "3"}, expect=1)
        self.assertIn("ThrottlingException", r.err)
        self.assertIn("gave up after 3 attempts", r.err)
        self.assertEqual(self.ops(), [("ListSecrets", 400, "aws_error")] * 3)
        WORLD.clear_faults()

    def test_wrong_credentials(self):
        bad = dict(self.creds, SecretAccessKey="not-the-right-secret-key-0000")
        r = self.tool("list", "app/", creds=bad, expect=4)
        self.assertIn("ListSecrets", r.err)
        self.assertIn("AWS_SECRET_ACCESS_KEY", r.err)


if __name__ == "__main__":
    unittest.main()
