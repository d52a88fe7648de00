"""`secretsync pipeline` and `plan` end to end against the test world.

Runs build/secretsync (SECRETSYNC_BIN overrides it) with the configs in
tests/integration/e2e_configs/ against one world (fixture
tests/emulators/fixtures/e2e.json: Vault, moto behind the fault proxy,
GitHub) shared by the whole module. Tests stay apart by their own Vault
folder (kv/<id>/, written through the emulator's /_emu/secret), their own
AWS prefix (app/<id>/) and merge-store prefix (bundles/<id>/), passed to the
configs as E2E_ID / E2E_PATH. Assertions read AWS with boto3 straight from
moto (an auditor user per account, so they do not show in the proxy's
request log), the request log for mutating requests, and the emulators'
/_emu/state.

Covers SPEC §5 and the reporting of §6/§8: first sync (values, tags, S3
bundle and its encryption), an idempotent re-run, plan after a Vault change
(--exit-code, the JSON report schema, no value anywhere), A -> B -> A as a
new version, retried writes (lost answers) making one version, three-level
inheritance and the merge options, orphans (recovery window, restorable;
untagged and other targets' secrets kept), a secret scheduled for deletion,
continue_on_error on and off, unreadable sources, denied and throttled
writes, an AWS source and a base-account target, GitHub OIDC credentials,
--targets, --merge-only, --sync-only, pipeline.dry_run, --parallel bounds,
the Vault merge store, SSE-KMS, --output github with the step files (masks
first, groups, errors, outputs, summary), hostile key names, the sticky PR
comment (edited in place, cut to fit) and the commit status, the GitHub
token from AWS, --show-values (local only; refused in Actions), --dry-run
== plan.

    python3 tests/integration/run.py test_pipeline_e2e
"""
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

from world_fixture import ROOT, World

sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
import ghfile_parse  # noqa: E402

BIN = os.environ.get("SECRETSYNC_BIN", os.path.join(ROOT, "build", "secretsync"))
CONFIGS = os.path.join("tests", "integration", "e2e_configs")  # relative to ROOT
STAGING = "111111111111"
PROD = "222222222222"
BUCKET = "secretsync-merged"
PR_NUMBER = 7
WORLD = None
SNAPSHOT = None


def snapshot_binary():
    """A private copy of BIN: others may relink build/secretsync meanwhile.

    Returns (directory to remove, path of the copy)."""
    if not os.access(BIN, os.X_OK):
        raise unittest.SkipTest(f"{BIN} is not built (make)")
    d = tempfile.mkdtemp(prefix="secretsync-bin-")
    path = os.path.join(d, "secretsync")
    shutil.copy2(BIN, path)
    return d, path


def setUpModule():
    global WORLD, SNAPSHOT
    SNAPSHOT = snapshot_binary()
    WORLD = World("e2e").start()


def tearDownModule():
    if WORLD:
        WORLD.stop()
    if SNAPSHOT:
        shutil.rmtree(SNAPSHOT[0], ignore_errors=True)


# --- the merge rules of SPEC §5, written out for the assertions ---------

def deepmerge(a, b, lists="append", nulls="override"):
    """A new value: maps merged recursively, lists appended (or replaced,
    or b's new items added: union), else b (a null in b keeps a with
    nulls=keep)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = copy.deepcopy(a)
        for k, v in b.items():
            out[k] = deepmerge(out[k], v, lists, nulls) if k in out else copy.deepcopy(v)
        return out
    if isinstance(a, list) and isinstance(b, list):
        if lists == "replace":
            return copy.deepcopy(b)
        if lists == "union":
            out = copy.deepcopy(a)
            for x in b:
                if x not in out:
                    out.append(copy.deepcopy(x))
            return out
        return copy.deepcopy(a) + copy.deepcopy(b)
    if b is None and nulls == "keep":
        return copy.deepcopy(a)
    return copy.deepcopy(b)


def merge_bundles(*bundles, **opts):
    out = {}
    for b in bundles:
        for name, value in b.items():
            out[name] = (deepmerge(out[name], value, **opts) if name in out
                         else copy.deepcopy(value))
    return out


def string_leaves(v):
    """Every string in v (what must never be printed)."""
    if isinstance(v, dict):
        for x in v.values():
            yield from string_leaves(x)
    elif isinstance(v, list):
        for x in v:
            yield from string_leaves(x)
    elif isinstance(v, str):
        yield v


def unescape(msg):
    return msg.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")


# --- talking to the world ------------------------------------------------

class Harness:
    """Runs the binary and reads the world; shared with test_verify."""

    def __init__(self, world, binary):
        self.world = world
        self.binary = binary
        self._clients = {}

    # the binary
    def run(self, args, env=None, drop=(), timeout=60):
        full = self.world.binary_env(env or {}, drop=drop)
        t0 = time.monotonic()
        p = subprocess.run([self.binary] + list(args), cwd=ROOT, env=full, capture_output=True,
                           text=True, timeout=timeout)
        return Run(p, time.monotonic() - t0, args)

    # Vault
    def emu(self, service, path, body=None):
        base = {"vault": "SECRETSYNC_TEST_VAULT_URL",
                "github": "SECRETSYNC_TEST_GITHUB_URL"}[service]
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.world.env[base] + path, data=data,
                                     method="POST" if data is not None else "GET",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
        return json.loads(raw) if raw else None

    def vault_put(self, path, data, mount="kv"):
        self.emu("vault", "/_emu/secret", {"namespace": "", "mount": mount, "path": path,
                                          "data": data})

    def vault_state(self):
        return self.emu("vault", "/_emu/state")

    def vault_current(self, mount, path):
        """The current data of a KV v2 secret, or None."""
        m = self.vault_state()["namespaces"][""]["mounts"][mount]["secrets"]
        s = m.get(path)
        if s is None:
            return None
        v = s["versions"][str(s["current_version"])]
        return None if v.get("deleted") or v.get("destroyed") else v["data"]

    def vault_writes(self):
        """Requests that changed Vault data (the proxy's view)."""
        return [e for e in self.world.log(service="vault", mutating=True)]

    def github_state(self):
        return self.emu("github", "/_emu/state")

    # AWS, straight to moto as an auditor (not in the request log)
    def aws(self, service, account=None):
        key = (service, account)
        if key not in self._clients:
            import boto3
            from botocore.config import Config
            who = {STAGING: "E2E_AUDIT_STAGING", PROD: "E2E_AUDIT_PROD"}.get(
                account, "E2E_AUDIT_BASE")
            self._clients[key] = boto3.client(
                service, endpoint_url=self.world.env["SECRETSYNC_TEST_MOTO_URL"],
                region_name="us-east-1",
                aws_access_key_id=self.world.env[who + "_ACCESS_KEY_ID"],
                aws_secret_access_key=self.world.env[who + "_SECRET_ACCESS_KEY"],
                config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}))
        return self._clients[key]

    def secrets(self, account, prefix, include_deleted=False):
        """{name: describe} of the secrets under prefix."""
        sm = self.aws("secretsmanager", account)
        out = {}
        kw = {"Filters": [{"Key": "name", "Values": [prefix]}],
              "IncludePlannedDeletion": include_deleted}
        while True:
            page = sm.list_secrets(**kw)
            for s in page["SecretList"]:
                if s["Name"].startswith(prefix):
                    out[s["Name"]] = s
            if not page.get("NextToken"):
                return out
            kw["NextToken"] = page["NextToken"]

    def value(self, account, name):
        v = self.aws("secretsmanager", account).get_secret_value(SecretId=name)
        s = v["SecretString"]
        try:
            return json.loads(s)
        except ValueError:
            return s

    def describe(self, account, name):
        return self.aws("secretsmanager", account).describe_secret(SecretId=name)

    def tags(self, account, name):
        return {t["Key"]: t["Value"] for t in self.describe(account, name).get("Tags", [])}

    def create_secret(self, account, name, value, tags=None):
        kw = {"Name": name, "SecretString": json.dumps(value)}
        if tags:
            kw["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        self.aws("secretsmanager", account).create_secret(**kw)

    def versions(self, account, name):
        """Every version id of a secret."""
        sm = self.aws("secretsmanager", account)
        return [v["VersionId"] for v in
                sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]]

    def bundle(self, key):
        s3 = self.aws("s3")
        obj = s3.get_object(Bucket=BUCKET, Key=key)
        return json.loads(obj["Body"].read()), obj

    def mutating(self, service=None):
        return self.world.log(service=service, mutating=True)


