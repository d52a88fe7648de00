"""The test world itself: the launcher, the fault proxy, the request log.

Faults are checked with http.client straight against the proxy, so what
each kind does on the wire is seen without any SDK in between.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from world_fixture import EMULATORS, World, fixture_path, read_env_file  # noqa: E402

WORLD = None
SHA = "0123456789abcdef0123456789abcdef01234567"


def setUpModule():
    global WORLD
    WORLD = World("demo").start()


def tearDownModule():
    if WORLD:
        WORLD.stop()


def hostport(url):
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port


def world_ports(env):
    """Every port a world listens on, from its env file."""
    ports = set()
    for k, v in env.items():
        if v.startswith("http://127.0.0.1:") or v.startswith("https://127.0.0.1:"):
            ports.add(hostport(v)[1])
    return ports


def listening(port):
    s = socket.socket()
    s.settimeout(1)
    try:
        s.connect(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def ss_listeners(ports):
    """Lines of `ss -ltnp` for these ports (empty when ss is missing)."""
    if not shutil.which("ss"):
        return []
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines()
            if any(f"127.0.0.1:{p} " in line + " " for p in ports)]


def wait_closed(ports, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(listening(p) for p in ports):
            return True
        time.sleep(0.1)
    return False


class Launcher(unittest.TestCase):
    """world.py starts fast and leaves nothing behind, however it is stopped."""

    def spawn(self, *extra, services="aws"):
        d = tempfile.mkdtemp(prefix="secretsync-it-launch-")
        self.addCleanup(shutil.rmtree, d, True)
        env_file = os.path.join(d, "env")
        p = subprocess.Popen([sys.executable, os.path.join(EMULATORS, "world.py"),
                              "--fixture", fixture_path("demo"), "--env-file", env_file,
                              "--services", services, "--quiet", *extra],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True)

        def reap():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            for f in (p.stdin, p.stdout, p.stderr):
                f.close()
        self.addCleanup(reap)
        line = p.stdout.readline()
        self.assertEqual(line, b"WORLD READY\n", p.stderr.read() if not line else line)
        env = read_env_file(env_file)
        ports = world_ports(env)
        self.assertTrue(ports and all(listening(x) for x in ports))
        return p, env, ports, env_file

    def test_start_stop_all_services_nothing_left_listening(self):
        w = World("demo")
        w.start()
        self.assertLess(w.startup_seconds, 15)
        ports = world_ports(w.env)
        # proxy: sts, secretsmanager, s3, aws, vault, github, control; moto, vault, github.
        self.assertGreaterEqual(len(ports), 10)
        self.assertTrue(all(listening(p) for p in ports))
        self.assertTrue(ss_listeners(ports) or not shutil.which("ss"))
        need = {"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_SECRETS_MANAGER",
                "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION",
                "VAULT_ADDR", "GITHUB_API_URL", "ACTIONS_ID_TOKEN_REQUEST_URL",
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "GITHUB_REPOSITORY",
                "SECRETSYNC_TEST_PROXY_CONTROL", "SECRETSYNC_TEST_REQUEST_LOG",
                "SECRETSYNC_TEST_ROLE_ARN_STAGING", "SECRETSYNC_TEST_ROLE_ARN_PROD",
                "SECRETSYNC_TEST_WEB_IDENTITY_ROLE_ARN", "SECRETSYNC_TEST_BUCKET"}
        self.assertEqual(need - set(w.env), set())
        self.assertNotIn("VAULT_TOKEN", w.env)  # demo.json does not ask for it
        self.assertIn("?api-version=2.0", w.env["ACTIONS_ID_TOKEN_REQUEST_URL"])
        world_proc = w.proc
        w.stop()
        self.assertEqual(world_proc.returncode, 0)
        self.assertTrue(wait_closed(ports, 2), [p for p in ports if listening(p)])
        self.assertEqual(ss_listeners(ports), [])

    def test_sigterm(self):
        p, env, ports, env_file = self.spawn()
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=15), 0)
        self.assertTrue(wait_closed(ports, 2))
        self.assertFalse(os.path.exists(env_file))
        self.assertFalse(os.path.exists(env["SECRETSYNC_TEST_WORKDIR"]))

    def test_stdin_lifeline(self):
        p, env, ports, _ = self.spawn("--stdin-lifeline")
        p.stdin.close()
        self.assertEqual(p.wait(timeout=15), 0)
        self.assertTrue(wait_closed(ports, 2))

    def test_parent_pid_death(self):
        parent = subprocess.Popen(["sleep", "60"])
        self.addCleanup(parent.wait)
        p, env, ports, _ = self.spawn("--parent-pid", str(parent.pid))
        parent.kill()
        parent.wait()
        self.assertEqual(p.wait(timeout=15), 0)
        self.assertTrue(wait_closed(ports, 2))

    def test_sigkill_of_the_launcher_takes_the_children(self):
        p, env, ports, _ = self.spawn()
        os.kill(p.pid, signal.SIGKILL)  # the launcher alone, not its group
        p.wait(timeout=5)
        self.assertTrue(wait_closed(ports, 10), [x for x in ports if listening(x)])

    def test_bad_fixture_fails_cleanly(self):
        d = tempfile.mkdtemp(prefix="secretsync-it-bad-")
        self.addCleanup(shutil.rmtree, d, True)
        fx = os.path.join(d, "bad.json")
        with open(fx, "w") as f:
            json.dump({"aws": {"users": [{"name": "u", "policies": ["no-such-file.json"]}]}}, f)
        p = subprocess.run([sys.executable, os.path.join(EMULATORS, "world.py"), "--fixture", fx,
                            "--env-file", os.path.join(d, "env"), "--services", "aws"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no-such-file.json", p.stderr)
        self.assertNotIn("WORLD READY", p.stdout)


class Tls(unittest.TestCase):
    def test_tls_world(self):
        with World("demo", services="aws,vault", tls=True) as w:
            ca = w.env["SECRETSYNC_TEST_CA_FILE"]
            for k in ("AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_SECRETS_MANAGER",
                      "AWS_ENDPOINT_URL_S3", "VAULT_ADDR"):
                self.assertTrue(w.env[k].startswith("https://127.0.0.1:"), k)
            self.assertEqual((w.env["AWS_CA_BUNDLE"], w.env["VAULT_CACERT"]), (ca, ca))
            self.assertEqual(w.client("sts").get_caller_identity()["Account"], "123456789012")
            ctx = ssl.create_default_context(cafile=ca)
            with urllib.request.urlopen(w.env["VAULT_ADDR"] + "/v1/sys/health",
                                        context=ctx, timeout=10) as r:
                self.assertFalse(json.loads(r.read())["sealed"])
            # A client that does not trust the test CA is refused.
            with self.assertRaises(urllib.error.URLError) as cm:
                urllib.request.urlopen(w.env["VAULT_ADDR"] + "/v1/sys/health",
                                       context=ssl.create_default_context(), timeout=10)
            self.assertIsInstance(cm.exception.reason, ssl.SSLError)


class Proxy(unittest.TestCase):
    def setUp(self):
        WORLD.clear_faults()
        WORLD.latency("*", 0)
        self.gh_token = WORLD.env["GITHUB_TOKEN"]

    def tearDown(self):
        WORLD.clear_faults()
        WORLD.control("DELETE", "/latency")

    def conn(self, service, timeout=10):
        h, p = hostport(WORLD.url(service))
        return http.client.HTTPConnection(h, p, timeout=timeout)

    def gh(self, method, path, body=None, conn=None, timeout=10):
        c = conn or self.conn("github", timeout)
        data = json.dumps(body).encode() if body is not None else None
        c.request(method, path, body=data, headers={
            "User-Agent": "secretsync-it", "Accept": "application/vnd.github+json",
            "Authorization": "Bearer " + self.gh_token})
        r = c.getresponse()
        return r, r.read()

    def vault(self, method, path, body=None, token=None, conn=None):
        c = conn or self.conn("vault")
        data = json.dumps(body).encode() if body is not None else None
        h = {"X-Vault-Token": token or WORLD.env["SECRETSYNC_TEST_VAULT_ROOT_TOKEN"]}
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        return r, r.read()

    def gh_state(self):
        h, p = hostport(WORLD.env["SECRETSYNC_TEST_GITHUB_URL"])
        c = http.client.HTTPConnection(h, p, timeout=10)
        c.request("GET", "/_emu/state")
        return json.loads(c.getresponse().read())

    def statuses(self, sha):
        return self.gh_state().get("statuses", {}).get(sha, [])

    # -- fault kinds -------------------------------------------------------
    def test_status_fault_applies_to_exactly_count_calls(self):
        fid = WORLD.fault("github", "status", count=2, method="GET",
                          path_regex=r"^/repos/acme/infra$", status=503)
        c = self.conn("github")
        got = [self.gh("GET", "/repos/acme/infra", conn=c)[0].status for _ in range(3)]
        self.assertEqual(got, [503, 503, 200])
        f = [x for x in WORLD.faults() if x["id"] == fid][0]
        self.assertEqual((f["remaining"], f["hits"]), (0, 2))
        # Another path is not matched.
        WORLD.fault("github", "status", count=1, path_regex=r"/pulls/", status=500)
        self.assertEqual(self.gh("GET", "/repos/acme/infra")[0].status, 200)
        self.assertEqual(self.gh("GET", "/repos/acme/infra/pulls/7")[0].status, 500)

    def test_github_error_shape(self):
        WORLD.fault("github", "github_error", status=429, retry_after=3)
        r, b = self.gh("GET", "/repos/acme/infra/pulls/7")
        self.assertEqual(r.status, 429)
        self.assertEqual(r.getheader("Retry-After"), "3")
        self.assertEqual(r.getheader("x-ratelimit-remaining"), "0")
        j = json.loads(b)
        self.assertIn("rate limit", j["message"])
        self.assertTrue(j["documentation_url"].startswith("https://docs.github.com/"))

    def test_vault_error_shape(self):
        WORLD.fault("vault", "vault_error", status=412, path_regex="^/v1/kv/data/")
        r, b = self.vault("GET", "/v1/kv/data/team/app/db")
        self.assertEqual(r.status, 412)
        self.assertEqual(list(json.loads(b)), ["errors"])
        r, b = self.vault("GET", "/v1/kv/data/team/app/db")
        self.assertEqual(r.status, 200)
        self.assertEqual(json.loads(b)["data"]["data"]["port"], 5432)

    def test_aws_error_shapes_per_protocol(self):
        # JSON protocol (Secrets Manager).
        WORLD.fault("secretsmanager", "aws_error", operation="ListSecrets")
        c = self.conn("secretsmanager")
        c.request("POST", "/", body=b"{}", headers={
            "X-Amz-Target": "secretsmanager.ListSecrets",
            "Content-Type": "application/x-amz-json-1.1"})
        r = c.getresponse()
        j = json.loads(r.read())
        self.assertEqual((r.status, j["__type"]), (400, "ThrottlingException"))
        self.assertEqual(r.getheader("x-amzn-ErrorType"), "ThrottlingException")
        # Query protocol (STS).
        WORLD.fault("sts", "aws_error", operation="GetCallerIdentity", code="Throttling")
        c = self.conn("sts")
        c.request("POST", "/", body=b"Action=GetCallerIdentity&Version=2011-06-15",
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
        r = c.getresponse()
        b = r.read()
        self.assertEqual(r.status, 400)
        self.assertIn(b"<ErrorResponse", b)
        self.assertIn(b"<Code>Throttling</Code>", b)
        # S3 (REST-XML).
        WORLD.fault("s3", "aws_error", operation="GetObject")
        c = self.conn("s3")
        c.request("GET", "/secretsync-merged/bundles/x.json")
        r = c.getresponse()
        b = r.read()
        self.assertEqual(r.status, 503)
        self.assertIn(b"<Error><Code>SlowDown</Code>", b)

    def test_real_sdk_retries_an_injected_throttle(self):
        WORLD.clear_log()
        WORLD.fault("sts", "aws_error", count=2, operation="GetCallerIdentity")
        sts = WORLD.client("sts", retries=4)
        self.assertEqual(sts.get_caller_identity()["Account"], "123456789012")
        entries = [e for e in WORLD.log(service="sts") if e["operation"] == "GetCallerIdentity"]
        self.assertEqual([e.get("fault") for e in entries], ["aws_error", "aws_error", None])
        self.assertEqual([e["status"] for e in entries], [400, 400, 200])

    def test_drop_before_does_not_forward(self):
        sha = "1" * 40
        WORLD.fault("github", "drop_before", method="POST", path_regex="/statuses/")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.gh("POST", f"/repos/acme/infra/statuses/{sha}", {"state": "success",
                                                                  "context": "it"})
        self.assertEqual(self.statuses(sha), [])
        r, _ = self.gh("POST", f"/repos/acme/infra/statuses/{sha}", {"state": "success",
                                                                     "context": "it"})
        self.assertEqual(r.status, 201)
        self.assertEqual(len(self.statuses(sha)), 1)

    def test_drop_after_forwards_then_closes(self):
        sha = "2" * 40
        WORLD.fault("github", "drop_after", method="POST", path_regex="/statuses/")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.gh("POST", f"/repos/acme/infra/statuses/{sha}", {"state": "success",
                                                                  "context": "it"})
        self.assertEqual(len(self.statuses(sha)), 1)  # it happened upstream
        e = [x for x in WORLD.log(service="github") if x.get("fault") == "drop_after"][-1]
        self.assertEqual((e["status"], e["upstream_status"]), (None, 201))

    def test_stall(self):
        WORLD.fault("github", "stall", stall_ms=400, path_regex=r"^/repos/acme/infra$")
        t0 = time.monotonic()
        r, _ = self.gh("GET", "/repos/acme/infra")
        self.assertEqual(r.status, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.4)
        # A client that gives up first sees a timeout.
        WORLD.fault("github", "stall", stall_ms=3000, path_regex=r"^/repos/acme/infra$")
        t0 = time.monotonic()
        with self.assertRaises(socket.timeout):
            self.gh("GET", "/repos/acme/infra", timeout=0.3)
        self.assertLess(time.monotonic() - t0, 2)
        # ... and the proxy notices the client left and does not forward.
        time.sleep(0.3)
        r, _ = self.gh("GET", "/repos/acme/infra")
        self.assertEqual(r.status, 200)

    def test_stall_after_forwarding(self):
        sha = "3" * 40
        WORLD.fault("github", "stall", stall_ms=3000, after=True, method="POST")
        with self.assertRaises(socket.timeout):
            self.gh("POST", f"/repos/acme/infra/statuses/{sha}",
                    {"state": "pending", "context": "it"}, timeout=0.5)
        self.assertEqual(len(self.statuses(sha)), 1)

    def test_truncate(self):
        WORLD.fault("github", "truncate", path_regex="/pulls/7$")
        c = self.conn("github")
        c.request("GET", "/repos/acme/infra/pulls/7", headers={
            "User-Agent": "it", "Authorization": "Bearer " + self.gh_token})
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        with self.assertRaises(http.client.IncompleteRead):
            r.read()

    def test_malformed(self):
        WORLD.fault("vault", "malformed", path_regex="/sys/health")
        r, b = self.vault("GET", "/v1/sys/health")
        self.assertEqual(r.status, 200)
        self.assertEqual(int(r.getheader("Content-Length")), len(b))
        with self.assertRaises(ValueError):
            json.loads(b)

    def test_control_api_validation(self):
        with self.assertRaises(Exception):
            WORLD.fault("github", "explode")
        self.assertTrue(WORLD.control("GET", "/health")["ok"])

    # -- log, latency, HTTP plumbing -----------------------------------------
    def test_request_log_marks_mutations(self):
        WORLD.clear_log()
        root = WORLD.env["SECRETSYNC_TEST_VAULT_ROOT_TOKEN"]
        self.vault("GET", "/v1/kv/data/team/app/db")
        self.vault("LIST", "/v1/kv/metadata/team/")
        self.vault("GET", "/v1/kv/metadata/team/?list=true")
        r, b = self.vault("POST", "/v1/auth/approle/login",
                          {"role_id": "demo-role-id", "secret_id": "demo-secret-id"})
        tok = json.loads(b)["auth"]["client_token"]
        self.vault("GET", "/v1/auth/token/lookup-self", token=tok)
        self.vault("POST", "/v1/merged/data/staging/x", {"data": {"a": "b"}}, token=tok)
        self.vault("POST", "/v1/auth/token/revoke-self", token=tok)
        self.vault("DELETE", "/v1/merged/metadata/staging/x", token=root)
        self.gh("GET", "/repos/acme/infra/pulls/7")
        r, b = self.gh("POST", "/repos/acme/infra/issues/7/comments", {"body": "hi"})
        cid = json.loads(b)["id"]
        self.gh("PATCH", f"/repos/acme/infra/issues/comments/{cid}", {"body": "edited"})
        self.gh("POST", f"/repos/acme/infra/statuses/{SHA}", {"state": "success", "context": "x"})
        creds = WORLD.assume(WORLD.env["SECRETSYNC_TEST_ROLE_ARN_STAGING"], "log")
        sm = WORLD.client("secretsmanager", credentials=creds)
        sm.get_secret_value(SecretId="app/team/app/db")
        sm.put_secret_value(SecretId="app/team/app/db", SecretString='{"host":"h"}')
        sm.list_secrets()
        s3 = WORLD.client("s3")
        s3.put_object(Bucket="secretsync-merged", Key="bundles/log.json", Body=b"{}",
                      ServerSideEncryption="AES256")
        s3.get_object(Bucket="secretsync-merged", Key="bundles/log.json")
        s3.head_object(Bucket="secretsync-merged", Key="bundles/log.json")
        got = [(e["service"], e["operation"], e["mutating"]) for e in WORLD.log()]
        want = [
            ("vault", "GET /v1/kv/data/team/app/db", False),
            ("vault", "LIST /v1/kv/metadata/team/", False),
            ("vault", "LIST /v1/kv/metadata/team/", False),
            ("vault", "POST /v1/auth/approle/login", False),
            ("vault", "GET /v1/auth/token/lookup-self", False),
            ("vault", "POST /v1/merged/data/staging/x", True),
            ("vault", "POST /v1/auth/token/revoke-self", False),
            ("vault", "DELETE /v1/merged/metadata/staging/x", True),
            ("github", "GET /repos/{owner}/{repo}/pulls/{pull_number}", False),
            ("github", "POST /repos/{owner}/{repo}/issues/{issue_number}/comments", True),
            ("github", "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", True),
            ("github", "POST /repos/{owner}/{repo}/statuses/{sha}", True),
            ("sts", "AssumeRole", False),
            ("secretsmanager", "GetSecretValue", False),
            ("secretsmanager", "PutSecretValue", True),
            ("secretsmanager", "ListSecrets", False),
            ("s3", "PutObject", True),
            ("s3", "GetObject", False),
            ("s3", "HeadObject", False),
        ]
        self.assertEqual(got, want)
        # The file holds the same entries, one JSON object a line, all fields.
        with open(WORLD.env["SECRETSYNC_TEST_REQUEST_LOG"]) as f:
            lines = [json.loads(x) for x in f if x.strip()]
        self.assertEqual([(e["service"], e["operation"], e["mutating"]) for e in lines], want)
        for e in lines:
            self.assertTrue({"ts", "service", "method", "path", "operation", "mutating",
                             "status", "duration_ms"} <= set(e), e)
            self.assertNotIn("?", e["path"])
        self.assertEqual(WORLD.log(mutating=True)[0]["operation"],
                         "POST /v1/merged/data/staging/x")
        self.assertEqual(len(WORLD.log(service="s3")), 3)
        # Secret values never reach the log.
        with open(WORLD.env["SECRETSYNC_TEST_REQUEST_LOG"]) as f:
            text = f.read()
        for secret in ("demo-db-password", "demo-secret-id", tok):
            self.assertNotIn(secret, text)

    def test_latency(self):
        def timed(fn):
            t0 = time.monotonic()
            fn()
            return time.monotonic() - t0
        c = self.conn("github")
        self.gh("GET", "/repos/acme/infra", conn=c)
        base = timed(lambda: self.gh("GET", "/repos/acme/infra", conn=c))
        WORLD.latency("github", 250)
        slow = [timed(lambda: self.gh("GET", "/repos/acme/infra", conn=c)) for _ in range(3)]
        self.assertTrue(all(s >= 0.25 for s in slow), slow)
        self.assertLess(timed(lambda: self.vault("GET", "/v1/sys/health")), 0.25)
        WORLD.latency("github", 0)
        self.assertLess(timed(lambda: self.gh("GET", "/repos/acme/infra", conn=c)), base + 0.2)

    def test_keep_alive_and_host_preserved(self):
        c = self.conn("github")
        r, b = self.gh("GET", "/repos/acme/infra", conn=c)
        sock = c.sock
        for _ in range(4):
            r, b = self.gh("GET", "/repos/acme/infra", conn=c)
            self.assertEqual(r.status, 200)
        self.assertIs(c.sock, sock)  # one connection for all five
        # The GitHub emulator builds its URLs from the Host it saw: the proxy's.
        self.assertTrue(json.loads(b)["url"].startswith(WORLD.url("github")), b[:200])

    def test_chunked_request_body(self):
        c = self.conn("vault")
        body = json.dumps({"data": {"chunked": "yes"}}).encode()
        c.putrequest("POST", "/v1/merged/data/chunked")
        c.putheader("X-Vault-Token", WORLD.env["SECRETSYNC_TEST_VAULT_ROOT_TOKEN"])
        c.putheader("Transfer-Encoding", "chunked")
        c.endheaders()
        for i in range(0, len(body), 7):
            part = body[i:i + 7]
            c.send(b"%x\r\n%s\r\n" % (len(part), part))
        c.send(b"0\r\n\r\n")
        r = c.getresponse()
        r.read()
        self.assertEqual(r.status, 200)
        r, b = self.vault("GET", "/v1/merged/data/chunked", conn=c)
        self.assertEqual(json.loads(b)["data"]["data"], {"chunked": "yes"})

    def test_moto_api_not_reachable_through_the_proxy(self):
        c = self.conn("aws")
        c.request("POST", "/moto-api/reset-auth", body=b"1000")
        r = c.getresponse()
        r.read()
        self.assertEqual(r.status, 404)
        with self.assertRaises(Exception):
            WORLD.client("sts", WORLD.env["AWS_ACCESS_KEY_ID"], "wrong").get_caller_identity()


if __name__ == "__main__":
    unittest.main()
