"""Fidelity of the Vault emulator, checked with a real Vault client (hvac).

Debian's python3-hvac lives only in /usr/bin/python3, so each check runs
tests/integration/hvac_client.py there with a list of operations and reads
the results back as JSON. The emulators (Vault, plus GitHub for the OIDC
token a JWT login needs) are started here on ephemeral ports with a fresh
test key, so this file does not depend on the world launcher.

    python3 -m unittest tests/integration/test_vault_fidelity.py
"""

import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EMU = os.path.join(ROOT, "tests", "emulators")
FIXTURE = os.path.join(EMU, "fixtures", "vault_github_test.json")
HVAC_PY = "/usr/bin/python3"
HVAC_CLIENT = os.path.join(HERE, "hvac_client.py")
sys.path.insert(0, EMU)
import jwtlib  # noqa: E402

ROOT_TOKEN = "root-token-for-tests"
DENIED = ["1 error occurred:\n\t* permission denied\n\n"]
INVALID_TOKEN = ["2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"]


def _clean_env():
    env = {k: v for k, v in os.environ.items()
           if not k.upper().startswith("VAULT_") and not k.lower().endswith("_proxy")}
    env["NO_PROXY"] = "127.0.0.1,localhost"
    env["HOME"] = tempfile.gettempdir()  # no ~/.vault-token
    return env


def start_emulator(script, args):
    """Start tests/emulators/<script> and return (process, port)."""
    proc = subprocess.Popen([sys.executable, os.path.join(EMU, script), "--port", "0"] + args,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_clean_env())
    line = proc.stdout.readline()
    if not line.startswith("READY "):
        proc.kill()
        raise RuntimeError("%s did not start: %r %s" % (script, line, proc.stderr.read()))
    return proc, int(line.split()[1])


