"""The AWS side of the test world, driven by clients we did not write.

boto3 (the default python3) and Debian's awscli v2 (/usr/bin/aws, run on
/usr/bin/python3) talk to moto through the fault proxy, exactly as the
binary will: Secrets Manager, STS (base user, cross-account roles, web
identity) and S3, with SigV4 and IAM enforced. If these pass, a failure of
the binary against the world is the binary's, not the world's.
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "emulators"))

from botocore.exceptions import ClientError  # noqa: E402

import jwtlib  # noqa: E402
from world_fixture import World  # noqa: E402

AWS_CLI = "/usr/bin/aws"
WORLD = None


def setUpModule():
    global WORLD
    WORLD = World("fidelity", services="aws,github").start()


def tearDownModule():
    if WORLD:
        WORLD.stop()


def err_code(exc):
    return exc.response["Error"]["Code"]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Boto3SecretsManager(unittest.TestCase):
    """Secrets Manager in target account 111111111111 through an assumed role."""

    @classmethod
    def setUpClass(cls):
        cls.creds = WORLD.assume(WORLD.env["SECRETSYNC_TEST_ROLE_ARN_STAGING"], "boto3-sm")
        cls.sm = WORLD.client("secretsmanager", credentials=cls.creds)

    def test_lifecycle_create_put_get_describe_tag_delete(self):
        sm = self.sm
        tags = [{"Key": "managed-by", "Value": "secretsync"},
                {"Key": "secretsync:target", "Value": "staging"}]
        arn = sm.create_secret(Name="app/b3/life", SecretString='{"a":1}', Tags=tags)["ARN"]
        self.assertTrue(arn.startswith("arn:aws:secretsmanager:us-east-1:111111111111:secret:app/b3/life-"))
        v2 = sm.put_secret_value(SecretId="app/b3/life", SecretString='{"a":2}')["VersionId"]
        got = sm.get_secret_value(SecretId="app/b3/life")
        self.assertEqual(got["SecretString"], '{"a":2}')
        self.assertEqual(got["VersionId"], v2)
        self.assertIn("AWSCURRENT", got["VersionStages"])
        sm.tag_resource(SecretId=arn, Tags=[{"Key": "managed-by", "Value": "secretsync"},
                                            {"Key": "extra", "Value": "x"}])
        d = sm.describe_secret(SecretId="app/b3/life")
        self.assertEqual({t["Key"]: t["Value"] for t in d["Tags"]}["secretsync:target"], "staging")
        self.assertIn("extra", {t["Key"] for t in d["Tags"]})
        r = sm.delete_secret(SecretId="app/b3/life", RecoveryWindowInDays=7)
        days = (r["DeletionDate"] - d["CreatedDate"]).total_seconds() / 86400
        self.assertAlmostEqual(days, 7, delta=0.1)
        self.assertIn("DeletedDate", sm.describe_secret(SecretId="app/b3/life"))
        with self.assertRaises(ClientError) as cm:
            sm.get_secret_value(SecretId="app/b3/life")
        self.assertEqual(err_code(cm.exception), "InvalidRequestException")

    def test_client_request_token_rules(self):
        sm = self.sm
        tok = uuid.uuid4().hex + "a" * 8
        tags = [{"Key": "managed-by", "Value": "secretsync"}]
        v1 = sm.create_secret(Name="app/b3/crt", SecretString="A", ClientRequestToken=tok,
                              Tags=tags)["VersionId"]
        self.assertEqual(v1, tok)
        # The same token with the same value: no new version.
        v1b = sm.put_secret_value(SecretId="app/b3/crt", SecretString="A",
                                  ClientRequestToken=tok)["VersionId"]
        self.assertEqual(v1b, v1)
        self.assertEqual(list(sm.describe_secret(SecretId="app/b3/crt")["VersionIdsToStages"]),
                         [v1])
        # The same token with another value: refused.
        with self.assertRaises(ClientError) as cm:
            sm.put_secret_value(SecretId="app/b3/crt", SecretString="B", ClientRequestToken=tok)
        self.assertEqual(err_code(cm.exception), "ResourceExistsException")
        # A -> B -> A with fresh tokens: every write lands as a version.
        tb, ta = uuid.uuid4().hex + "b" * 8, uuid.uuid4().hex + "c" * 8
        sm.put_secret_value(SecretId="app/b3/crt", SecretString="B", ClientRequestToken=tb)
        sm.put_secret_value(SecretId="app/b3/crt", SecretString="A", ClientRequestToken=ta)
        got = sm.get_secret_value(SecretId="app/b3/crt")
        self.assertEqual((got["SecretString"], got["VersionId"]), ("A", ta))
        # Too short or too long a token is refused by the server (32..64 characters).
        raw = WORLD.client("secretsmanager", credentials=self.creds, validate=False)
        for bad in ("x" * 31, "y" * 65):
            with self.assertRaises(ClientError) as cm:
                raw.put_secret_value(SecretId="app/b3/crt", SecretString="C",
                                     ClientRequestToken=bad)
            self.assertIn(err_code(cm.exception), ("InvalidParameterException",
                                                   "ValidationException"))

    def test_list_pagination_and_batch_get(self):
        creds = WORLD.assume(WORLD.env["SECRETSYNC_TEST_ROLE_ARN_PROD"], "boto3-page")
        sm = WORLD.client("secretsmanager", credentials=creds)
        names = [f"app/b3page/s{i:02d}" for i in range(23)]
        for n in names:
            sm.create_secret(Name=n, SecretString=n.upper(),
                             Tags=[{"Key": "managed-by", "Value": "secretsync"}])
        WORLD.clear_log()
        seen, pages, token = [], 0, None
        while True:
            kw = {"MaxResults": 3, "Filters": [{"Key": "name", "Values": ["app/b3page/"]}]}
            if token:
                kw["NextToken"] = token
            r = sm.list_secrets(**kw)
            pages += 1
            seen += [s["Name"] for s in r["SecretList"]]
            token = r.get("NextToken")
            if not token:
                break
        self.assertEqual(sorted(seen), names)
        self.assertGreaterEqual(pages, 8)
        ops = [e["operation"] for e in WORLD.log(service="secretsmanager")]
        self.assertEqual(ops.count("ListSecrets"), pages)
        # Paginator too (botocore's own NextToken handling).
        pg = sm.get_paginator("list_secrets").paginate(
            Filters=[{"Key": "name", "Values": ["app/b3page/"]}], PaginationConfig={"PageSize": 5})
        self.assertEqual(sorted(s["Name"] for p in pg for s in p["SecretList"]), names)
        # BatchGetSecretValue by id list, with an unknown one reported in Errors.
        r = sm.batch_get_secret_value(SecretIdList=names[:3] + ["app/b3page/missing"])
        self.assertEqual(sorted(v["Name"] for v in r["SecretValues"]), names[:3])
        self.assertEqual({v["SecretString"] for v in r["SecretValues"]},
                         {n.upper() for n in names[:3]})
        self.assertEqual([e["SecretId"] for e in r["Errors"]], ["app/b3page/missing"])
        # ... and by filter, paginated.
        got, token = [], None
        while True:
            kw = {"Filters": [{"Key": "name", "Values": ["app/b3page/"]}], "MaxResults": 10}
            if token:
                kw["NextToken"] = token
            r = sm.batch_get_secret_value(**kw)
            got += [v["Name"] for v in r["SecretValues"]]
            token = r.get("NextToken")
            if not token:
                break
        self.assertEqual(sorted(got), names)

    def test_policy_enforcement(self):
        sm = self.sm
        # Outside the role's resource scope (app/*): refused (by the proxy's IAM check).
        with self.assertRaises(ClientError) as cm:
            sm.get_secret_value(SecretId="outside/prefix")
        self.assertEqual(err_code(cm.exception), "AccessDeniedException")
        # An action the policy does not grant at all: refused by moto.
        with self.assertRaises(ClientError) as cm:
            sm.update_secret(SecretId="app/managed", Description="nope")
        self.assertEqual(err_code(cm.exception), "AccessDeniedException")
        # Create without the managed-by tag: refused (aws:RequestTag condition).
        with self.assertRaises(ClientError) as cm:
            sm.create_secret(Name="app/b3/untagged", SecretString="x")
        self.assertEqual(err_code(cm.exception), "AccessDeniedException")
        # Delete of a secret not tagged managed-by=secretsync: refused.
        with self.assertRaises(ClientError) as cm:
            sm.delete_secret(SecretId="app/hand-made", RecoveryWindowInDays=7)
        self.assertEqual(err_code(cm.exception), "AccessDeniedException")
        self.assertNotIn("DeletedDate", sm.describe_secret(SecretId="app/hand-made"))
        # The base user has no Secrets Manager rights in account 111111111111's
        # secrets: its own calls act in its own account.
        base = WORLD.client("secretsmanager")
        names = [s["Name"] for s in base.list_secrets()["SecretList"]]
        self.assertIn("github/token", names)
        self.assertNotIn("app/managed", names)


class Boto3StsS3(unittest.TestCase):
    def test_identities_base_and_assumed(self):
        sts = WORLD.client("sts")
        me = sts.get_caller_identity()
        self.assertEqual(me["Account"], "123456789012")
        self.assertEqual(me["Arn"], "arn:aws:iam::123456789012:user/secretsync-ci")
        for env, acct in (("SECRETSYNC_TEST_ROLE_ARN_STAGING", "111111111111"),
                          ("SECRETSYNC_TEST_ROLE_ARN_PROD", "222222222222")):
            c = WORLD.assume(WORLD.env[env], "who-am-i")
            self.assertTrue(c["AccessKeyId"].startswith("ASIA"))
            who = WORLD.client("sts", credentials=c).get_caller_identity()
            self.assertEqual(who["Account"], acct)
            self.assertEqual(who["Arn"], f"arn:aws:sts::{acct}:assumed-role/secretsync/who-am-i")

    def test_assume_role_refusals(self):
        sts = WORLD.client("sts")
        # Not in the trust policy (moto does not check trust across accounts).
        with self.assertRaises(ClientError) as cm:
            sts.assume_role(RoleArn=WORLD.env["SECRETSYNC_TEST_ROLE_ARN_LOCKED"],
                            RoleSessionName="locked")
        self.assertEqual(err_code(cm.exception), "AccessDenied")
        # A role that does not exist (moto would hand out credentials).
        with self.assertRaises(ClientError) as cm:
            sts.assume_role(RoleArn="arn:aws:iam::333333333333:role/secretsync",
                            RoleSessionName="ghost")
        self.assertEqual(err_code(cm.exception), "AccessDenied")
        # Outside the base user's identity policy (role/secretsync*): moto refuses.
        with self.assertRaises(ClientError) as cm:
            sts.assume_role(RoleArn="arn:aws:iam::111111111111:role/admin",
                            RoleSessionName="admin")
        self.assertEqual(err_code(cm.exception), "AccessDenied")
        # Another user whose identity policy allows sts:AssumeRole on "*" but
        # whom no trust policy names.
        by = WORLD.client("sts", WORLD.env["SECRETSYNC_TEST_BYSTANDER_ACCESS_KEY_ID"],
                          WORLD.env["SECRETSYNC_TEST_BYSTANDER_SECRET_ACCESS_KEY"])
        with self.assertRaises(ClientError) as cm:
            by.assume_role(RoleArn=WORLD.env["SECRETSYNC_TEST_ROLE_ARN_STAGING"],
                           RoleSessionName="by")
        self.assertEqual(err_code(cm.exception), "AccessDenied")
        # DurationSeconds over the role's MaxSessionDuration.
        with self.assertRaises(ClientError) as cm:
            sts.assume_role(RoleArn=WORLD.env["SECRETSYNC_TEST_ROLE_ARN_STAGING"],
                            RoleSessionName="long", DurationSeconds=7200)
        self.assertEqual(err_code(cm.exception), "ValidationError")

    def test_wrong_credentials_refused(self):
        good = WORLD.env["AWS_ACCESS_KEY_ID"]
        for svc, call in (("sts", lambda c: c.get_caller_identity()),
                          ("secretsmanager", lambda c: c.list_secrets()),
                          ("s3", lambda c: c.list_objects_v2(Bucket="secretsync-merged",
                                                             Prefix="bundles/"))):
            with self.subTest(service=svc):
                with self.assertRaises(ClientError) as cm:
                    call(WORLD.client(svc, good, "wrong-secret-key"))
                self.assertEqual(err_code(cm.exception), "InvalidSignatureException"
                                 if svc == "secretsmanager" else "SignatureDoesNotMatch")
                with self.assertRaises(ClientError) as cm:
                    call(WORLD.client(svc, "AKIAUNKNOWNUNKNOWN00", "whatever"))
                self.assertIn(err_code(cm.exception),
                              ("InvalidClientTokenId", "InvalidAccessKeyId",
                               "UnrecognizedClientException"))
        # A session token that does not belong to the key.
        c = dict(WORLD.assume(WORLD.env["SECRETSYNC_TEST_ROLE_ARN_STAGING"], "tok"))
        c["SessionToken"] = c["SessionToken"][:-4] + "AAAA"
        with self.assertRaises(ClientError) as cm:
            WORLD.client("sts", credentials=c).get_caller_identity()
        self.assertIn(err_code(cm.exception), ("InvalidClientTokenId", "ExpiredToken"))

    def test_s3_merge_store(self):
        s3 = WORLD.client("s3")
        bucket = WORLD.env["SECRETSYNC_TEST_BUCKET"]
        r = s3.put_object(Bucket=bucket, Key="bundles/staging.json", Body=b'{"a":{"b":1}}',
                          ServerSideEncryption="AES256")
        self.assertEqual(r["ServerSideEncryption"], "AES256")
        r = s3.put_object(Bucket=bucket, Key="bundles/prod.json", Body=b"{}",
                          ServerSideEncryption="aws:kms", SSEKMSKeyId="alias/secrets")
        self.assertEqual(r["ServerSideEncryption"], "aws:kms")
        # A key with characters SigV4 must percent-encode (moto's own check
        # fails on these; the world's moto launcher fixes it).
        s3.put_object(Bucket=bucket, Key="bundles/odd name+x.json", Body=b"{}",
                      ServerSideEncryption="AES256")
        got = s3.get_object(Bucket=bucket, Key="bundles/staging.json")
        self.assertEqual(got["Body"].read(), b'{"a":{"b":1}}')
        self.assertEqual(got["ServerSideEncryption"], "AES256")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="bundles/")["Contents"]]
        self.assertTrue({"bundles/odd name+x.json", "bundles/prod.json",
                         "bundles/staging.json"} <= set(keys), keys)
        self.assertFalse([k for k in keys if not k.startswith("bundles/")])
        # The bucket policy refuses an upload without server-side encryption.
        with self.assertRaises(ClientError) as cm:
            s3.put_object(Bucket=bucket, Key="bundles/plain.json", Body=b"{}")
        self.assertEqual(err_code(cm.exception), "AccessDenied")
        # The identity policy covers bundles/* only.
        with self.assertRaises(ClientError) as cm:
            s3.put_object(Bucket=bucket, Key="elsewhere/x.json", Body=b"{}",
                          ServerSideEncryption="AES256")
        self.assertEqual(err_code(cm.exception), "AccessDenied")
        with self.assertRaises(ClientError) as cm:
            s3.get_object(Bucket=bucket, Key="elsewhere/x.json")
        self.assertEqual(err_code(cm.exception), "AccessDenied")
        # A role in a target account has no S3 rights at all.
        c = WORLD.assume(WORLD.env["SECRETSYNC_TEST_ROLE_ARN_STAGING"], "s3")
        with self.assertRaises(ClientError) as cm:
            WORLD.client("s3", credentials=c).get_object(Bucket=bucket, Key="bundles/staging.json")
        self.assertEqual(err_code(cm.exception), "AccessDenied")


class Boto3WebIdentity(unittest.TestCase):
    def setUp(self):
        self.role = WORLD.env["SECRETSYNC_TEST_WEB_IDENTITY_ROLE_ARN"]
        self.sts = WORLD.client("sts")
        self.issuer = WORLD.env["SECRETSYNC_TEST_OIDC_ISSUER"]

    def assume(self, token):
        return self.sts.assume_role_with_web_identity(
            RoleArn=self.role, RoleSessionName="gha", WebIdentityToken=token)

    def claims(self, **over):
        now = int(time.time())
        c = {"iss": self.issuer, "aud": "sts.amazonaws.com",
             "sub": "repo:acme/infra:ref:refs/heads/main", "repository": "acme/infra",
             "iat": now - 10, "nbf": now - 10, "exp": now + 300}
        c.update(over)
        return c

    def sign(self, **over):
        key = jwtlib.load_key(WORLD.env["SECRETSYNC_TEST_JWT_KEY"])
        return jwtlib.sign(self.claims(**over), key)

    def refused(self, token, code):
        with self.assertRaises(ClientError) as cm:
            self.assume(token)
        self.assertEqual(err_code(cm.exception), code)

    def test_valid_token_accepted_and_chains(self):
        r = self.assume(WORLD.oidc_token("sts.amazonaws.com"))
        self.assertEqual(r["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::123456789012:assumed-role/secretsync-github/gha")
        self.assertTrue(r["SubjectFromWebIdentityToken"].startswith("repo:acme/infra:"))
        self.assertEqual(r["Audience"], "sts.amazonaws.com")
        who = WORLD.client("sts", credentials=r["Credentials"]).get_caller_identity()
        self.assertEqual(who["Arn"], "arn:aws:sts::123456789012:assumed-role/secretsync-github/gha")
        # The web-identity session may assume the target roles (role chaining).
        c = WORLD.client("sts", credentials=r["Credentials"]).assume_role(
            RoleArn=WORLD.env["SECRETSYNC_TEST_ROLE_ARN_STAGING"], RoleSessionName="chain")
        self.assertEqual(
            WORLD.client("sts", credentials=c["Credentials"]).get_caller_identity()["Account"],
            "111111111111")

    def test_forged_token_refused(self):
        tok = WORLD.oidc_token()
        h, p, s = tok.split(".")
        claims = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
        claims["sub"] = "repo:evil/fork:ref:refs/heads/main"
        forged = ".".join([h, b64url(json.dumps(claims).encode()), s])
        self.refused(forged, "InvalidIdentityToken")
        self.refused(".".join([b64url(b'{"alg":"none","typ":"JWT"}'), p, ""]),
                     "InvalidIdentityToken")
        self.refused("not-a-jwt", "InvalidIdentityToken")

    def test_expired_token_refused(self):
        now = int(time.time())
        self.refused(self.sign(iat=now - 900, nbf=now - 900, exp=now - 60),
                     "ExpiredTokenException")

    def test_wrong_audience_issuer_subject_refused(self):
        self.refused(WORLD.oidc_token("vault"), "InvalidIdentityToken")
        self.refused(self.sign(aud="https://github.com/acme"), "InvalidIdentityToken")
        self.refused(self.sign(iss="https://token.actions.githubusercontent.com"),
                     "InvalidIdentityToken")
        # Right issuer and audience, but another repository: the trust policy's
        # sub condition refuses.
        self.refused(self.sign(sub="repo:evil/fork:ref:refs/heads/main"), "AccessDenied")
        # A valid token is still accepted (the refusals changed nothing).
        self.assertIn("Credentials", self.assume(self.sign()))


@unittest.skipUnless(os.access(AWS_CLI, os.X_OK), "Debian's awscli v2 is not installed")
class AwsCli(unittest.TestCase):
    """Debian's awscli v2 (2.9.x, on /usr/bin/python3) against the world.

    awscli 2.9 predates the AWS_ENDPOINT_URL_* variables, so every call gets
    --endpoint-url; it also has no `batch-get-secret-value`.
    """

    def aws(self, service, *args, creds=None, ok=True):
        env = WORLD.binary_env({"AWS_PAGER": ""})
        if creds:
            env["AWS_ACCESS_KEY_ID"] = creds["AccessKeyId"]
            env["AWS_SECRET_ACCESS_KEY"] = creds["SecretAccessKey"]
            if creds.get("SessionToken"):
                env["AWS_SESSION_TOKEN"] = creds["SessionToken"]
        endpoint = WORLD.url({"secretsmanager": "secretsmanager", "sts": "sts"}.get(service, "s3"))
        argv = [AWS_CLI, service, *args, "--endpoint-url", endpoint, "--output", "json",
                "--no-cli-pager"]
        p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        if ok and p.returncode != 0:
            self.fail(f"aws {service} {args[0]}: exit {p.returncode}: {p.stderr[-800:]}")
        if not ok:
            self.assertNotEqual(p.returncode, 0, f"aws {service} {args[0]} succeeded")
            return p.stderr
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def test_cli_sts_identities(self):
        me = self.aws("sts", "get-caller-identity")
        self.assertEqual(me["Arn"], "arn:aws:iam::123456789012:user/secretsync-ci")
        c = self.aws("sts", "assume-role", "--role-arn", WORLD.env["SECRETSYNC_TEST_ROLE_ARN_PROD"],
                     "--role-session-name", "cli")["Credentials"]
        who = self.aws("sts", "get-caller-identity", creds=c)
        self.assertEqual(who["Arn"], "arn:aws:sts::222222222222:assumed-role/secretsync/cli")
        err = self.aws("sts", "get-caller-identity", ok=False,
                       creds={"AccessKeyId": WORLD.env["AWS_ACCESS_KEY_ID"],
                              "SecretAccessKey": "wrong"})
        self.assertIn("SignatureDoesNotMatch", err)
        err = self.aws("sts", "assume-role", "--role-arn",
                       WORLD.env["SECRETSYNC_TEST_ROLE_ARN_LOCKED"], "--role-session-name", "xx",
                       ok=False)
        self.assertIn("AccessDenied", err)

    def test_cli_web_identity(self):
        role = WORLD.env["SECRETSYNC_TEST_WEB_IDENTITY_ROLE_ARN"]
        r = self.aws("sts", "assume-role-with-web-identity", "--role-arn", role,
                     "--role-session-name", "cli-gha", "--web-identity-token", WORLD.oidc_token())
        self.assertEqual(r["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::123456789012:assumed-role/secretsync-github/cli-gha")
        now = int(time.time())
        key = jwtlib.load_key(WORLD.env["SECRETSYNC_TEST_JWT_KEY"])
        expired = jwtlib.sign({"iss": WORLD.env["SECRETSYNC_TEST_OIDC_ISSUER"],
                               "aud": "sts.amazonaws.com", "sub": "repo:acme/infra:ref:x",
                               "iat": now - 900, "exp": now - 60}, key)
        err = self.aws("sts", "assume-role-with-web-identity", "--role-arn", role,
                       "--role-session-name", "cli-gha", "--web-identity-token", expired, ok=False)
        self.assertIn("ExpiredTokenException", err)

    def test_cli_secretsmanager(self):
        c = self.aws("sts", "assume-role", "--role-arn",
                     WORLD.env["SECRETSYNC_TEST_ROLE_ARN_STAGING"],
                     "--role-session-name", "cli-sm")["Credentials"]
        tok = uuid.uuid4().hex + "cli00001"
        r = self.aws("secretsmanager", "create-secret", "--name", "app/cli/one",
                     "--secret-string", '{"a":1}', "--client-request-token", tok,
                     "--tags", "Key=managed-by,Value=secretsync",
                     "Key=secretsync:target,Value=staging", creds=c)
        self.assertEqual(r["VersionId"], tok)
        tok2 = uuid.uuid4().hex + "cli00002"
        v = self.aws("secretsmanager", "put-secret-value", "--secret-id", "app/cli/one",
                     "--secret-string", '{"a":2}', "--client-request-token", tok2, creds=c)
        again = self.aws("secretsmanager", "put-secret-value", "--secret-id", "app/cli/one",
                         "--secret-string", '{"a":2}', "--client-request-token", tok2, creds=c)
        self.assertEqual(v["VersionId"], again["VersionId"])
        err = self.aws("secretsmanager", "put-secret-value", "--secret-id", "app/cli/one",
                       "--secret-string", '{"a":3}', "--client-request-token", tok2,
                       creds=c, ok=False)
        self.assertIn("ResourceExistsException", err)
        got = self.aws("secretsmanager", "get-secret-value", "--secret-id", "app/cli/one", creds=c)
        self.assertEqual(got["SecretString"], '{"a":2}')
        self.aws("secretsmanager", "tag-resource", "--secret-id", "app/cli/one", "--tags",
                 "Key=managed-by,Value=secretsync", "Key=owner,Value=cli", creds=c)
        d = self.aws("secretsmanager", "describe-secret", "--secret-id", "app/cli/one", creds=c)
        self.assertEqual({t["Key"]: t["Value"] for t in d["Tags"]}["owner"], "cli")
        r = self.aws("secretsmanager", "delete-secret", "--secret-id", "app/cli/one",
                     "--recovery-window-in-days", "7", creds=c)
        self.assertIn("DeletionDate", r)
        err = self.aws("secretsmanager", "delete-secret", "--secret-id", "app/hand-made",
                       "--recovery-window-in-days", "7", creds=c, ok=False)
        self.assertIn("AccessDenied", err)

    def test_cli_list_pagination(self):
        creds = WORLD.assume(WORLD.env["SECRETSYNC_TEST_ROLE_ARN_PROD"], "cli-page")
        sm = WORLD.client("secretsmanager", credentials=creds)
        names = [f"app/clipage/s{i:02d}" for i in range(14)]
        for n in names:
            sm.create_secret(Name=n, SecretString="v",
                             Tags=[{"Key": "managed-by", "Value": "secretsync"}])
        WORLD.clear_log()
        r = self.aws("secretsmanager", "list-secrets", "--page-size", "2", "--filters",
                     "Key=name,Values=app/clipage/", creds=creds)
        self.assertEqual(sorted(s["Name"] for s in r["SecretList"]), names)
        calls = [e for e in WORLD.log(service="secretsmanager") if e["operation"] == "ListSecrets"]
        self.assertGreaterEqual(len(calls), 7)
        self.assertTrue(all(e["status"] == 200 for e in calls))

    def test_cli_s3(self):
        bucket = WORLD.env["SECRETSYNC_TEST_BUCKET"]
        with tempfile.NamedTemporaryFile("wb", suffix=".json") as f:
            f.write(b'{"cli":true}')
            f.flush()
            r = self.aws("s3api", "put-object", "--bucket", bucket, "--key", "bundles/cli.json",
                         "--body", f.name, "--server-side-encryption", "AES256")
            self.assertEqual(r["ServerSideEncryption"], "AES256")
            err = self.aws("s3api", "put-object", "--bucket", bucket, "--key",
                           "bundles/cli-plain.json", "--body", f.name, ok=False)
            self.assertIn("AccessDenied", err)
            err = self.aws("s3api", "put-object", "--bucket", bucket, "--key", "other/cli.json",
                           "--body", f.name, "--server-side-encryption", "AES256", ok=False)
            self.assertIn("AccessDenied", err)
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "out.json")
            r = self.aws("s3api", "get-object", "--bucket", bucket, "--key", "bundles/cli.json", out)
            with open(out, "rb") as f:
                self.assertEqual(f.read(), b'{"cli":true}')
        r = self.aws("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "bundles/")
        self.assertIn("bundles/cli.json", [o["Key"] for o in r["Contents"]])


if __name__ == "__main__":
    unittest.main()