class Run:
    def __init__(self, proc, elapsed, args):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.elapsed = elapsed
        self.args = args

    def json(self):
        return json.loads(self.stdout)

    def __repr__(self):
        return (f"secretsync {' '.join(self.args)}: rc={self.rc} ({self.elapsed:.2f}s)\n"
                f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}")


def check_report(tc, doc, command, dry_run):
    """The JSON report of SPEC §5: every field, its type, consistent counts."""
    tc.assertEqual(doc["version"], 1)
    tc.assertEqual(doc["command"], command)
    tc.assertIs(doc["dry_run"], dry_run)
    tc.assertIsInstance(doc["targets"], list)
    totals = {"create": 0, "update": 0, "delete": 0, "unchanged": 0, "failed": 0}
    for t in doc["targets"]:
        for k in ("name", "account_id", "region", "status", "error", "changes", "counts"):
            tc.assertIn(k, t)
        tc.assertIsInstance(t["name"], str)
        tc.assertTrue(t["account_id"] is None or re.fullmatch(r"\d{12}", t["account_id"]))
        tc.assertIn(t["status"], ("ok", "failed", "skipped"))
        tc.assertTrue((t["error"] is None) == (t["status"] == "ok"), t)
        counts = {"create": 0, "update": 0, "delete": 0, "unchanged": 0}
        for ch in t["changes"]:
            tc.assertEqual(set(("secret", "aws_name", "action", "keys")) - set(ch), set())
            tc.assertIn(ch["action"], counts)
            counts[ch["action"]] += 1
            tc.assertEqual(sorted(ch["keys"]), ["added", "changed", "removed"])
            for lst in ch["keys"].values():
                tc.assertIsInstance(lst, list)
                for p in lst:
                    tc.assertIsInstance(p, str)
            if ch["action"] != "update":
                tc.assertEqual(ch["keys"], {"added": [], "removed": [], "changed": []})
        for k, n in counts.items():
            tc.assertEqual(t["counts"][k], n, (t["name"], k))
            totals[k] += n
        totals["failed"] += t["status"] != "ok"
    tc.assertEqual(doc["counts"], totals)


def assert_no_values(tc, values, *texts):
    for v in values:
        if len(v) < 4:
            continue
        for t in texts:
            tc.assertNotIn(v, t, "a secret value was printed")


class Base(unittest.TestCase):
    """A harness and a per-test id."""

    h = None

    @classmethod
    def setUpClass(cls):
        cls.h = Harness(WORLD, SNAPSHOT[1])

    def setUp(self):
        # A short, unique, AWS- and Vault-safe id: the test's name.
        name = self.id().split(".")[-1].replace("test_", "")
        self.uid = re.sub(r"[^a-z0-9]", "", name.lower())[:24]
        self.env = {"E2E_ID": self.uid, "E2E_PATH": self.uid}
        self.prefix = f"app/{self.uid}/"

    def cfg(self, name):
        return ["-c", os.path.join(CONFIGS, name + ".yaml")]

    def put(self, name, data):
        """Write kv/<uid>/<name>; returns the secret name the pipeline sees."""
        self.h.vault_put(f"{self.uid}/{name}", data)
        return f"{self.uid}/{name}"

    def ok(self, r, code=0):
        self.assertEqual(r.rc, code, r)
        return r

    def no_mutation(self, what):
        m = self.h.mutating()
        self.assertEqual(m, [], f"{what}: mutating requests {m}")


# --- first sync and the idempotent re-run ----------------------------------