def stop_emulator(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    for f in (proc.stdout, proc.stderr):
        if f:
            f.close()


def http_json(method, url, body=None, headers=None):
    """(status, headers, parsed body or text) with urllib, never raising on HTTP errors."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
    try:
        resp = opener.open(req, timeout=10)
        status, hdrs, raw = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        status, hdrs, raw = exc.code, exc.headers, exc.read()
    try:
        return status, hdrs, json.loads(raw) if raw else None
    except ValueError:
        return status, hdrs, raw.decode("utf-8", "replace")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _have_hvac():
    if not os.path.exists(HVAC_PY):
        return False
    r = subprocess.run([HVAC_PY, "-c", "import hvac"], capture_output=True, env=_clean_env())
    return r.returncode == 0


HAVE_HVAC = _have_hvac()


class World:
    """The emulators shared by the tests of this file."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="vault-fidelity-")
        self.key_path = os.path.join(self.tmp.name, "key.json")
        self.key = jwtlib.generate_key()
        jwtlib.save_key(self.key, self.key_path)
        self.gh, self.gh_port = start_emulator("github.py", ["--fixture", FIXTURE, "--jwt-key", self.key_path])
        self.issuer = "http://127.0.0.1:%d" % self.gh_port
        self.log_path = os.path.join(self.tmp.name, "vault.log")
        try:
            self.vault, self.port = start_emulator(
                "vault.py", ["--fixture", FIXTURE, "--jwt-key", self.key_path,
                             "--issuer", self.issuer, "--log", self.log_path])
        except Exception:
            stop_emulator(self.gh)
            raise
        self.url = "http://127.0.0.1:%d" % self.port

    def close(self):
        stop_emulator(self.vault)
        stop_emulator(self.gh)
        self.tmp.cleanup()


WORLD = None


def setUpModule():
    global WORLD
    WORLD = World()


def tearDownModule():
    if WORLD:
        WORLD.close()


class Base(unittest.TestCase):
    def setUp(self):
        st, _, _ = http_json("POST", WORLD.url + "/_emu/reset", {})
        self.assertEqual(st, 200)

    def hvac(self, *ops):
        spec = {"url": WORLD.url, "ops": list(ops)}
        r = subprocess.run([HVAC_PY, HVAC_CLIENT], input=json.dumps(spec), capture_output=True,
                           text=True, timeout=60, env=_clean_env())
        self.assertEqual(r.returncode, 0, "hvac_client failed: %s" % r.stderr[-2000:])
        res = json.loads(r.stdout)
        self.assertEqual(len(res), len(ops))
        return res

    def oidc_token(self, audience="vault"):
        st, _, body = http_json("GET", "%s/_apis/oidc/token?api-version=2.0&audience=%s" % (WORLD.issuer, audience),
                                headers={"Authorization": "Bearer oidc-request-token"})
        self.assertEqual(st, 200)
        return body["value"]

    def vault(self, method, path, token=ROOT_TOKEN, body=None, headers=None):
        h = dict(headers or {})
        if token:
            h["X-Vault-Token"] = token
        return http_json(method, WORLD.url + path, body, h)

    def state(self):
        st, _, body = http_json("GET", WORLD.url + "/_emu/state")
        self.assertEqual(st, 200)
        return body

    def ok(self, res):
        self.assertTrue(res["ok"], "hvac call failed: %s %s" % (res.get("exc"), res.get("message")))
        return res["value"]

    def fails(self, res, exc, errors=None):
        self.assertFalse(res["ok"], "expected %s, got success" % exc)
        self.assertEqual(res["exc"], exc, res.get("message"))
        if errors is not None:
            self.assertEqual(res["errors"], errors)
        return res


@unittest.skipUnless(HAVE_HVAC, "python3-hvac is not installed for /usr/bin/python3")
class HvacAgainstEmulator(Base):
    def test_approle_login_and_kv2_reads(self):
        r = self.hvac(
            {"call": "auth.approle.login", "kwargs": {"role_id": "ci-role-id", "secret_id": "ci-secret-id"}},
            {"call": "secrets.kv.v2.read_secret_version", "kwargs": {"path": "team/app/db", "mount_point": "kv"}},
            {"call": "secrets.kv.v2.list_secrets", "kwargs": {"path": "team", "mount_point": "kv"}},
            {"call": "secrets.kv.v2.list_secrets", "kwargs": {"path": "team/app", "mount_point": "kv"}},
            {"call": "secrets.kv.v2.read_secret_metadata", "kwargs": {"path": "team/app/history", "mount_point": "kv"}},
            {"call": "secrets.kv.v2.read_secret_version",
             "kwargs": {"path": "team/app/history", "version": 2, "mount_point": "kv"}},
            {"call": "secrets.kv.v2.read_secret_version", "kwargs": {"path": "team/app/history", "mount_point": "kv"}},
            {"call": "secrets.kv.v2.list_secrets", "kwargs": {"path": "", "mount_point": "kv"}},
        )
        auth = self.ok(r[0])["auth"]
        self.assertTrue(auth["client_token"].startswith("hvs."))
        self.assertEqual(auth["policies"], ["default", "reader"])
        self.assertEqual(auth["token_policies"], ["default", "reader"])
        self.assertEqual(auth["lease_duration"], 3600)
        self.assertIs(auth["renewable"], True)
        self.assertEqual(auth["metadata"], {"role_name": "ci"})
        db = self.ok(r[1])["data"]
        self.assertEqual(db["data"], {"password": "fixture-db-password", "host": "db.internal", "port": 5432})
        self.assertEqual(db["metadata"]["version"], 1)
        self.assertEqual(db["metadata"]["deletion_time"], "")
        self.assertIs(db["metadata"]["destroyed"], False)
        self.assertRegex(db["metadata"]["created_time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")
        self.assertEqual(self.ok(r[2])["data"]["keys"], ["app/", "web/"])
        self.assertEqual(self.ok(r[3])["data"]["keys"], ["api", "db", "history"])
        meta = self.ok(r[4])["data"]
        self.assertEqual(meta["current_version"], 3)
        self.assertEqual(sorted(meta["versions"]), ["1", "2", "3"])
        self.assertEqual(self.ok(r[5])["data"]["data"], {"v": "two"})
        self.assertEqual(self.ok(r[6])["data"]["data"], {"v": "three"})
        self.assertEqual(self.ok(r[6])["data"]["metadata"]["version"], 3)
        # the reader policy lists the whole mount, including the hostile additions
        self.assertEqual(self.ok(r[7])["data"]["keys"], ["big/", "evil/", "loop/", "other/", "team/", "top"])

    def test_kv2_write_versions_cas_delete(self):
        W = {"client": "w"}
        r = self.hvac(
            dict(W, call="auth.approle.login", kwargs={"role_id": "writer-role-id", "secret_id": "w-secret-2"}),
            dict(W, call="secrets.kv.v2.create_or_update_secret",
                 kwargs={"path": "staging/app", "secret": {"a": "1"}, "mount_point": "merged"}),
            dict(W, call="secrets.kv.v2.create_or_update_secret",
                 kwargs={"path": "staging/app", "secret": {"a": "2"}, "mount_point": "merged"}),
            dict(W, call="secrets.kv.v2.create_or_update_secret",
                 kwargs={"path": "staging/app", "secret": {"a": "x"}, "cas": 0, "mount_point": "merged"}),
            dict(W, call="secrets.kv.v2.create_or_update_secret",
                 kwargs={"path": "staging/app", "secret": {"a": "3"}, "cas": 2, "mount_point": "merged"}),
            dict(W, call="secrets.kv.v2.read_secret_version",
                 kwargs={"path": "staging/app", "version": 1, "mount_point": "merged"}),
            dict(W, call="secrets.kv.v2.list_secrets", kwargs={"path": "staging", "mount_point": "merged"}),
            dict(W, call="secrets.kv.v2.read_secret_version", kwargs={"path": "staging/app", "mount_point": "merged"}),
            dict(W, call="secrets.kv.v2.delete_metadata_and_all_versions",
                 kwargs={"path": "staging/app", "mount_point": "merged"}),
            dict(W, call="secrets.kv.v2.read_secret_version", kwargs={"path": "staging/app", "mount_point": "merged"}),
            dict(W, call="secrets.kv.v2.create_or_update_secret",
                 kwargs={"path": "x", "secret": {"a": "1"}, "mount_point": "kv"}),
        )
        self.assertEqual(self.ok(r[1])["data"]["version"], 1)
        self.assertEqual(self.ok(r[2])["data"]["version"], 2)
        self.fails(r[3], "InvalidRequest", ["check-and-set parameter did not match the current version"])
        self.assertEqual(self.ok(r[4])["data"]["version"], 3)
        self.assertEqual(self.ok(r[5])["data"]["data"], {"a": "1"})
        self.assertEqual(self.ok(r[6])["data"]["keys"], ["app"])
        self.assertEqual(self.ok(r[7])["data"]["data"], {"a": "3"})
        self.assertEqual(self.ok(r[8])["status_code"], 204)
        self.fails(r[9], "InvalidPath", [])
        self.fails(r[10], "Forbidden", DENIED)
        st = self.state()
        self.assertNotIn("staging/app", st["namespaces"][""]["mounts"]["merged"]["secrets"])
        self.assertGreaterEqual(st["requests"].get("POST merged/data", 0), 4)

    def test_kv2_soft_delete_and_cas_required(self):
        R = {"client": "r"}
        r = self.hvac(
            dict(R, new={"token": ROOT_TOKEN}),
            dict(R, call="secrets.kv.v2.delete_latest_version_of_secret", kwargs={"path": "top", "mount_point": "kv"}),
            dict(R, call="secrets.kv.v2.read_secret_version", kwargs={"path": "top", "mount_point": "kv"}),
            dict(R, call="secrets.kv.v2.list_secrets", kwargs={"path": "", "mount_point": "kv"}),
            dict(R, call="secrets.kv.v2.undelete_secret_versions",
                 kwargs={"path": "top", "versions": [1], "mount_point": "kv"}),
            dict(R, call="secrets.kv.v2.read_secret_version", kwargs={"path": "top", "mount_point": "kv"}),
            dict(R, call="secrets.kv.v2.create_or_update_secret",
                 kwargs={"path": "s", "secret": {"a": "c"}, "mount_point": "strict"}),
            dict(R, call="secrets.kv.v2.create_or_update_secret",
                 kwargs={"path": "s", "secret": {"a": "c"}, "cas": 1, "mount_point": "strict"}),
        )
        self.assertEqual(self.ok(r[1])["status_code"], 204)
        self.fails(r[2], "InvalidPath")
        self.assertIn("top", self.ok(r[3])["data"]["keys"])  # soft-deleted secrets still list
        self.assertEqual(self.ok(r[5])["data"]["data"], {"k": "v"})
        self.fails(r[6], "InvalidRequest", ["check-and-set parameter required for this call"])
        self.assertEqual(self.ok(r[7])["data"]["version"], 2)
        # a soft-deleted version answers 404 with its metadata, as Vault does
        self.vault("DELETE", "/v1/kv/data/top")
        st, _, body = self.vault("GET", "/v1/kv/data/top")
        self.assertEqual(st, 404)
        self.assertIsNone(body["data"]["data"])
        self.assertNotEqual(body["data"]["metadata"]["deletion_time"], "")

    def test_kv1_read_list_write(self):
        R = {"client": "r"}
        r = self.hvac(
            dict(R, new={"token": ROOT_TOKEN}),
            dict(R, call="secrets.kv.v1.read_secret", kwargs={"path": "old/cfg", "mount_point": "legacy"}),
            dict(R, call="secrets.kv.v1.list_secrets", kwargs={"path": "old", "mount_point": "legacy"}),
            dict(R, call="secrets.kv.v1.create_or_update_secret",
                 kwargs={"path": "new/thing", "secret": {"k": "v"}, "mount_point": "legacy"}),
            dict(R, call="secrets.kv.v1.read_secret", kwargs={"path": "new/thing", "mount_point": "legacy"}),
            dict(R, call="secrets.kv.v1.delete_secret", kwargs={"path": "new/thing", "mount_point": "legacy"}),
            dict(R, call="secrets.kv.v1.read_secret", kwargs={"path": "new/thing", "mount_point": "legacy"}),
            {"client": "reader", "new": {"token": "static-reader-token"}},
            {"client": "reader", "call": "secrets.kv.v1.read_secret",
             "kwargs": {"path": "old/deep/x", "mount_point": "legacy"}},
            {"client": "reader", "call": "secrets.kv.v1.create_or_update_secret",
             "kwargs": {"path": "old/cfg", "secret": {"k": "v"}, "mount_point": "legacy"}},
        )
        got = self.ok(r[1])
        self.assertEqual(got["data"], {"user": "legacy-user"})
        self.assertEqual(got["lease_duration"], 2764800)
        self.assertEqual(self.ok(r[2])["data"]["keys"], ["cfg", "deep/"])
        self.assertEqual(self.ok(r[3])["status_code"], 204)
        self.assertEqual(self.ok(r[4])["data"], {"k": "v"})
        self.assertEqual(self.ok(r[5])["status_code"], 204)
        self.fails(r[6], "InvalidPath", [])
        self.assertEqual(self.ok(r[8])["data"], {"y": "z"})
        self.fails(r[9], "Forbidden", DENIED)

    def test_lookup_self_and_revoke_self(self):
        r = self.hvac(
            {"call": "auth.approle.login", "kwargs": {"role_id": "ci-role-id", "secret_id": "ci-secret-id"}},
            {"call": "auth.token.lookup_self"},
            {"is_authenticated": True},
            {"token": True},
            {"call": "auth.token.renew_self"},
            {"call": "auth.token.revoke_self"},
            {"call": "auth.token.lookup_self"},
            {"call": "secrets.kv.v2.read_secret_version", "kwargs": {"path": "team/app/db", "mount_point": "kv"}},
            {"is_authenticated": True},
        )
        d = self.ok(r[1])["data"]
        self.assertEqual(d["id"], self.ok(r[3]))
        self.assertEqual(d["policies"], ["default", "reader"])
        self.assertEqual(d["path"], "auth/approle/login")
        self.assertEqual(d["meta"], {"role_name": "ci"})
        self.assertEqual(d["type"], "service")
        self.assertTrue(0 < d["ttl"] <= 3600)
        self.assertEqual(d["creation_ttl"], 3600)
        self.assertIsInstance(d["expire_time"], str)
        self.assertIs(self.ok(r[2]), True)
        self.assertEqual(self.ok(r[4])["auth"]["client_token"], d["id"])
        self.assertEqual(self.ok(r[5])["status_code"], 204)
        self.fails(r[6], "Forbidden", INVALID_TOKEN)
        self.fails(r[7], "Forbidden", INVALID_TOKEN)
        self.assertIs(self.ok(r[8]), False)
        self.assertEqual(self.state()["revoked"], 1)

    def test_policy_denials(self):
        C = {"client": "c"}
        r = self.hvac(
            dict(C, new={"token": "static-reader-token"}),
            dict(C, call="secrets.kv.v2.read_secret_version", kwargs={"path": "other/secret", "mount_point": "kv"}),
            dict(C, call="secrets.kv.v2.read_secret_version", kwargs={"path": "team/web/cfg", "mount_point": "kv"}),
            dict(C, call="secrets.kv.v2.read_secret_version", kwargs={"path": "team/app/api", "mount_point": "kv"}),
            dict(C, call="secrets.kv.v2.read_secret_version", kwargs={"path": "s", "mount_point": "strict"}),
            dict(C, call="secrets.kv.v2.read_secret_version", kwargs={"path": "x", "mount_point": "no-such-mount"}),
            {"client": "root", "new": {"token": ROOT_TOKEN}},
            {"client": "root", "call": "secrets.kv.v2.read_secret_version",
             "kwargs": {"path": "x", "mount_point": "no-such-mount"}},
            {"client": "anon", "new": {}},
            {"client": "anon", "call": "secrets.kv.v2.read_secret_version",
             "kwargs": {"path": "team/app/db", "mount_point": "kv"}},
        )
        self.fails(r[1], "Forbidden", DENIED)
        self.fails(r[2], "Forbidden", DENIED)  # deny beats the broader read rule
        self.assertEqual(self.ok(r[3])["data"]["data"], {"token": "fixture-api-token"})
        self.fails(r[4], "Forbidden", DENIED)
        self.fails(r[5], "Forbidden", DENIED)  # an unknown mount is hidden behind the ACL
        self.fails(r[7], "InvalidPath", ['no handler for route "no-such-mount/data/x". route entry not found.'])
        self.fails(r[9], "Forbidden", DENIED)

    def test_missing_secret_raises_invalid_path(self):
        r = self.hvac(
            {"new": {"token": ROOT_TOKEN}},
            {"call": "secrets.kv.v2.read_secret_version", "kwargs": {"path": "team/app/nothere", "mount_point": "kv"}},
            {"call": "secrets.kv.v2.read_secret_version",
             "kwargs": {"path": "team/app/db", "version": 9, "mount_point": "kv"}},
            {"call": "secrets.kv.v2.list_secrets", "kwargs": {"path": "no/such/folder", "mount_point": "kv"}},
            {"call": "secrets.kv.v2.read_secret_metadata", "kwargs": {"path": "nothere", "mount_point": "kv"}},
            {"call": "secrets.kv.v1.read_secret", "kwargs": {"path": "nothere", "mount_point": "legacy"}},
        )
        for res in r[1:]:
            self.fails(res, "InvalidPath", [])

    def test_jwt_login_with_github_oidc_token(self):
        good = self.oidc_token("vault")
        other_aud = self.oidc_token("sts.amazonaws.com")
        claims = jwtlib.decode_unverified(good)[1]
        expired = jwtlib.sign(dict(claims, exp=int(time.time()) - 3600, nbf=int(time.time()) - 7200), WORLD.key)
        forged = jwtlib.sign(claims, jwtlib.generate_key(1024))
        r = self.hvac(
            {"call": "auth.jwt.jwt_login", "kwargs": {"role": "ci", "jwt": good, "path": "github"}},
            {"call": "auth.token.lookup_self"},
            {"call": "secrets.kv.v2.read_secret_version", "kwargs": {"path": "team/app/db", "mount_point": "kv"}},
            {"client": "b", "call": "auth.jwt.jwt_login", "kwargs": {"role": "wrong-repo", "jwt": good, "path": "github"}},
            {"client": "b", "call": "auth.jwt.jwt_login", "kwargs": {"role": "ci", "jwt": other_aud, "path": "github"}},
            {"client": "b", "call": "auth.jwt.jwt_login", "kwargs": {"role": "ci", "jwt": expired, "path": "github"}},
            {"client": "b", "call": "auth.jwt.jwt_login", "kwargs": {"role": "ci", "jwt": forged, "path": "github"}},
            {"client": "b", "call": "auth.jwt.jwt_login", "kwargs": {"role": "nope", "jwt": good, "path": "github"}},
            {"client": "b", "call": "auth.jwt.jwt_login", "kwargs": {"role": "noaud", "jwt": good, "path": "github"}},
            {"client": "g", "call": "auth.jwt.jwt_login", "kwargs": {"role": "glob", "jwt": good, "path": "github"}},
            {"client": "g", "call": "auth.token.lookup_self"},
        )
        auth = self.ok(r[0])["auth"]
        self.assertEqual(auth["policies"], ["default", "reader"])
        self.assertEqual(auth["lease_duration"], 600)
        self.assertEqual(auth["metadata"], {"role": "ci", "ref": "refs/heads/main"})
        d = self.ok(r[1])["data"]
        self.assertEqual(d["display_name"], "github-repo:octo/app:ref:refs/heads/main")
        self.assertEqual(d["path"], "auth/github/login")
        self.assertEqual(self.ok(r[2])["data"]["data"]["password"], "fixture-db-password")
        bad = self.fails(r[3], "InvalidRequest")
        self.assertEqual(bad["errors"], ['error validating claims: claim "repository" does not match '
                                         'any associated bound claim values'])
        self.assertIn("audience", self.fails(r[4], "InvalidRequest")["errors"][0])
        self.assertIn("expired", self.fails(r[5], "InvalidRequest")["errors"][0])
        self.assertTrue(self.fails(r[6], "InvalidRequest")["errors"][0].startswith("error validating token"))
        self.fails(r[7], "InvalidRequest", ['role "nope" could not be found'])
        self.assertIn("no audiences bound", self.fails(r[8], "InvalidRequest")["errors"][0])
        self.assertEqual(self.ok(r[9])["auth"]["policies"], ["default", "writer"])
        self.assertEqual(self.ok(r[10])["data"]["display_name"], "github-octo/app")

    def test_jwt_issuer_is_checked(self):
        claims = jwtlib.decode_unverified(self.oidc_token("vault"))[1]
        wrong_iss = jwtlib.sign(dict(claims, iss="https://token.actions.githubusercontent.com"), WORLD.key)
        r = self.hvac({"call": "auth.jwt.jwt_login", "kwargs": {"role": "ci", "jwt": wrong_iss, "path": "github"}})
        self.assertIn("issuer", self.fails(r[0], "InvalidRequest")["errors"][0])

    def test_custom_approle_mount_and_bad_secret(self):
        r = self.hvac(
            {"call": "auth.approle.login",
             "kwargs": {"role_id": "custom-role", "secret_id": "custom-secret", "mount_point": "ci-approle"}},
            {"client": "b", "call": "auth.approle.login",
             "kwargs": {"role_id": "ci-role-id", "secret_id": "wrong"}},
            {"client": "b", "call": "auth.approle.login",
             "kwargs": {"role_id": "custom-role", "secret_id": "custom-secret"}},
            {"client": "b", "call": "auth.approle.login",
             "kwargs": {"role_id": "x", "secret_id": "y", "mount_point": "no-such-auth"}},
        )
        self.assertEqual(self.ok(r[0])["auth"]["policies"], ["default", "writer"])
        self.fails(r[1], "InvalidRequest", ["invalid role or secret ID"])
        self.fails(r[2], "InvalidRequest", ["invalid role or secret ID"])  # role lives on another mount
        self.fails(r[3], "Forbidden", DENIED)

    def test_namespaces(self):
        r = self.hvac(
            {"client": "a", "new": {"namespace": "team-a"}},
            {"client": "a", "call": "auth.approle.login", "kwargs": {"role_id": "ns-role", "secret_id": "ns-secret"}},
            {"client": "a", "call": "secrets.kv.v2.read_secret_version", "kwargs": {"path": "svc/cfg", "mount_point": "kv"}},
            {"client": "a", "call": "secrets.kv.v2.list_secrets", "kwargs": {"path": "", "mount_point": "kv"}},
            {"client": "a-at-root", "new": {"token_from": "a"}},
            {"client": "a-at-root", "call": "secrets.kv.v2.read_secret_version",
             "kwargs": {"path": "team/app/db", "mount_point": "kv"}},
            {"client": "child", "new": {"token": ROOT_TOKEN, "namespace": "team-a/child"}},
            {"client": "child", "call": "secrets.kv.v1.read_secret", "kwargs": {"path": "deep", "mount_point": "kv"}},
            {"client": "rr", "new": {"token": "static-reader-token", "namespace": "team-a"}},
            {"client": "rr", "call": "secrets.kv.v2.read_secret_version", "kwargs": {"path": "svc/cfg", "mount_point": "kv"}},
            {"client": "root", "new": {"token": ROOT_TOKEN}},
            {"client": "root", "call": "adapter.get", "args": ["/v1/team-a/kv/data/svc/cfg"]},
            {"client": "rootns", "new": {"token": ROOT_TOKEN, "namespace": "team-a"}},
            {"client": "rootns", "call": "adapter.get", "args": ["/v1/child/kv/deep"]},
            {"client": "bad", "new": {"token": ROOT_TOKEN, "namespace": "no-such-ns"}},
            {"client": "bad", "call": "secrets.kv.v2.read_secret_version", "kwargs": {"path": "x", "mount_point": "kv"}},
        )
        self.assertEqual(self.ok(r[1])["auth"]["policies"], ["default", "ns-reader"])
        self.assertEqual(self.ok(r[2])["data"]["data"], {"ns": "team-a-value"})
        self.assertEqual(self.ok(r[3])["data"]["keys"], ["svc/"])
        self.fails(r[5], "Forbidden", DENIED)  # a team-a token is no good in the root namespace
        self.assertEqual(self.ok(r[7])["data"], {"child": "yes"})
        self.assertEqual(self.ok(r[9])["data"]["data"], {"ns": "team-a-value"})  # root-ns policy on team-a/kv
        self.assertEqual(self.ok(r[11])["data"]["data"], {"ns": "team-a-value"})
        self.assertEqual(self.ok(r[13])["data"], {"child": "yes"})
        self.fails(r[15], "InvalidPath")
        lookups = self.hvac({"client": "a", "new": {"token": self.ok(r[1])["auth"]["client_token"],
                                                     "namespace": "team-a"}},
                            {"client": "a", "call": "auth.token.lookup_self"})
        self.assertEqual(self.ok(lookups[1])["data"]["namespace_path"], "team-a/")

    def test_ui_mounts_preflight(self):
        r = self.hvac(
            {"new": {"token": "static-reader-token"}},
            {"call": "adapter.get", "args": ["/v1/sys/internal/ui/mounts/kv"]},
            {"call": "adapter.get", "args": ["/v1/sys/internal/ui/mounts/legacy"]},
            {"call": "adapter.get", "args": ["/v1/sys/internal/ui/mounts/kv/team/app/db"]},
            {"call": "adapter.get", "args": ["/v1/sys/internal/ui/mounts/strict"]},
            {"call": "adapter.get", "args": ["/v1/sys/internal/ui/mounts/nope"]},
            {"client": "root", "new": {"token": ROOT_TOKEN}},
            {"client": "root", "call": "adapter.get", "args": ["/v1/sys/internal/ui/mounts/plain"]},
        )
        kv = self.ok(r[1])["data"]
        self.assertEqual((kv["type"], kv["path"], kv["options"]), ("kv", "kv/", {"version": "2"}))
        self.assertEqual(self.ok(r[2])["data"]["options"], {"version": "1"})
        self.assertEqual(self.ok(r[3])["data"]["path"], "kv/")
        self.fails(r[4], "Forbidden", ["preflight capability check returned 403, please ensure client's "
                                       "policies grant access to path \"strict/\""])
        self.fails(r[5], "Forbidden", ["preflight capability check returned 403, please ensure client's "
                                       "policies grant access to path \"nope/\""])
        self.assertIsNone(self.ok(r[7])["data"]["options"])

    def test_strict_http_list_and_hostile_keys(self):
        r = self.hvac(
            {"new": {"token": ROOT_TOKEN, "strict_http": True}},
            {"call": "secrets.kv.v2.list_secrets", "kwargs": {"path": "team", "mount_point": "kv"}},
            {"call": "secrets.kv.v2.list_secrets", "kwargs": {"path": "evil", "mount_point": "kv"}},
            {"call": "secrets.kv.v2.list_secrets", "kwargs": {"path": "loop/loop/loop/loop", "mount_point": "kv"}},
            {"call": "secrets.kv.v2.list_secrets", "kwargs": {"path": "wide", "mount_point": "kv"}},
            {"call": "secrets.kv.v2.read_secret_version", "kwargs": {"path": "wide/s000123", "mount_point": "kv"}},
            {"call": "secrets.kv.v2.read_secret_version", "kwargs": {"path": "big/blob", "mount_point": "kv"}},
        )
        self.assertEqual(self.ok(r[1])["data"]["keys"], ["app/", "web/"])
        self.assertEqual(self.ok(r[2])["data"]["keys"], ["../x", "a//b", "/abs", "ctl\u0001x", "", "ok", "evil/"])
        self.assertEqual(self.ok(r[3])["data"]["keys"], ["loop/"])
        keys = self.ok(r[4])["data"]["keys"]
        self.assertEqual((len(keys), keys[0], keys[-1]), (250, "s000000", "s000249"))
        self.assertEqual(self.ok(r[5])["data"]["data"], {"n": "123"})
        big = self.ok(r[6])
        self.assertEqual(big["data"]["data"], {"k": "v"})
        self.assertEqual(len(big["x_emulator_padding"]), 200000)
        self.assertIn("LIST kv/metadata", self.state()["requests"])

    def test_token_ttl_expiry_and_use_count(self):
        r = self.hvac(
            {"call": "auth.approle.login", "kwargs": {"role_id": "short-role-id", "secret_id": "short-secret"}},
            {"call": "auth.token.lookup_self"},
            {"client": "once", "new": {"token": "static-one-use-token"}},
            {"client": "once", "call": "secrets.kv.v2.read_secret_version",
             "kwargs": {"path": "team/app/db", "mount_point": "kv"}},
            {"client": "once", "call": "secrets.kv.v2.read_secret_version",
             "kwargs": {"path": "team/app/db", "mount_point": "kv"}},
        )
        self.assertEqual(self.ok(r[0])["auth"]["lease_duration"], 2)
        self.assertLessEqual(self.ok(r[1])["data"]["ttl"], 2)
        self.ok(r[3])
        self.fails(r[4], "Forbidden", INVALID_TOKEN)
        token = self.ok(r[0])["auth"]["client_token"]
        st, _, body = http_json("POST", WORLD.url + "/_emu/expire-tokens", {})
        self.assertEqual(st, 200)
        self.assertGreaterEqual(body["expired"], 1)
        r = self.hvac({"new": {"token": token}},
                      {"call": "secrets.kv.v2.read_secret_version", "kwargs": {"path": "x", "mount_point": "merged"}},
                      {"client": "root", "new": {"token": ROOT_TOKEN}},
                      {"client": "root", "call": "auth.token.lookup_self"})
        self.fails(r[1], "Forbidden", INVALID_TOKEN)
        self.assertEqual(self.ok(r[3])["data"]["policies"], ["root"])  # the root token never expires


class RawHttpBehaviour(Base):
    """What hvac hides: methods, redirects, keep-alive, control API."""

    def test_wrong_methods_and_unsupported_paths(self):
        st, _, body = self.vault("PUT", "/v1/auth/token/lookup-self", body={})
        self.assertEqual((st, body), (405, {"errors": ["1 error occurred:\n\t* unsupported operation\n\n"]}))
        st, _, body = self.vault("HEAD", "/v1/kv/data/top")
        self.assertEqual(st, 405)
        st, _, body = self.vault("GET", "/v1/kv/team/app/db")
        self.assertEqual(st, 404)
        self.assertIn("Invalid path for a versioned K/V secrets engine", body["warnings"][0])
        st, hdrs, _ = self.vault("GET", "/v1/kv/data//team/app/db")
        self.assertEqual((st, hdrs["Location"]), (301, "/v1/kv/data/team/app/db"))
        st, _, body = self.vault("GET", "/v1/kv/data/team/app/db", token=None)
        self.assertEqual((st, body), (403, {"errors": DENIED}))
        st, _, body = self.vault("PATCH", "/v1/kv/data/top", body={"data": {"n": "1"}},
                                 headers={"Content-Type": "application/merge-patch+json"})
        self.assertEqual((st, body["data"]["version"]), (200, 2))
        st, _, body = self.vault("GET", "/v1/kv/data/top")
        self.assertEqual(body["data"]["data"], {"k": "v", "n": "1"})
        st, _, body = self.vault("GET", "/v1/sys/health", token=None)
        self.assertEqual((st, body["sealed"]), (200, False))

    def test_keep_alive_and_headers(self):
        conn = http.client.HTTPConnection("127.0.0.1", WORLD.port, timeout=10)
        try:
            socks = set()
            for _ in range(3):
                conn.request("GET", "/v1/kv/data/team/app/db", headers={"X-Vault-Token": ROOT_TOKEN})
                resp = conn.getresponse()
                raw = resp.read()
                self.assertEqual(resp.status, 200)
                self.assertEqual(resp.getheader("Content-Type"), "application/json")
                self.assertEqual(int(resp.getheader("Content-Length")), len(raw))
                self.assertEqual(resp.getheader("Cache-Control"), "no-store")
                socks.add(id(conn.sock))
            self.assertEqual(len(socks), 1)
            conn.request("DELETE", "/v1/kv/data/top", headers={"X-Vault-Token": ROOT_TOKEN})
            resp = conn.getresponse()
            self.assertEqual((resp.status, resp.read()), (204, b""))
            self.assertIsNone(resp.getheader("Content-Length"))
        finally:
            conn.close()

    def test_control_api(self):
        st, _, body = http_json("POST", WORLD.url + "/_emu/secret",
                                {"mount": "kv", "path": "seeded/one", "data": {"x": "1"}})
        self.assertEqual((st, body["version"]), (200, 1))
        st, _, body = self.vault("GET", "/v1/kv/data/seeded/one")
        self.assertEqual(body["data"]["data"], {"x": "1"})
        http_json("POST", WORLD.url + "/_emu/secret", {"mount": "legacy", "path": "z", "data": {"y": "2"}})
        st, _, body = self.vault("GET", "/v1/legacy/z")
        self.assertEqual(body["data"], {"y": "2"})
        st, _, _ = http_json("POST", WORLD.url + "/_emu/fault",
                             {"method": "GET", "path": "^/v1/kv/data/top$", "status": 412, "count": 1,
                              "body": {"errors": []}})
        self.assertEqual(st, 200)
        self.assertEqual(self.vault("GET", "/v1/kv/data/top")[0], 412)
        self.assertEqual(self.vault("GET", "/v1/kv/data/top")[0], 200)
        s = self.state()
        self.assertEqual(s["namespaces"][""]["mounts"]["kv"]["secrets"]["seeded/one"]["current_version"], 1)
        self.assertGreaterEqual(s["requests_total"], 4)
        self.assertTrue(all("id" not in t and "token" not in t for t in s["tokens"]))
        http_json("POST", WORLD.url + "/_emu/reset", {})
        self.assertEqual(self.vault("GET", "/v1/kv/data/seeded/one")[0], 404)
        with open(WORLD.log_path) as f:
            lines = [json.loads(x) for x in f if x.strip()]
        self.assertTrue(any(x["path"] == "/v1/kv/data/top" and x["status"] == 412 for x in lines))
        self.assertFalse(any(ROOT_TOKEN in json.dumps(x) for x in lines))


if __name__ == "__main__":
    unittest.main()
