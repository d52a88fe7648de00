"""The STS, S3 and credential-chain clients against the test world.

No secretsync command drives the merge store or per-target roles on its own
yet, so this test builds a small driver (the C source below, linked with
build/libsecretsync.a like the unit tests) that calls the library directly:
ss_aws_creds_for_role / ss_aws_creds_prefetch (AssumeRole into the target
accounts' roles from the base user or from the GitHub OIDC role), and
ss_s3_put / ss_s3_get / ss_s3_head_bucket on the merge bucket, under the
least-privilege policies of tests/emulators/policies/ (moto with IAM on, the
proxy enforcing the bucket policy). Objects are checked with boto3.
"""
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from world_fixture import World, fixture_path  # noqa: E402

LIB = os.path.join(ROOT, "build", "libsecretsync.a")
CC = os.environ.get("CC", "cc")
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BUNDLE = {"team/app/db": {"password": "s3-bundle-secret-value", "host": "db.internal"},
          "shared/api": "a plain string secret"}

DRIVER = r"""
/* aws_tool: drive the STS / S3 / credential-chain code from tests.
 *   aws_tool [--role ARN] [--target ROLE]... CMD ARGS
 *   whoami                       GetCallerIdentity: "ACCOUNT ARN"
 *   roles ROLE...                prefetch every role, then whoami for each
 *   s3-put BUCKET KEY FILE [KMS] PutObject (AES256, or SSE-KMS with KMS)
 *   s3-get BUCKET KEY            GetObject to stdout
 *   s3-head BUCKET               HeadBucket
 * Region from AWS_REGION. Exit: 0 ok, 3 not found, 1 failure (the
 * message lines on stderr), 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/aws_creds.h"
#include "backends/aws_s3.h"
#include "backends/aws_sts.h"
#include "core/log.h"
#include "core/mask.h"
#include "net/http.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		*len = fread(buf, 1, (size_t)n, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	struct ss_aws_creds_opts o;
	struct ss_http *h;
	struct ss_aws_chain *chain;
	const struct ss_aws_creds *creds = NULL;
	const char *role = NULL, *use = NULL;
	struct ss_buf err;
	struct ss_s3 *s3 = NULL;
	enum ss_rc rc = SS_ERR_INVALID;
	int i = 1;

	ss_buf_init(&err, 0);
	while (i + 1 < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--role") == 0)
			role = argv[i + 1];
		else if (strcmp(argv[i], "--use") == 0)
			use = argv[i + 1];
		else
			return 2;
		i += 2;
	}
	if (i >= argc)
		return 2;
	if (getenv("GITHUB_ACTIONS") != NULL)
		ss_mask_set_emitter(ss_mask_global(), stdout);
	h = ss_http_new(8);
	memset(&o, 0, sizeof(o));
	o.region = getenv("AWS_REGION");
	o.role_arn = role;
	chain = ss_aws_chain_new(h, &o, &err);
	if (chain == NULL)
		goto out;
	rc = ss_aws_creds_for_role(chain, use, &creds, &err);
	if (rc != SS_OK)
		goto out;
	if (strcmp(argv[i], "whoami") == 0) {
		struct ss_sts_identity id;

		rc = ss_sts_get_caller_identity(h, o.region, creds, &id, &err);
		if (rc == SS_OK)
			printf("%s %s\n", id.account, id.arn);
		ss_sts_identity_clear(&id);
	} else if (strcmp(argv[i], "roles") == 0) {
		int k;

		rc = ss_aws_creds_prefetch(chain, (const char *const *)argv + i + 1,
					   (size_t)(argc - i - 1), &err);
		for (k = i + 1; rc == SS_OK && k < argc; k++) {
			struct ss_sts_identity id;

			rc = ss_aws_creds_for_role(chain, argv[k], &creds, &err);
			if (rc == SS_OK)
				rc = ss_sts_get_caller_identity(h, o.region, creds, &id, &err);
			if (rc == SS_OK)
				printf("%s %s\n", id.account, id.arn);
			ss_sts_identity_clear(&id);
		}
	} else if (strncmp(argv[i], "s3-", 3) == 0) {
		s3 = ss_s3_new(h, o.region, creds);
		if (strcmp(argv[i], "s3-put") == 0 && argc - i >= 4) {
			struct ss_s3_put put;
			size_t len = 0;
			char *body = slurp(argv[i + 3], &len);

			memset(&put, 0, sizeof(put));
			put.bucket = argv[i + 1];
			put.key = argv[i + 2];
			put.body = body;
			put.len = len;
			put.kms_key_id = argc - i >= 5 ? argv[i + 4] : NULL;
			rc = body ? ss_s3_put(s3, &put, &err) : SS_ERR_IO;
			free(body);
		} else if (strcmp(argv[i], "s3-get") == 0 && argc - i >= 3) {
			char *out = NULL;
			size_t len = 0;

			rc = ss_s3_get(s3, argv[i + 1], argv[i + 2], &out, &len, &err);
			if (rc == SS_OK)
				fwrite(out, 1, len, stdout);
			ss_free_secret(out);
		} else if (strcmp(argv[i], "s3-head") == 0 && argc - i >= 2) {
			rc = ss_s3_head_bucket(s3, argv[i + 1], &err);
		} else {
			rc = SS_ERR_INVALID;
		}
	}
out:
	if (err.len > 0)
		ss_print(stderr, err.data);
	ss_s3_free(s3);
	ss_aws_chain_free(chain);
	ss_http_free(h);
	ss_buf_free(&err);
	return rc == SS_OK ? 0 : rc == SS_ERR_NOTFOUND ? 3 : 1;
}
"""