class FirstSync(Base):
    """first.yaml: shared + team -> staging (111) -> prod (222)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with open(os.path.join(ROOT, "tests", "emulators", "fixtures", "e2e.json")) as f:
            fx = json.load(f)
        mounts = fx["vault"]["namespaces"][""]["mounts"]
        cls.shared = mounts["shared"]["secrets"]
        cls.team = {k: v for k, v in mounts["kv"]["secrets"].items()
                    if k.startswith("team/app/")}
        cls.expected = merge_bundles(cls.shared, cls.team)
        WORLD.clear_log()
        cls.first = cls.h.run(["pipeline", "-c", os.path.join(CONFIGS, "first.yaml"),
                               "--output", "json"])
        cls.first_log = WORLD.log()

    def test_first_sync_values_and_tags(self):
        self.ok(self.first)
        for account, target in ((STAGING, "staging"), (PROD, "prod")):
            got = self.h.secrets(account, "app/first/")
            self.assertEqual(sorted(got), sorted("app/first/" + n for n in self.expected))
            for name, want in self.expected.items():
                aws_name = "app/first/" + name
                self.assertEqual(self.h.value(account, aws_name), want, aws_name)
                self.assertEqual(self.h.tags(account, aws_name),
                                 {"managed-by": "secretsync", "secretsync:target": target})
        doc = self.first.json()
        check_report(self, doc, "pipeline", False)
        self.assertEqual(doc["counts"]["create"], 2 * len(self.expected))
        # The distinctive values (the fixture's "info" or "stdout" are words).
        assert_no_values(self, [v for v in string_leaves(self.expected) if len(v) >= 10],
                         self.first.stdout, self.first.stderr)

    def test_first_sync_requests(self):
        creates = [e for e in self.first_log if e.get("operation") == "CreateSecret"]
        self.assertEqual(len(creates), 2 * len(self.expected))
        self.assertTrue(all(e["status"] == 200 for e in creates), creates)
        puts = [e["resource"] for e in self.first_log if e.get("operation") == "PutObject"]
        self.assertEqual(sorted(puts), [f"{BUCKET}/bundles/first/prod.json",
                                        f"{BUCKET}/bundles/first/staging.json"])
        self.assertFalse([e for e in self.first_log if e.get("error")])
        # The token the AppRole login returned is revoked at the end.
        vault = [e["operation"] for e in self.first_log if e["service"] == "vault"]
        self.assertEqual(vault[0], "POST /v1/auth/approle/login")
        self.assertEqual(vault[-1], "POST /v1/auth/token/revoke-self")

    def test_bundle_in_s3_sse(self):
        self.ok(self.first)
        for target in ("staging", "prod"):
            body, obj = self.h.bundle(f"bundles/first/{target}.json")
            self.assertEqual(body, self.expected)
            self.assertEqual(obj.get("ServerSideEncryption"), "AES256")

    def test_rerun_is_idempotent(self):
        self.ok(self.first)
        before = {a: {n: d["SecretVersionsToStages"] for n, d in self.h.secrets(a, "app/first/").items()}
                  for a in (STAGING, PROD)}
        objs = {t: self.h.aws("s3").head_object(Bucket=BUCKET, Key=f"bundles/first/{t}.json")
                for t in ("staging", "prod")}
        vault_before = self.h.vault_state()["requests"]
        WORLD.clear_log()
        r = self.ok(self.h.run(["pipeline"] + self.cfg("first") + ["--output", "json"]))
        self.no_mutation("re-run")
        doc = r.json()
        self.assertEqual(doc["counts"]["unchanged"], 2 * len(self.expected))
        self.assertEqual(doc["counts"]["create"] + doc["counts"]["update"], 0)
        after = {a: {n: d["SecretVersionsToStages"] for n, d in self.h.secrets(a, "app/first/").items()}
                 for a in (STAGING, PROD)}
        self.assertEqual(before, after, "a new Secrets Manager version")
        for t, o in objs.items():
            now = self.h.aws("s3").head_object(Bucket=BUCKET, Key=f"bundles/first/{t}.json")
            self.assertEqual((now["ETag"], now["LastModified"]), (o["ETag"], o["LastModified"]))
        vault_after = self.h.vault_state()["requests"]
        writes = {k: vault_after[k] - vault_before.get(k, 0) for k in vault_after
                  if k.split(" ")[0] in ("POST", "PUT", "PATCH", "DELETE")
                  and "auth/" not in k and vault_after[k] != vault_before.get(k, 0)}
        self.assertEqual(writes, {}, "Vault writes on a re-run")
        # --exit-code: nothing to change is 0.
        self.ok(self.h.run(["plan", "--exit-code"] + self.cfg("first")))


# --- plan, apply, revert ------------------------------------------------

class PlanAndApply(Base):
    """single.yaml: kv/<uid>/ -> staging -> prod."""

    def sync(self, data):
        self.put("db", data)
        return self.ok(self.h.run(["pipeline"] + self.cfg("single"), env=self.env))

    def test_plan_after_vault_change(self):
        a = {"host": "db.example", "password": "pw-A-3f1c9e", "user": "app"}
        self.sync(a)
        b = dict(a, password="pw-B-77d02a", port=5432)
        self.put("db", b)
        WORLD.clear_log()
        r = self.h.run(["plan", "--exit-code"] + self.cfg("single"), env=self.env)
        self.assertEqual(r.rc, 2, r)
        self.assertIn(f"{self.prefix}{self.uid}/db", r.stdout)
        self.assertIn("password changed", r.stdout)
        self.assertIn("+port", r.stdout)
        self.no_mutation("plan")
        assert_no_values(self, ["pw-A-3f1c9e", "pw-B-77d02a", "db.example"], r.stdout, r.stderr)

        r = self.h.run(["plan", "--output", "json"] + self.cfg("single"), env=self.env)
        self.ok(r)
        self.no_mutation("plan --output json")
        doc = r.json()
        check_report(self, doc, "plan", True)
        assert_no_values(self, ["pw-A-3f1c9e", "pw-B-77d02a", "db.example"], r.stdout)
        self.assertEqual(doc["counts"], {"create": 0, "update": 2, "delete": 0, "unchanged": 0,
                                         "failed": 0})
        for t in doc["targets"]:
            self.assertEqual(t["status"], "ok")
            self.assertEqual(t["account_id"], {"staging": STAGING, "prod": PROD}[t["name"]])
            self.assertEqual(t["region"], "us-east-1")
            [ch] = t["changes"]
            self.assertEqual(ch, {"secret": f"{self.uid}/db", "aws_name": f"{self.prefix}{self.uid}/db",
                                  "action": "update", "whole": False,
                                  "keys": {"added": ["port"], "removed": [], "changed": ["password"]}})

        self.ok(self.h.run(["pipeline"] + self.cfg("single"), env=self.env))
        for account in (STAGING, PROD):
            self.assertEqual(self.h.value(account, f"{self.prefix}{self.uid}/db"), b)
        self.ok(self.h.run(["plan", "--exit-code"] + self.cfg("single"), env=self.env))

    def test_revert_lands_as_new_version(self):
        name = f"{self.prefix}{self.uid}/db"
        a = {"password": "pw-revert-A-1"}
        b = {"password": "pw-revert-B-2"}
        self.sync(a)
        v1 = self.h.describe(STAGING, name)
        self.sync(b)
        self.sync(a)
        d = self.h.describe(STAGING, name)
        self.assertEqual(self.h.value(STAGING, name), a)
        current = [v for v, st in d["VersionIdsToStages"].items() if "AWSCURRENT" in st]
        first = [v for v, st in v1["VersionIdsToStages"].items() if "AWSCURRENT" in st]
        self.assertNotEqual(current, first, "A -> B -> A did not make a new version")
        self.assertEqual(len(set(self.h.versions(STAGING, name))), 3)

    def test_retried_writes_make_one_version(self):
        """A write whose answer is lost is retried with the same token."""
        name = f"{self.prefix}{self.uid}/db"
        WORLD.clear_faults()
        self.addCleanup(WORLD.clear_faults)
        self.put("db", {"password": "pw-retry-1"})
        WORLD.clear_log()
        WORLD.fault("secretsmanager", "drop_after", operation="CreateSecret", count=1)
        self.ok(self.h.run(["pipeline"] + self.cfg("single"), env=self.env))
        creates = [e for e in WORLD.log(service="secretsmanager")
                   if e["operation"] == "CreateSecret"]
        self.assertEqual(len(creates), 3, creates)  # two targets, one retry
        for account in (STAGING, PROD):
            self.assertEqual(len(self.h.versions(account, name)), 1, account)
        self.put("db", {"password": "pw-retry-2"})
        WORLD.clear_log()
        WORLD.fault("secretsmanager", "drop_after", operation="PutSecretValue", count=2)
        self.ok(self.h.run(["pipeline"] + self.cfg("single"), env=self.env))
        puts = [e for e in WORLD.log(service="secretsmanager")
                if e["operation"] == "PutSecretValue"]
        self.assertEqual(len(puts), 4, puts)
        for account in (STAGING, PROD):
            self.assertEqual(len(self.h.versions(account, name)), 2, account)
            self.assertEqual(self.h.value(account, name), {"password": "pw-retry-2"})

    def test_dry_run_is_the_plan(self):
        self.sync({"password": "pw-dry-1", "level": "x"})
        self.put("db", {"password": "pw-dry-2"})
        self.put("new", {"k": "vvvv-new"})
        WORLD.clear_log()
        p = self.ok(self.h.run(["plan", "--output", "json"] + self.cfg("single"), env=self.env))
        d = self.ok(self.h.run(["pipeline", "--dry-run", "--output", "json"] + self.cfg("single"),
                               env=self.env))
        self.no_mutation("plan and --dry-run")

        def strip(doc):
            doc = dict(doc)
            doc.pop("command")
            for t in doc["targets"]:
                t.pop("seconds", None)
            return doc
        self.assertEqual(strip(p.json()), strip(d.json()))
        self.assertEqual(p.json()["counts"]["create"], 2)
        self.assertEqual(p.json()["counts"]["update"], 2)
        self.assertTrue(d.json()["dry_run"])
        # The text forms agree too, and a dry run with --exit-code says 2.
        pt = self.h.run(["plan"] + self.cfg("single"), env=self.env)
        dt = self.h.run(["pipeline", "--dry-run", "--diff", "--exit-code"] + self.cfg("single"),
                        env=self.env)
        self.assertEqual((pt.rc, dt.rc), (0, 2), (pt, dt))
        self.assertEqual(pt.stdout, dt.stdout)
        self.no_mutation("text plan and --dry-run")

    def test_show_values_refused_in_actions(self):
        r = self.h.run(["plan", "--show-values"] + self.cfg("single"),
                       env=dict(self.env, GITHUB_ACTIONS="true"))
        self.assertEqual(r.rc, 64, r)
        self.assertIn("--show-values", r.stderr)

    def test_show_values_local_text_diff(self):
        self.sync({"password": "pw-show-old-1"})
        self.put("db", {"password": "pw-show-new-2"})
        r = self.ok(self.h.run(["plan", "--show-values"] + self.cfg("single"), env=self.env))
        self.assertIn("pw-show-new-2", r.stdout)
        self.assertIn("pw-show-old-1", r.stdout)
        # Never in the JSON report, even when asked.
        j = self.ok(self.h.run(["plan", "--show-values", "--output", "json"] + self.cfg("single"),
                               env=self.env))
        assert_no_values(self, ["pw-show-new-2", "pw-show-old-1"], j.stdout, j.stderr)


# --- inheritance ------------------------------------------------------------

class Inheritance(Base):
    """inherit.yaml: a <- lvl1; b <- a + lvl2; c <- b + lvl3 (same names)."""

    def test_three_levels(self):
        base = {"cfg": {"db": {"host": "base-host", "pool": 5}, "hosts": ["h-base"],
                        "level": "base", "only_base": "b-only"},
                "base-only": {"x": "from-base"}}
        mid = {"cfg": {"db": {"pool": 10, "timeout": 30}, "hosts": ["h-mid"],
                       "level": "mid"},
               "mid-only": {"y": "from-mid"}}
        top = {"cfg": {"db": {"host": "top-host"}, "hosts": ["h-top", "h-base"],
                       "level": None, "only_top": "t-only"},
               "base-only": {"x": "overridden-by-top", "z": ["zz"]}}
        src = {}
        for mount, data in (("lvl1", base), ("lvl2", mid), ("lvl3", top)):
            for name, value in data.items():
                self.h.vault_put(f"{self.uid}/{name}", value, mount=mount)
            src[mount] = {f"{self.uid}/{n}": v for n, v in data.items()}
        want_a = merge_bundles(src["lvl1"])
        want_b = merge_bundles(want_a, src["lvl2"])
        want_c = merge_bundles(want_b, src["lvl3"])
        # The rules, spelt out once so that merge_bundles itself is checked.
        self.assertEqual(want_c[f"{self.uid}/cfg"],
                         {"db": {"host": "top-host", "pool": 10, "timeout": 30},
                          "hosts": ["h-base", "h-mid", "h-top", "h-base"], "level": None,
                          "only_base": "b-only", "only_top": "t-only"})
        r = self.ok(self.h.run(["pipeline", "--output", "json"] + self.cfg("inherit"),
                               env=self.env))
        self.assertEqual([t["name"] for t in r.json()["targets"]], ["a", "b", "c"])
        for target, account, want in (("a", STAGING, want_a), ("b", STAGING, want_b),
                                      ("c", PROD, want_c)):
            pfx = f"{self.prefix}{target}/"
            got = {n[len(pfx):]: self.h.value(account, n) for n in self.h.secrets(account, pfx)}
            self.assertEqual(got, want, target)
        # A change at the bottom reaches every level, in one run.
        self.h.vault_put(f"{self.uid}/cfg", dict(base["cfg"], level="base-2"), mount="lvl1")
        p = self.h.run(["plan", "--exit-code", "--output", "json"] + self.cfg("inherit"),
                       env=self.env)
        self.assertEqual(p.rc, 2, p)
        changed = {t["name"]: [c["keys"]["changed"] for c in t["changes"]
                               if c["action"] == "update"] for t in p.json()["targets"]}
        # c's level comes from top (null): unchanged there.
        self.assertEqual(changed, {"a": [["level"]], "b": [], "c": []})


    def test_merge_options(self):
        """pipeline.merge lists: replace / union and nulls: keep."""
        base = {"cfg": {"hosts": ["h1", "h2"], "gone": "kept-or-not", "n": {"a": "x"}}}
        mid = {"cfg": {"hosts": ["h2", "h3", "h3"], "gone": None}}
        top = {"cfg": {"hosts": ["h4"], "n": None}}
        for mount, data in (("lvl1", base), ("lvl2", mid), ("lvl3", top)):
            self.h.vault_put(f"{self.uid}/cfg", data["cfg"], mount=mount)
        src = [{f"{self.uid}/cfg": d["cfg"]} for d in (base, mid, top)]
        for lists, nulls, want in (
                ("replace", "override", {"hosts": ["h4"], "gone": None, "n": None}),
                ("union", "keep", {"hosts": ["h1", "h2", "h3", "h4"], "gone": "kept-or-not",
                                   "n": {"a": "x"}})):
            env = dict(self.env, E2E_LISTS=lists, E2E_NULLS=nulls)
            self.assertEqual(merge_bundles(*src, lists=lists, nulls=nulls)[f"{self.uid}/cfg"],
                             want)
            self.ok(self.h.run(["pipeline"] + self.cfg("inherit"), env=env))
            self.assertEqual(self.h.value(PROD, f"{self.prefix}c/{self.uid}/cfg"), want,
                             (lists, nulls))


# --- orphans ----------------------------------------------------------------

class Orphans(Base):
    def setup_orphans(self):
        self.put("keep", {"v": "keep-value-1"})
        self.h.create_secret(STAGING, f"{self.prefix}gone",
                             {"stale": "stale-value-1"},
                             {"managed-by": "secretsync", "secretsync:target": "staging"})
        self.h.create_secret(STAGING, f"{self.prefix}hand-made", {"mine": "hand-value-1"})
        self.h.create_secret(STAGING, f"{self.prefix}half-tagged", {"mine": "hand-value-2"},
                             {"managed-by": "someone-else", "secretsync:target": "staging"})
        self.h.create_secret(STAGING, f"{self.prefix}other-target", {"o": "other-value-1"},
                             {"managed-by": "secretsync", "secretsync:target": "prod"})
        # In prod's account, an orphan of staging's: never prod's to delete.
        self.h.create_secret(PROD, f"{self.prefix}staging-owned", {"o": "other-value-2"},
                             {"managed-by": "secretsync", "secretsync:target": "staging"})

    def test_delete_orphans(self):
        self.setup_orphans()
        p = self.ok(self.h.run(["plan", "--output", "json"] + self.cfg("single"), env=self.env))
        deletes = [(t["name"], c["aws_name"]) for t in p.json()["targets"]
                   for c in t["changes"] if c["action"] == "delete"]
        self.assertEqual(deletes, [("staging", f"{self.prefix}gone")])
        WORLD.clear_log()
        t0 = time.time()
        r = self.ok(self.h.run(["pipeline", "--output", "json"] + self.cfg("single"), env=self.env))
        self.assertEqual(r.json()["counts"]["delete"], 1)
        dels = [e for e in WORLD.log(service="secretsmanager") if e["operation"] == "DeleteSecret"]
        self.assertEqual([e["resource"] for e in dels], [f"{self.prefix}gone"])
        d = self.h.describe(STAGING, f"{self.prefix}gone")
        self.assertIn("DeletedDate", d)
        # single.yaml: recovery_window_days 7 (moto reports the deletion date).
        days = (d["DeletedDate"].timestamp() - t0) / 86400
        self.assertTrue(6.9 < days < 7.1, days)
        for name in ("hand-made", "half-tagged", "other-target"):
            self.assertNotIn("DeletedDate", self.h.describe(STAGING, self.prefix + name), name)
        self.assertNotIn("DeletedDate", self.h.describe(PROD, f"{self.prefix}staging-owned"))
        # Not forced: it can be restored, with its value.
        self.h.aws("secretsmanager", STAGING).restore_secret(SecretId=f"{self.prefix}gone")
        self.assertEqual(self.h.value(STAGING, f"{self.prefix}gone"), {"stale": "stale-value-1"})
        # The hand-made secrets are untouched, values and tags.
        self.assertEqual(self.h.tags(STAGING, f"{self.prefix}hand-made"), {})
        self.assertEqual(self.h.value(STAGING, f"{self.prefix}hand-made"), {"mine": "hand-value-1"})

    def test_deleted_orphan_is_not_deleted_again(self):
        self.setup_orphans()
        self.ok(self.h.run(["pipeline"] + self.cfg("single"), env=self.env))
        WORLD.clear_log()
        r = self.ok(self.h.run(["plan", "--output", "json", "--exit-code"] + self.cfg("single"),
                               env=self.env))
        self.assertEqual(r.json()["counts"]["delete"], 0)
        self.ok(self.h.run(["pipeline"] + self.cfg("single"), env=self.env))
        self.no_mutation("a second run after the delete")

    def test_keep_orphans(self):
        self.setup_orphans()
        env = dict(self.env, E2E_DELETE_ORPHANS="false")
        WORLD.clear_log()
        r = self.ok(self.h.run(["pipeline", "--output", "json"] + self.cfg("single"), env=env))
        self.assertEqual(r.json()["counts"]["delete"], 0)
        self.assertEqual([e for e in WORLD.log(service="secretsmanager")
                          if e["operation"] == "DeleteSecret"], [])
        self.assertNotIn("DeletedDate", self.h.describe(STAGING, f"{self.prefix}gone"))
        self.assertIn(f"{self.prefix}gone", r.stderr)  # named as kept


# --- failures ---------------------------------------------------------------

class Failures(Base):
    def test_continue_on_error(self):
        self.put("db", {"password": "pw-coe-1"})
        r = self.h.run(["pipeline", "--output", "json"] + self.cfg("failing"),
                       env=dict(self.env, E2E_CONTINUE="true"))
        self.assertEqual(r.rc, 1, r)
        doc = r.json()
        check_report(self, doc, "pipeline", False)
        by = {t["name"]: t for t in doc["targets"]}
        self.assertEqual(by["denied"]["status"], "failed")
        self.assertIn("333333333333", by["denied"]["error"])
        self.assertEqual((by["first"]["status"], by["last"]["status"]), ("ok", "ok"))
        self.assertEqual(doc["counts"]["failed"], 1)
        self.assertEqual(doc["counts"]["create"], 2)
        self.assertEqual(self.h.value(STAGING, f"{self.prefix}{self.uid}/db"), {"password": "pw-coe-1"})
        self.assertEqual(self.h.value(PROD, f"{self.prefix}{self.uid}/db"), {"password": "pw-coe-1"})

    def test_without_continue_on_error(self):
        self.put("db", {"password": "pw-abort-1"})
        WORLD.clear_log()
        r = self.h.run(["pipeline", "--output", "json"] + self.cfg("failing"), env=self.env)
        self.assertEqual(r.rc, 1, r)
        doc = r.json()
        check_report(self, doc, "pipeline", False)
        by = {t["name"]: t for t in doc["targets"]}
        self.assertEqual(by["denied"]["status"], "failed")
        self.assertEqual(by["last"]["status"], "skipped")
        # Nothing reported as done that was not done.
        for t in doc["targets"]:
            if t["status"] != "ok":
                self.assertEqual(t["counts"]["create"] + t["counts"]["update"], 0, t)
        written = {e["resource"] for e in WORLD.log(service="secretsmanager", mutating=True)}
        self.assertEqual(doc["counts"]["create"], len(written))
        self.assertEqual(self.h.secrets(PROD, self.prefix), {})

    def test_exit_code_with_a_failure_is_1(self):
        self.put("db", {"password": "pw-exit-1"})
        r = self.h.run(["plan", "--exit-code"] + self.cfg("failing"),
                       env=dict(self.env, E2E_CONTINUE="true"))
        self.assertEqual(r.rc, 1, r)

    def test_unreadable_source(self):
        self.put("db", {"password": "pw-badsrc-1"})
        r = self.h.run(["pipeline", "--output", "json"] + self.cfg("badsource"), env=self.env)
        self.assertEqual(r.rc, 1, r)
        by = {t["name"]: t for t in r.json()["targets"]}
        self.assertEqual(by["fine"]["status"], "ok")
        self.assertEqual(by["broken"]["status"], "failed")
        self.assertIn("source bad could not be read", by["broken"]["error"])
        self.assertIn("nomount", by["broken"]["error"])
        self.assertEqual(by["child"]["status"], "failed")
        self.assertIn("imports target broken, which failed", by["child"]["error"])
        self.assertEqual(self.h.value(STAGING, f"{self.prefix}fine/{self.uid}/db"),
                         {"password": "pw-badsrc-1"})
        self.assertEqual(self.h.secrets(STAGING, f"{self.prefix}broken/"), {})
        self.assertEqual(self.h.secrets(PROD, self.prefix), {})

    def test_secret_scheduled_for_deletion(self):
        name = f"{self.prefix}{self.uid}/back"
        self.h.create_secret(STAGING, name, {"v": "old-back-1"},
                             {"managed-by": "secretsync", "secretsync:target": "staging"})
        self.h.aws("secretsmanager", STAGING).delete_secret(SecretId=name,
                                                             RecoveryWindowInDays=7)
        self.put("back", {"v": "new-back-2"})
        WORLD.clear_log()
        r = self.h.run(["pipeline", "--output", "json"] + self.cfg("single"), env=self.env)
        self.assertEqual(r.rc, 1, r)
        by = {t["name"]: t for t in r.json()["targets"]}
        self.assertEqual(by["staging"]["status"], "failed")
        self.assertIn("scheduled for deletion", by["staging"]["error"])
        self.assertIn("restore-secret", by["staging"]["error"])
        self.assertEqual(by["prod"]["status"], "skipped")
        self.assertEqual(self.h.mutating("secretsmanager"), [])
        assert_no_values(self, ["old-back-1", "new-back-2"], r.stdout, r.stderr)

    def test_write_failures(self):
        """A throttled write is retried; a denied one fails its target only."""
        name = f"{self.prefix}{self.uid}/db"
        self.addCleanup(WORLD.clear_faults)
        self.put("db", {"password": "pw-wf-1"})
        self.ok(self.h.run(["pipeline"] + self.cfg("single"), env=self.env))
        self.put("db", {"password": "pw-wf-2"})
        WORLD.fault("secretsmanager", "aws_error", operation="PutSecretValue", count=2,
                    code="ThrottlingException", status=400, message="Rate exceeded")
        self.ok(self.h.run(["pipeline"] + self.cfg("single"), env=self.env))
        for account in (STAGING, PROD):
            self.assertEqual(self.h.value(account, name), {"password": "pw-wf-2"})
        self.put("db", {"password": "pw-wf-3"})
        WORLD.fault("secretsmanager", "aws_error", operation="PutSecretValue", count=1,
                    code="AccessDeniedException", status=400, message="not allowed")
        r = self.h.run(["pipeline", "--output", "json"] + self.cfg("single"), env=self.env)
        self.assertEqual(r.rc, 1, r)
        by = {t["name"]: t for t in r.json()["targets"]}
        failed = [t for t in by.values() if t["status"] == "failed"]
        self.assertEqual(len(failed), 1, by)
        self.assertIn(name, failed[0]["error"])
        self.assertIn("AccessDenied", failed[0]["error"])
        ok = [t for t in by.values() if t["status"] == "ok"][0]
        account = ok["account_id"]
        self.assertEqual(self.h.value(account, name), {"password": "pw-wf-3"})
        other = PROD if account == STAGING else STAGING
        self.assertEqual(self.h.value(other, name), {"password": "pw-wf-2"})
        # The next run finishes the job.
        r = self.ok(self.h.run(["pipeline", "--output", "json"] + self.cfg("single"), env=self.env))
        self.assertEqual(r.json()["counts"]["update"], 1)
        self.assertEqual(self.h.value(other, name), {"password": "pw-wf-3"})

    def test_vault_auth_failure(self):
        self.put("db", {"password": "pw-auth-1"})
        WORLD.clear_log()
        r = self.h.run(["pipeline", "--output", "json"] + self.cfg("single"),
                       env=dict(self.env, VAULT_SECRET_ID="wrong-secret-id"))
        self.assertEqual(r.rc, 1, r)
        doc = r.json()
        self.assertTrue(all(t["status"] != "ok" for t in doc["targets"]), doc)
        self.assertIn("approle", r.stderr)
        self.assertNotIn("wrong-secret-id", r.stdout + r.stderr)
        self.no_mutation("auth failure")


# --- an AWS source, the base account ----------------------------------------

class AwsSource(Base):
    def test_aws_source_and_base_account_target(self):
        base = self.h.aws("secretsmanager")
        base.create_secret(Name=f"src-{self.uid}/plain", SecretString="plain-string-value")
        base.create_secret(Name=f"src-{self.uid}/{self.uid}/db",
                           SecretString=json.dumps({"from_aws": "aws-only-1",
                                                    "password": "aws-pw-1", "l": [1]}))
        self.put("db", {"password": "vault-pw-1", "l": [2]})
        r = self.ok(self.h.run(["pipeline", "--output", "json"] + self.cfg("aws_source"),
                               env=self.env))
        check_report(self, r.json(), "pipeline", False)
        by = {t["name"]: t for t in r.json()["targets"]}
        self.assertIsNone(by["sandbox"]["account_id"])
        want_db = {"from_aws": "aws-only-1", "password": "vault-pw-1", "l": [1, 2]}
        self.assertEqual(self.h.value(STAGING, f"{self.prefix}plain"), "plain-string-value")
        raw = self.h.aws("secretsmanager", STAGING).get_secret_value(
            SecretId=f"{self.prefix}plain")["SecretString"]
        self.assertEqual(raw, "plain-string-value")  # a string is written as itself
        self.assertEqual(self.h.value(STAGING, f"{self.prefix}{self.uid}/db"), want_db)
        # sandbox: the base account, names without a prefix.
        self.assertEqual(base.get_secret_value(SecretId="plain")["SecretString"],
                         "plain-string-value")
        self.assertEqual(json.loads(base.get_secret_value(SecretId=f"{self.uid}/db")["SecretString"]),
                         want_db)
        self.assertEqual(self.h.tags(None, f"{self.uid}/db"),
                         {"managed-by": "secretsync", "secretsync:target": "sandbox"})
        self.assertEqual([e for e in WORLD.log(service="sts")
                          if e["operation"] == "AssumeRole" and "123456789012" in
                          (e.get("resource") or "")], [])
        assert_no_values(self, ["plain-string-value", "aws-pw-1", "vault-pw-1", "aws-only-1"],
                         r.stdout, r.stderr)
        WORLD.clear_log()
        self.ok(self.h.run(["pipeline"] + self.cfg("aws_source"), env=self.env))
        self.no_mutation("aws source re-run")


# --- GitHub OIDC credentials --------------------------------------------------

class Oidc(Base):
    def test_pipeline_with_github_oidc(self):
        """No AWS keys: the Actions ID token -> AssumeRoleWithWebIdentity,
        then the target roles assumed by that session."""
        self.put("db", {"password": "pw-oidc-1"})
        WORLD.clear_log()
        r = self.h.run(["pipeline", "--output", "json", "--role-to-assume",
                        WORLD.env["SECRETSYNC_TEST_WEB_IDENTITY_ROLE_ARN"]] + self.cfg("single"),
                       env=self.env, drop=("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"))
        self.ok(r)
        self.assertEqual(r.json()["counts"]["create"], 2)
        ops = [e["operation"] for e in WORLD.log(service="sts")]
        self.assertIn("AssumeRoleWithWebIdentity", ops)
        principals = {e.get("principal") for e in WORLD.log(service="s3", mutating=True)}
        self.assertEqual(len(principals), 1)
        self.assertIn("secretsync-github", principals.pop() or "")
        for account in (STAGING, PROD):
            self.assertEqual(self.h.value(account, f"{self.prefix}{self.uid}/db"),
                             {"password": "pw-oidc-1"})


# --- selection and the merge store ------------------------------------------

class Selection(Base):
    def test_targets_with_dependency(self):
        self.put("db", {"password": "pw-sel-1"})
        WORLD.clear_log()
        r = self.ok(self.h.run(["pipeline", "--targets", "prod", "--output", "json"]
                               + self.cfg("single"), env=self.env))
        self.assertEqual([t["name"] for t in r.json()["targets"]], ["prod"])
        self.assertEqual(self.h.value(PROD, f"{self.prefix}{self.uid}/db"), {"password": "pw-sel-1"})
        self.assertEqual(self.h.secrets(STAGING, self.prefix), {})
        keys = [e["resource"] for e in WORLD.log(service="s3", mutating=True)]
        self.assertEqual(keys, [f"{BUCKET}/bundles/{self.uid}/prod.json"])
        bad = self.h.run(["pipeline", "--targets", "nope"] + self.cfg("single"), env=self.env)
        self.assertEqual(bad.rc, 64, bad)
        self.assertIn("nope", bad.stderr)

    def test_merge_only_then_sync_only(self):
        self.put("db", {"password": "pw-store-1"})
        WORLD.clear_log()
        self.ok(self.h.run(["pipeline", "--merge-only"] + self.cfg("single"), env=self.env))
        self.assertEqual(WORLD.log(service="secretsmanager"), [])
        body, _ = self.h.bundle(f"bundles/{self.uid}/staging.json")
        self.assertEqual(body, {f"{self.uid}/db": {"password": "pw-store-1"}})
        self.assertEqual(self.h.secrets(STAGING, self.prefix), {})
        # Vault moves on; --sync-only takes the stored bundles, not Vault.
        self.put("db", {"password": "pw-store-2"})
        WORLD.clear_log()
        r = self.ok(self.h.run(["pipeline", "--sync-only", "--output", "json"] + self.cfg("single"),
                               env=self.env))
        self.assertEqual(r.json()["counts"]["create"], 2)
        self.assertEqual([e for e in WORLD.log(service="vault") if "/data/" in e["path"]], [])
        self.assertEqual([e for e in WORLD.log(service="s3", mutating=True)], [])
        for account in (STAGING, PROD):
            self.assertEqual(self.h.value(account, f"{self.prefix}{self.uid}/db"),
                             {"password": "pw-store-1"})

    def test_sync_only_without_a_bundle(self):
        r = self.h.run(["pipeline", "--sync-only", "--output", "json"] + self.cfg("single"),
                       env=self.env)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("--sync-only", r.stderr)
        self.assertEqual(self.h.secrets(STAGING, self.prefix), {})

    def test_config_dry_run_and_merge_only_dry_run(self):
        self.put("db", {"password": "pw-cfgdry-1"})
        WORLD.clear_log()
        r = self.ok(self.h.run(["pipeline", "--output", "json"] + self.cfg("single"),
                               env=dict(self.env, E2E_DRY_RUN="true")))
        self.assertIs(r.json()["dry_run"], True)
        self.assertEqual(r.json()["counts"]["create"], 2)
        self.ok(self.h.run(["pipeline", "--merge-only", "--dry-run"] + self.cfg("single"),
                           env=self.env))
        self.no_mutation("pipeline.dry_run and --merge-only --dry-run")
        self.assertEqual(self.h.secrets(STAGING, self.prefix), {})

    def test_parallel_bounds_requests(self):
        for n in range(6):
            self.put(f"s{n}", {"password": f"pw-par-{n}-x"})
        WORLD.latency("*", 15)
        self.addCleanup(WORLD.control, "DELETE", "/latency")

        def most_at_once():
            import datetime
            events = []
            for e in WORLD.log():
                t = datetime.datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
                events += [(t, 1), (t + e["duration_ms"] / 1000, -1)]
            peak = cur = 0
            for _, d in sorted(events, key=lambda x: (x[0], x[1])):
                cur += d
                peak = max(peak, cur)
            return peak
        WORLD.clear_log()
        r = self.ok(self.h.run(["pipeline", "--parallel", "1", "--output", "json"]
                               + self.cfg("single"), env=self.env))
        self.assertEqual(r.json()["counts"]["create"], 12)
        self.assertEqual(most_at_once(), 1)
        WORLD.clear_log()
        self.ok(self.h.run(["plan", "--parallel", "3"] + self.cfg("single"), env=self.env))
        self.assertLessEqual(most_at_once(), 3)
        WORLD.clear_log()
        self.ok(self.h.run(["plan"] + self.cfg("single"), env=self.env))
        self.assertGreater(most_at_once(), 3)  # the bound above was the flag's

    def test_merge_only_and_sync_only_exclude(self):
        r = self.h.run(["pipeline", "--merge-only", "--sync-only"] + self.cfg("single"),
                       env=self.env)
        self.assertEqual(r.rc, 64, r)

    def test_vault_merge_store(self):
        self.put("db", {"password": "pw-vstore-1", "n": 1})
        self.put("api", {"token": "tok-vstore-1"})
        self.ok(self.h.run(["pipeline"] + self.cfg("vault_store"), env=self.env))
        self.assertEqual(self.h.vault_current("merged", f"vstore/{self.uid}/db"),
                         {"password": "pw-vstore-1", "n": 1})
        self.assertEqual(self.h.vault_current("merged", f"vstore/{self.uid}/api"),
                         {"token": "tok-vstore-1"})
        self.assertEqual(self.h.value(STAGING, f"{self.prefix}{self.uid}/api"),
                         {"token": "tok-vstore-1"})
        # Idempotent: no new write to the store or AWS.
        WORLD.clear_log()
        self.ok(self.h.run(["pipeline"] + self.cfg("vault_store"), env=self.env))
        self.no_mutation("vault store re-run")
        # --sync-only from the Vault store.
        self.put("db", {"password": "pw-vstore-2", "n": 1})
        self.h.vault_put(f"vstore/{self.uid}/db", {"password": "pw-vstore-3", "n": 1}, mount="merged")
        self.ok(self.h.run(["pipeline", "--sync-only"] + self.cfg("vault_store"), env=self.env))
        self.assertEqual(self.h.value(STAGING, f"{self.prefix}{self.uid}/db"),
                         {"password": "pw-vstore-3", "n": 1})

    def test_vault_store_forgets_removed_secrets(self):
        """A secret gone from the sources is gone from the stored bundle:
        --sync-only must not bring it back."""
        self.put("db", {"password": "pw-vgone-1"})
        self.put("api", {"token": "tok-vgone-1"})
        self.ok(self.h.run(["pipeline"] + self.cfg("vault_store"), env=self.env))
        self.h.emu("vault", "/_emu/secret", {"namespace": "", "mount": "kv",
                                             "path": f"{self.uid}/api", "destroy": True})
        self.ok(self.h.run(["pipeline", "--merge-only"] + self.cfg("vault_store"), env=self.env))
        r = self.ok(self.h.run(["plan", "--sync-only", "--output", "json"]
                               + self.cfg("vault_store"), env=self.env))
        secrets = [c["secret"] for t in r.json()["targets"] for c in t["changes"]]
        self.assertNotIn(f"{self.uid}/api", secrets)

    def test_sse_kms(self):
        self.put("db", {"password": "pw-kms-1"})
        WORLD.clear_log()
        self.ok(self.h.run(["pipeline"] + self.cfg("kms"), env=self.env))
        body, obj = self.h.bundle(f"bundles/{self.uid}/staging.json")
        self.assertEqual(body, {f"{self.uid}/db": {"password": "pw-kms-1"}})
        self.assertEqual(obj.get("ServerSideEncryption"), "aws:kms")
        self.assertIn("alias/secretsync-e2e", obj.get("SSEKMSKeyId", ""))


# --- GitHub reporting -------------------------------------------------------

class GitHub(Base):
    def actions_env(self, tmp, **extra):
        env = dict(self.env, GITHUB_ACTIONS="true",
                   GITHUB_OUTPUT=os.path.join(tmp, "output"),
                   GITHUB_ENV=os.path.join(tmp, "env"),
                   GITHUB_STEP_SUMMARY=os.path.join(tmp, "summary.md"))
        for k in ("output", "env", "summary.md"):
            open(os.path.join(tmp, k), "w").close()
        env.update(extra)
        return env

    def pr_env(self, tmp, **extra):
        event = os.path.join(tmp, "event.json")
        with open(event, "w") as f:
            json.dump({"pull_request": {"number": PR_NUMBER, "head": {"sha": self.head_sha}}}, f)
        return self.actions_env(tmp, GITHUB_EVENT_NAME="pull_request", GITHUB_EVENT_PATH=event,
                                GITHUB_SHA="f" * 40, **extra)

    @property
    def head_sha(self):
        with open(os.path.join(ROOT, "tests", "emulators", "fixtures", "e2e.json")) as f:
            return json.load(f)["github"]["pulls"][str(PR_NUMBER)]["head_sha"]

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="secretsync-e2e-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_output_github(self):
        db = {"password": "pw-gh-one-1", "note": "line one\nline two", "flag": "true",
              "short": "abc", "nested": {"api": "nested-key-1"}}
        self.put("db", db)
        # A value AWS holds now (read for the plan) is masked too.
        self.h.create_secret(STAGING, f"{self.prefix}{self.uid}/db",
                             {"password": "pw-gh-current-in-aws"},
                             {"managed-by": "secretsync", "secretsync:target": "staging"})
        env = self.actions_env(self.tmp, E2E_BROKEN_ACCOUNT="333333333333")
        r = self.h.run(["pipeline"] + self.cfg("github"), env=env)
        self.assertEqual(r.rc, 1, r)
        lines = r.stdout.splitlines()
        masks = [unescape(ln[len("::add-mask::"):]) for ln in lines if ln.startswith("::add-mask::")]
        first_other = next(i for i, ln in enumerate(lines) if not ln.startswith("::add-mask::"))
        self.assertTrue(all(ln.startswith("::add-mask::") for ln in lines[:first_other]))
        self.assertFalse([ln for ln in lines[first_other:] if ln.startswith("::add-mask::")],
                         "an add-mask after other output")
        for v in ("pw-gh-one-1", "line one\nline two", "line one", "line two", "nested-key-1",
                  "pw-gh-current-in-aws"):
            self.assertIn(v, masks)
        for v in ("true", "abc"):
            self.assertNotIn(v, masks)
        # The AWS secret key it signs with is masked too.
        self.assertIn(WORLD.env["AWS_SECRET_ACCESS_KEY"], masks)
        # A group per target, an error for the failed one.
        self.assertIn("::group::target staging", lines)
        self.assertIn("::group::target broken", lines)
        self.assertEqual(lines.count("::endgroup::"), 2)
        errors = [ln for ln in lines if ln.startswith("::error")]
        self.assertEqual(len(errors), 1, errors)
        self.assertIn("broken", errors[0])
        assert_no_values(self, ["pw-gh-one-1", "nested-key-1", "line one"],
                         "\n".join(lines[first_other:]), r.stderr)
        # Step outputs, read as the runner reads them.
        outs = dict(ghfile_parse.parse_file(env["GITHUB_OUTPUT"]))
        self.assertEqual({k: outs[k] for k in ("changes", "created", "updated", "deleted",
                                                "unchanged", "failed")},
                         {"changes": "1", "created": "0", "updated": "1", "deleted": "0",
                          "unchanged": "0", "failed": "1"})
        plan = json.loads(outs["plan-json"])
        check_report(self, plan, "pipeline", False)
        self.assertEqual([t["status"] for t in plan["targets"]], ["ok", "failed"])
        self.assertEqual(ghfile_parse.parse_file(env["GITHUB_ENV"]), [])
        # The step summary.
        md = open(env["GITHUB_STEP_SUMMARY"]).read()
        self.assertIn("### secretsync pipeline", md)
        self.assertIn("| staging | 111111111111 | us-east-1 | 0 | 1 | 0 | 0 | ok |", md)
        self.assertIn("| broken | 333333333333 |", md)
        self.assertIn("failed", md)
        self.assertIn(f"{self.prefix}{self.uid}/db", md)
        assert_no_values(self, ["pw-gh-one-1", "nested-key-1", "line one"], md,
                         open(env["GITHUB_OUTPUT"]).read())

    def test_hostile_key_names(self):
        """Key names come from the secrets: a newline or an escape sequence
        in one must not start a workflow command or reach the terminal."""
        self.put("db", {"password": "pw-hostile-1", "plain": "x"})
        self.ok(self.h.run(["pipeline"] + self.cfg("github"), env=self.env))
        evil = {"password": "pw-hostile-1", "plain": "x",
                "a\n::error title=injected::pwned": "v1",
                "b\r\n::add-mask::zzz": "v2", "c\x1b[31mred": "v3"}
        self.put("db", evil)
        for output in ("github", "text"):
            env = self.actions_env(self.tmp) if output == "github" else dict(self.env)
            r = self.h.run(["plan", "--output", output] + self.cfg("github"), env=env)
            self.ok(r)
            for ln in r.stdout.splitlines():
                self.assertFalse(ln.lstrip().startswith("::error title=injected"), ln)
                self.assertFalse(ln.lstrip().startswith("::add-mask::zzz"), ln)
            self.assertNotIn("\x1b", r.stdout)
            self.assertNotIn("\r", r.stdout)
            self.assertIn("+a", r.stdout)  # still named, escaped
        md = open(os.path.join(self.tmp, "summary.md")).read()
        self.assertNotIn("\x1b", md)
        for ln in md.splitlines():
            self.assertFalse(ln.lstrip().startswith("::"), ln)

    def test_output_defaults_to_github_in_actions(self):
        self.put("db", {"password": "pw-gh-default-1"})
        env = self.actions_env(self.tmp)
        r = self.ok(self.h.run(["plan"] + self.cfg("github"), env=env))
        self.assertTrue(r.stdout.startswith("::add-mask::"), r)
        self.assertIn("::group::target staging", r.stdout)

    def test_comment_and_status(self):
        self.put("db", {"password": "pw-pr-1"})
        before = self.h.github_state()
        human = [c for c in before["comments"].get(str(PR_NUMBER), [])]
        env = self.pr_env(self.tmp)
        r = self.ok(self.h.run(["pipeline", "--comment", "--status"] + self.cfg("github"), env=env))
        # The GitHub token is masked before it is used.
        masks = [unescape(ln[len("::add-mask::"):]) for ln in r.stdout.splitlines()
                 if ln.startswith("::add-mask::")]
        self.assertIn(WORLD.env["GITHUB_TOKEN"], masks)
        st = self.h.github_state()
        marker = ("<!-- secretsync:sticky config=tests/integration/e2e_configs/github.yaml "
                  "command=pipeline -->")
        bots = [c for c in st["comments"][str(PR_NUMBER)]
                if c["user"] == "github-actions[bot]" and marker in c["body"]]
        self.assertEqual(len(bots), 1, st["comments"])
        self.assertIn("secretsync pipeline", bots[0]["body"])
        self.assertNotIn("pw-pr-1", bots[0]["body"])
        # The humans' comments (one forging the marker) are untouched.
        for c in human:
            now = next(x for x in st["comments"][str(PR_NUMBER)] if x["id"] == c["id"])
            self.assertEqual(now["body"], c["body"])
        statuses = [s for s in st["statuses"].get(self.head_sha, [])
                    if s["context"] == "secretsync/e2e"]
        states = [s["state"] for s in statuses]
        # Newest first: success after pending.
        self.assertEqual(states[:2], ["success", "pending"], statuses)
        for s in statuses:
            self.assertLessEqual(len(s["description"] or ""), 140)
        self.assertEqual(statuses[0]["description"], "2 created, 0 updated, 0 deleted")
        self.assertNotIn("f" * 40, st["statuses"])
        # A second run edits the same comment in place.
        self.put("db", {"password": "pw-pr-2"})
        self.ok(self.h.run(["pipeline", "--comment"] + self.cfg("github"), env=env))
        st2 = self.h.github_state()
        bots2 = [c for c in st2["comments"][str(PR_NUMBER)] if c["user"] == "github-actions[bot]"
                 and marker in c["body"]]
        self.assertEqual([c["id"] for c in bots2], [bots[0]["id"]])
        self.assertNotEqual(bots2[0]["body"], bots[0]["body"])
        self.assertIn("0 created, 2 updated, 0 deleted", bots2[0]["body"])
        self.assertEqual(st2["requests"].get("POST /repos/{o}/{r}/issues/{n}/comments", 0),
                         st["requests"].get("POST /repos/{o}/{r}/issues/{n}/comments", 0))

    def test_token_from_aws_secret(self):
        """No GITHUB_TOKEN: github.token_secret in the base account."""
        self.put("db", {"password": "pw-awstok-1"})
        env = self.pr_env(self.tmp)
        before = self.h.github_state()
        r = self.h.run(["plan", "--comment"] + self.cfg("github"), env=env, drop=("GITHUB_TOKEN",))
        self.ok(r)
        st = self.h.github_state()
        marker = ("<!-- secretsync:sticky config=tests/integration/e2e_configs/github.yaml "
                  "command=plan -->")
        bots = [c for c in st["comments"][str(PR_NUMBER)]
                if c["user"] == "github-actions[bot]" and marker in c["body"]]
        self.assertEqual(len(bots), 1, (r, st["comments"]))
        self.assertIn("to create", bots[0]["body"])
        self.assertGreater(st["requests_total"], before["requests_total"])
        masks = [unescape(ln[len("::add-mask::"):]) for ln in r.stdout.splitlines()
                 if ln.startswith("::add-mask::")]
        self.assertIn("ghs_actions_e2e_token", masks)

    def test_comment_cut_to_fit(self):
        """A plan too long for a PR comment: cut under 65,536 characters,
        the left-out targets named; the step summary keeps everything."""
        env = self.pr_env(self.tmp)
        r = self.ok(self.h.run(["plan", "--comment", "--status"] + self.cfg("wide"), env=env))
        st = self.h.github_state()
        marker = ("<!-- secretsync:sticky config=tests/integration/e2e_configs/wide.yaml "
                  "command=plan -->")
        bots = [c for c in st["comments"][str(PR_NUMBER)]
                if c["user"] == "github-actions[bot]" and marker in c["body"]]
        self.assertEqual(len(bots), 1, r)
        body = bots[0]["body"]
        self.assertLessEqual(len(body), 65536)
        self.assertIn("2400 to create", body)
        self.assertIn("left out to fit", body)
        md = open(env["GITHUB_STEP_SUMMARY"]).read()
        self.assertEqual(md.count("a-rather-long-secret-name-to-fill-the-comment-"), 2 * 2 * 1200)
        statuses = [s for s in st["statuses"].get(self.head_sha, [])
                    if s["context"] == "secretsync/e2e-wide"]
        self.assertEqual(statuses[0]["state"], "success")
        self.assertEqual(statuses[0]["description"], "2400 to create, 0 to update, 0 to delete")

    def test_status_failure(self):
        self.put("db", {"password": "pw-prf-1"})
        env = self.pr_env(self.tmp, E2E_BROKEN_ACCOUNT="333333333333")
        r = self.h.run(["plan", "--status"] + self.cfg("github"), env=env)
        self.assertEqual(r.rc, 1, r)
        st = self.h.github_state()
        statuses = [s for s in st["statuses"].get(self.head_sha, [])
                    if s["context"] == "secretsync/e2e"]
        self.assertEqual(statuses[0]["state"], "failure", statuses)
        self.assertIn("failed", statuses[0]["description"])
        self.assertLessEqual(len(statuses[0]["description"]), 140)

    def test_dry_run_makes_no_github_write_without_flags(self):
        self.put("db", {"password": "pw-nogh-1"})
        env = self.pr_env(self.tmp)
        before = self.h.github_state()["requests_total"]
        WORLD.clear_log()
        self.ok(self.h.run(["plan"] + self.cfg("github"), env=env))
        self.no_mutation("plan without --comment/--status")
        self.assertEqual(self.h.github_state()["requests_total"], before)


if __name__ == "__main__":
    unittest.main()