def build_driver(workdir):
    """Compile the driver; None (and the reason) when it cannot be built."""
    if not os.path.exists(LIB):
        return None, "build/libsecretsync.a is not built (make)"
    c = os.path.join(workdir, "aws_tool.c")
    exe = os.path.join(workdir, "aws_tool")
    with open(c, "w") as f:
        f.write(DRIVER)
    cmd = [CC, "-D_GNU_SOURCE", "-I" + os.path.join(ROOT, "src"), "-std=c11", "-Wall",
           "-Wextra", "-Werror", "-O1", "-o", exe, c, LIB, "-lcurl", "-lcjson", "-lyaml",
           "-lbearssl", "-lpthread"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return None, "driver did not build: " + p.stderr[-2000:]
    return exe, None


def s3_admin_fixture(path):
    """demo.json plus a user allowed to list buckets (HeadBucket needs
    s3:ListBucket without a prefix, which the base user's policy does not
    grant). moto authorises HeadBucket as "s3:HeadBucket", an action AWS
    does not have, so the user gets both."""
    with open(fixture_path("demo"), encoding="utf-8") as f:
        fx = json.load(f)
    fx = copy.deepcopy(fx)
    fx["aws"]["users"].append({
        "name": "s3-admin", "env": "S3ADMIN",
        "policies": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:HeadBucket", "s3:GetObject",
                                           "s3:PutObject"],
             "Resource": "*"}]}]})
    with open(path, "w", encoding="utf-8") as f:
        json.dump(fx, f)
    return path


class AwsClientsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="secretsync-s3sts-")
        cls.tool, why = build_driver(cls.tmp)
        if cls.tool is None:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise unittest.SkipTest(why)
        cls.world = World(s3_admin_fixture(os.path.join(cls.tmp, "fixture.json"))).start()
        cls.env = cls.world.env
        cls.bucket = cls.env["SECRETSYNC_TEST_BUCKET"]
        cls.body = os.path.join(cls.tmp, "bundle.json")
        with open(cls.body, "w") as f:
            json.dump(BUNDLE, f)

    @classmethod
    def tearDownClass(cls):
        cls.world.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.world.clear_faults()
        self.world.clear_log()

    def run_tool(self, args, env=None, expect=None):
        env = env or self.world.binary_env()
        p = subprocess.run([self.tool] + args, env=env, capture_output=True, text=True,
                           timeout=60)
        if expect is not None and p.returncode != expect:
            self.fail(f"{args}: exit {p.returncode}, want {expect}\n{p.stdout}\n{p.stderr}")
        return p

    def oidc_env(self, **extra):
        env = self.world.binary_env(drop=("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"))
        env.update(extra)
        return env

    def admin_env(self):
        return self.world.binary_env(extra={
            "AWS_ACCESS_KEY_ID": self.env["S3ADMIN_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": self.env["S3ADMIN_SECRET_ACCESS_KEY"]})

    def s3(self):
        return self.world.client("s3")

    # -- STS ----------------------------------------------------------------
    def test_assume_target_roles_from_base_user(self):
        staging = self.env["SECRETSYNC_TEST_ROLE_ARN_STAGING"]
        prod = self.env["SECRETSYNC_TEST_ROLE_ARN_PROD"]
        p = self.run_tool(["roles", staging, prod, staging], expect=0)
        lines = p.stdout.splitlines()
        self.assertEqual([ln.split()[0] for ln in lines],
                         ["111111111111", "222222222222", "111111111111"])
        self.assertIn("arn:aws:sts::111111111111:assumed-role/secretsync/", lines[0])
        log = self.world.log(service="sts")
        ops = [e["operation"] for e in log]
        # each role assumed once (cached), then one GetCallerIdentity each
        self.assertEqual(sorted(ops), ["AssumeRole", "AssumeRole", "GetCallerIdentity",
                                       "GetCallerIdentity", "GetCallerIdentity"])
        base = self.env["SECRETSYNC_TEST_BASE_USER_ARN"]
        self.assertEqual({e["principal"] for e in log if e["operation"] == "AssumeRole"},
                         {base})

    def test_assume_target_roles_from_oidc_role(self):
        web = self.env["SECRETSYNC_TEST_WEB_IDENTITY_ROLE_ARN"]
        staging = self.env["SECRETSYNC_TEST_ROLE_ARN_STAGING"]
        p = self.run_tool(["--role", web, "roles", staging, web], env=self.oidc_env(), expect=0)
        lines = p.stdout.splitlines()
        self.assertTrue(lines[0].startswith("111111111111 "))
        self.assertTrue(lines[1].startswith("123456789012 arn:aws:sts::123456789012:"
                                            "assumed-role/secretsync-github/"))
        ops = [e["operation"] for e in self.world.log(service="sts")]
        self.assertEqual(ops[:2], ["AssumeRoleWithWebIdentity", "AssumeRole"])
        chained = [e for e in self.world.log(service="sts") if e["operation"] == "AssumeRole"]
        self.assertIn("assumed-role/secretsync-github/", chained[0]["principal"])

    def test_denied_role_named(self):
        denied = "arn:aws:iam::333333333333:role/secretsync"
        p = self.run_tool(["roles", self.env["SECRETSYNC_TEST_ROLE_ARN_STAGING"], denied],
                          expect=1)
        self.assertIn(f"sts: AssumeRole into {denied}", p.stderr)
        self.assertIn("AccessDenied", p.stderr)
        self.assertIn(f"sts:AssumeRole on {denied}", p.stderr)

    def test_sts_throttling_and_malformed(self):
        staging = self.env["SECRETSYNC_TEST_ROLE_ARN_STAGING"]
        self.world.fault("sts", "aws_error", count=1, operation="AssumeRole")
        env = self.world.binary_env(extra={"SECRETSYNC_HTTP_BACKOFF_MS": "5"})
        self.run_tool(["roles", staging], env=env, expect=0)
        self.assertEqual([e["operation"] for e in self.world.log(service="sts")],
                         ["AssumeRole", "AssumeRole", "GetCallerIdentity"])
        self.world.clear_log()
        self.world.fault("sts", "malformed", count=1, operation="AssumeRole", status=200)
        p = self.run_tool(["roles", staging], env=env, expect=1)
        self.assertIn("is not the XML STS sends: refused", p.stderr)

    # -- S3 -------------------------------------------------------------------
    def test_put_get_aes256(self):
        key = "bundles/staging.json"
        self.run_tool(["s3-put", self.bucket, key, self.body], expect=0)
        head = self.s3().head_object(Bucket=self.bucket, Key=key)
        self.assertEqual(head["ServerSideEncryption"], "AES256")
        self.assertEqual(head["ContentType"], "application/json")
        p = self.run_tool(["s3-get", self.bucket, key], expect=0)
        self.assertEqual(json.loads(p.stdout), BUNDLE)
        self.assertEqual([e["operation"] for e in self.world.log(service="s3")],
                         ["PutObject", "HeadObject", "GetObject"])

    def test_put_get_kms(self):
        key = "bundles/prod.json"
        self.run_tool(["s3-put", self.bucket, key, self.body, KMS_KEY], expect=0)
        head = self.s3().head_object(Bucket=self.bucket, Key=key)
        self.assertEqual(head["ServerSideEncryption"], "aws:kms")
        self.assertEqual(head["SSEKMSKeyId"], KMS_KEY)
        p = self.run_tool(["s3-get", self.bucket, key], expect=0)
        self.assertEqual(json.loads(p.stdout), BUNDLE)

    def test_put_get_with_oidc_role(self):
        web = self.env["SECRETSYNC_TEST_WEB_IDENTITY_ROLE_ARN"]
        key = "bundles/with space+plus/é.json"
        self.run_tool(["--role", web, "s3-put", self.bucket, key, self.body],
                      env=self.oidc_env(), expect=0)
        obj = self.s3().get_object(Bucket=self.bucket, Key=key)
        self.assertEqual(json.loads(obj["Body"].read()), BUNDLE)
        p = self.run_tool(["--role", web, "s3-get", self.bucket, key], env=self.oidc_env(),
                          expect=0)
        self.assertEqual(json.loads(p.stdout), BUNDLE)

    def test_missing_key(self):
        p = self.run_tool(["s3-get", self.bucket, "bundles/never-written.json"], expect=3)
        self.assertEqual(p.stdout, "")
        self.assertEqual(p.stderr, "")

    def test_outside_the_prefix_denied(self):
        p = self.run_tool(["s3-put", self.bucket, "elsewhere/x.json", self.body], expect=1)
        self.assertIn(f"s3: PutObject s3://{self.bucket}/elsewhere/x.json: AccessDenied", p.stderr)
        self.assertIn(f"s3:PutObject on arn:aws:s3:::{self.bucket}/elsewhere/x.json", p.stderr)
        p = self.run_tool(["s3-get", self.bucket, "elsewhere/x.json"], expect=1)
        self.assertIn("s3:GetObject", p.stderr)

    def test_head_bucket(self):
        # least privilege: the base user may list only under the prefix,
        # so HeadBucket (no prefix) is refused and says what is missing
        p = self.run_tool(["s3-head", self.bucket], expect=1)
        self.assertIn(f"s3:ListBucket on arn:aws:s3:::{self.bucket}", p.stderr)
        self.run_tool(["s3-head", self.bucket], env=self.admin_env(), expect=0)
        p = self.run_tool(["s3-head", "no-such-bucket-here"], env=self.admin_env(), expect=3)
        self.assertIn("no bucket no-such-bucket-here", p.stderr)

    def test_missing_bucket_is_not_a_missing_object(self):
        p = self.run_tool(["s3-get", "no-such-bucket-here", "bundles/x.json"],
                          env=self.admin_env(), expect=1)
        self.assertIn("NoSuchBucket", p.stderr)

    def test_s3_retries(self):
        key = "bundles/retry.json"
        self.world.fault("s3", "aws_error", count=2, operation="PutObject")
        self.world.fault("s3", "drop_before", count=1, operation="GetObject")
        env = self.world.binary_env(extra={"SECRETSYNC_HTTP_BACKOFF_MS": "5"})
        self.run_tool(["s3-put", self.bucket, key, self.body], env=env, expect=0)
        p = self.run_tool(["s3-get", self.bucket, key], env=env, expect=0)
        self.assertEqual(json.loads(p.stdout), BUNDLE)
        ops = [e["operation"] for e in self.world.log(service="s3")]
        self.assertEqual(ops, ["PutObject"] * 3 + ["GetObject"] * 2)

    def test_no_secret_in_output_with_debug_logs(self):
        key = "bundles/debug.json"
        env = self.world.binary_env(extra={"SECRETSYNC_LOG_LEVEL": "debug",
                                           "GITHUB_ACTIONS": "true"})
        p1 = self.run_tool(["roles", self.env["SECRETSYNC_TEST_ROLE_ARN_STAGING"]], env=env,
                           expect=0)
        p2 = self.run_tool(["s3-put", self.bucket, key, self.body], env=env, expect=0)
        secret = self.env["AWS_SECRET_ACCESS_KEY"]
        for p in (p1, p2):
            for line in (p.stdout + p.stderr).splitlines():
                if line.startswith("::add-mask::"):
                    continue
                self.assertNotIn(secret, line)
                self.assertNotIn("s3-bundle-secret-value", line)
        # the assumed session's secrets were announced
        self.assertGreaterEqual(sum(ln.startswith("::add-mask::")
                                    for ln in p1.stdout.splitlines()), 3)


if __name__ == "__main__":
    unittest.main()
