"""Security properties of the binary, each a test, against the test world.

Runs build/secretsync (SECRETSYNC_BIN overrides it; a private copy is used)
against one world (tests/emulators/fixtures/e2e.json) with the e2e configs:

- TLS verification cannot be turned off: no such option in the source, and
  the environment variables other tools honour (VAULT_SKIP_VERIFY,
  CURL_CA_BUNDLE=, CURL_INSECURE, ...) change nothing against a TLS Vault
  whose CA is unknown;
- each token goes only to its own service: every byte the binary sends is
  captured per connection (strace), and the GitHub token, the Vault login
  token and AppRole credentials, and the AWS signatures and session tokens
  each appear only on connections to their own service;
- redirects are not followed (Vault, GitHub, Secrets Manager, STS): a
  301/302/307/308 to another port is an error and the other port never
  sees a connection, let alone a token;
- no secret in argv; no child process (no execve, no fork); no file
  created but the GITHUB_* files named in the environment, and those 0600
  when it creates them (even under umask 000); core dumps off
  (/proc/PID/limits) while it works;
- freed memory holds no secret: an LD_PRELOAD shim compiled here scans
  every block passed to free() and moved by realloc() for canary values
  (a Vault secret, the GitHub token, the AppRole secret id, Vault and AWS
  token headers) and reports who freed it, with a backtrace resolved by
  addr2line. A block freed by the binary itself, or by curl_slist_free_all
  on a header list the binary built, fails the test; so does a copy freed by
  a library (libcurl's buffers are zeroed through curl_global_init_mem's
  allocator hooks, cJSON's through cJSON_InitHooks).

    python3 tests/integration/run.py test_security
"""
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request
import http.server

from world_fixture import ROOT, World

BIN = os.environ.get("SECRETSYNC_BIN", os.path.join(ROOT, "build", "secretsync"))
CONFIGS = os.path.join(ROOT, "tests", "integration", "e2e_configs")
PR_NUMBER = 7
WORLD = None
TMP = None
BINARY = None


def setUpModule():
    global WORLD, TMP, BINARY
    if not os.access(BIN, os.X_OK):
        raise unittest.SkipTest(f"{BIN} is not built (make)")
    TMP = tempfile.mkdtemp(prefix="secretsync-sec-")
    BINARY = os.path.join(TMP, "secretsync")
    shutil.copy2(BIN, BINARY)
    WORLD = World("e2e").start()


def tearDownModule():
    if WORLD:
        WORLD.stop()
    if TMP:
        shutil.rmtree(TMP, ignore_errors=True)


def emu(service, path, body=None):
    base = {"vault": "SECRETSYNC_TEST_VAULT_URL", "github": "SECRETSYNC_TEST_GITHUB_URL"}[service]
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(WORLD.env[base] + path, data=data,
                                 method="POST" if data is not None else "GET",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        raw = r.read()
    return json.loads(raw) if raw else None


def head_sha():
    with open(os.path.join(ROOT, "tests", "emulators", "fixtures", "e2e.json")) as f:
        return json.load(f)["github"]["pulls"][str(PR_NUMBER)]["head_sha"]


def port_of(url):
    return int(re.match(r"https?://[^/:]+:(\d+)", url).group(1))


# strace (ptrace) and an LD_PRELOAD free() spy cannot run a sanitizer
# build: LeakSanitizer refuses to run under ptrace and ASan must be the
# first library loaded. `make integration-asan` sets this; those tests run
# with the plain binary in `make integration`.
UNDER_SANITIZER = os.environ.get("SECRETSYNC_UNDER_SANITIZER") == "1"
no_sanitizer = unittest.skipIf(UNDER_SANITIZER, "needs strace/LD_PRELOAD: run with the plain "
                               "binary (make integration)")


class Base(unittest.TestCase):
    def setUp(self):
        name = self.id().split(".")[-1].replace("test_", "")
        self.uid = "sec" + re.sub(r"[^a-z0-9]", "", name.lower())[:21]
        self.tmp = tempfile.mkdtemp(prefix="t-", dir=TMP)
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.addCleanup(WORLD.clear_faults)
        self.addCleanup(WORLD.control, "DELETE", "/latency")
        self.canary = f"canary-{self.uid}-7Qx2vR9s"
        emu("vault", "/_emu/secret", {"namespace": "", "mount": "kv",
                                      "path": f"{self.uid}/db",
                                      "data": {"password": self.canary, "user": "app"}})

    def env(self, **extra):
        """The world plus the e2e config's variables, a PR event and the step
        files; GITHUB_ACTIONS is left out unless given."""
        event = os.path.join(self.tmp, "event.json")
        with open(event, "w") as f:
            json.dump({"pull_request": {"number": PR_NUMBER, "head": {"sha": head_sha()}}}, f)
        env = WORLD.binary_env({"E2E_ID": self.uid, "E2E_PATH": self.uid,
                                "GITHUB_EVENT_NAME": "pull_request",
                                "GITHUB_EVENT_PATH": event, "GITHUB_SHA": "f" * 40,
                                "GITHUB_OUTPUT": os.path.join(self.tmp, "output"),
                                "GITHUB_ENV": os.path.join(self.tmp, "env"),
                                "GITHUB_STEP_SUMMARY": os.path.join(self.tmp, "summary.md")})
        env.pop("VAULT_TOKEN", None)
        env.update(extra)
        return env

    def args(self, command="pipeline", config="github"):
        return [command, "-c", os.path.join(CONFIGS, config + ".yaml"), "--comment",
                "--status"]

    def run_bin(self, args, env, timeout=120, prefix=(), **kw):
        return subprocess.run(list(prefix) + [BINARY] + list(args), cwd=self.tmp, env=env,
                              capture_output=True, text=True, errors="replace",
                              timeout=timeout, **kw)


# --- TLS ---------------------------------------------------------------------

class TestTlsVerification(Base):
    # Words in the source that would turn certificate checks off.
    FORBIDDEN = [r"VERIFYPEER\s*,\s*0", r"VERIFYHOST\s*,\s*0", r"VERIFYSTATUS\s*,\s*0",
                 r"SSL_VERIFYPEER\s*,\s*\(long\)\s*0", r"(?i)insecure", r"(?i)skip_?verify",
                 r"(?i)no_?verify", r"(?i)tls_?skip", r"CURLSSLOPT_NO_REVOKE",
                 r"CURLSSLOPT_ALLOW_BEAST", r"br_x509_knownkey", r"x509_noanchor",
                 r"(?i)disable_?tls"]

    def test_no_switch_in_the_source(self):
        hits = []
        for base, _, files in os.walk(os.path.join(ROOT, "src")):
            for fn in files:
                if not fn.endswith((".c", ".h")):
                    continue
                path = os.path.join(base, fn)
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                for rx in self.FORBIDDEN:
                    for m in re.finditer(rx, text):
                        line = text.count("\n", 0, m.start()) + 1
                        hits.append(f"{os.path.relpath(path, ROOT)}:{line}: {m.group(0)}")
        self.assertEqual(hits, [])
        # Verification is set on explicitly, in the one file that talks curl.
        with open(os.path.join(ROOT, "src", "net", "http.c"), encoding="utf-8") as f:
            http_c = f.read()
        self.assertRegex(http_c, r"CURLOPT_SSL_VERIFYPEER,\s*1L")
        self.assertRegex(http_c, r"CURLOPT_SSL_VERIFYHOST,\s*2L")

    def test_no_option_in_the_cli(self):
        out = subprocess.run([BINARY, "--help"], capture_output=True, text=True).stdout
        for cmd in ("pipeline", "get", "verify", "credentials"):
            out += subprocess.run([BINARY, cmd, "--help"], capture_output=True, text=True).stdout
        self.assertNotRegex(out, r"(?i)insecure|skip.?verify|no.?verify|tls.?skip")
        r = subprocess.run([BINARY, "get", "--insecure", "vault:kv/x#y"], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 64, r.stderr)

    def test_skip_verify_variables_change_nothing(self):
        if shutil.which("openssl") is None:
            self.skipTest("no openssl command")
        from test_vault_client import TLSFront, make_ca, make_server_cert
        d = tempfile.mkdtemp(dir=self.tmp)
        make_ca(d, "ca")
        cert, key = make_server_cert(d, "ca", "vault.test")
        front = TLSFront(cert, key, port_of(WORLD.env["VAULT_ADDR"]))
        self.addCleanup(front.stop)
        addr = f"https://127.0.0.1:{front.port}"
        base = dict(VAULT_ADDR=addr, VAULT_TLS_SERVER_NAME="vault.test",
                    VAULT_TOKEN=WORLD.env["SECRETSYNC_TEST_VAULT_ROOT_TOKEN"])
        spec = [f"vault:kv/{self.uid}/db#user=USER"]
        # The control: with the CA it works through the front.
        r = self.run_bin(["get"] + spec, self.env(VAULT_CACERT=os.path.join(d, "ca.pem"),
                                                  **base))
        self.assertEqual(r.returncode, 0, r.stderr)
        before = emu("vault", "/_emu/state")["requests_total"]
        hostile = dict(VAULT_SKIP_VERIFY="true", VAULT_SKIP_VERIFY_TLS="1", CURL_CA_BUNDLE="",
                       CURL_INSECURE="1", CURLOPT_SSL_VERIFYPEER="0", SSL_CERT_FILE="",
                       SSL_CERT_DIR="", AWS_CA_BUNDLE="", REQUESTS_CA_BUNDLE="",
                       NODE_TLS_REJECT_UNAUTHORIZED="0", GIT_SSL_NO_VERIFY="1",
                       PYTHONHTTPSVERIFY="0", SECRETSYNC_INSECURE="1",
                       SECRETSYNC_TLS_SKIP_VERIFY="1", VAULT_CAPATH="/nonexistent")
        for k, v in hostile.items():
            with self.subTest(variable=k):
                r = self.run_bin(["get"] + spec, self.env(**dict(base, **{k: v})))
                self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
                self.assertIn("could not be verified", r.stderr)
        r = self.run_bin(["get"] + spec, self.env(**dict(base, **hostile)))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("could not be verified", r.stderr)
        # Not one request got through the front to Vault.
        self.assertEqual(emu("vault", "/_emu/state")["requests_total"], before)


# --- where tokens go ------------------------------------------------------------

def parse_strace(path):
    """{fd-connection index: (port, bytes sent)} from an strace -xx log, plus
    the list of (syscall, args) lines. Connections are keyed by the order of
    connect() calls (an fd number is reused after close)."""
    conns = []        # [port, bytearray]
    fd_conn = {}      # fd -> index into conns
    rx_connect = re.compile(r"connect\((\d+), \{sa_family=AF_INET6?, sin6?_port=htons\((\d+)\)")
    rx_send = re.compile(r"(?:sendto|write|send)\((\d+), \"((?:\\x[0-9a-f]{2})*)\"")
    rx_sendmsg = re.compile(r"sendmsg\((\d+), .*?iov_base=\"((?:\\x[0-9a-f]{2})*)\"")
    with open(path, encoding="ascii", errors="replace") as f:
        for line in f:
            m = rx_connect.search(line)
            if m:
                fd_conn[int(m.group(1))] = len(conns)
                conns.append([int(m.group(2)), bytearray()])
                continue
            m = rx_send.search(line) or rx_sendmsg.search(line)
            if m and int(m.group(1)) in fd_conn:
                conns[fd_conn[int(m.group(1))]][1] += bytes.fromhex(
                    m.group(2).replace("\\x", ""))
    return conns


@no_sanitizer
class TestTokensStayWithTheirService(Base):
    @classmethod
    def setUpClass(cls):
        if shutil.which("strace") is None:
            raise unittest.SkipTest("no strace")

    def services(self):
        """port -> service of the world's endpoints."""
        env = WORLD.env
        return {port_of(env["VAULT_ADDR"]): "vault",
                port_of(env["GITHUB_API_URL"]): "github",
                port_of(env["ACTIONS_ID_TOKEN_REQUEST_URL"]): "github",
                port_of(env["AWS_ENDPOINT_URL"]): "aws",
                port_of(env["AWS_ENDPOINT_URL_STS"]): "aws",
                port_of(env["AWS_ENDPOINT_URL_SECRETS_MANAGER"]): "aws",
                port_of(env["AWS_ENDPOINT_URL_S3"]): "aws"}

    def capture(self, args, env):
        log = os.path.join(self.tmp, "strace.log")
        r = self.run_bin(args, env, timeout=300,
                         prefix=["strace", "-f", "-qq", "-s", "10000000", "-xx", "-o", log,
                                 "-e", "trace=connect,sendto,sendmsg,write,writev"])
        conns = parse_strace(log)
        sent = {}
        services = self.services()
        for port, data in conns:
            svc = services.get(port, f"port {port}")
            sent.setdefault(svc, bytearray()).extend(data)
        return r, {k: bytes(v) for k, v in sent.items()}

    @staticmethod
    def header_values(data, name):
        return set(m.group(1).strip() for m in
                   re.finditer(rb"(?im)^" + re.escape(name.encode()) + rb":\s*([^\r\n]+)", data))

    def test_each_token_only_to_its_service(self):
        env = self.env(GITHUB_ACTIONS="true")
        r, sent = self.capture(self.args(), env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(set(sent), {"vault", "github", "aws"}, sorted(sent))
        # What each service legitimately received.
        gh_token = WORLD.env["GITHUB_TOKEN"].encode()
        role_id = WORLD.env["VAULT_ROLE_ID"].encode()
        secret_id = WORLD.env["VAULT_SECRET_ID"].encode()
        vault_tokens = self.header_values(sent["vault"], "X-Vault-Token")
        aws_auth = self.header_values(sent["aws"], "Authorization")
        aws_session = self.header_values(sent["aws"], "X-Amz-Security-Token")
        gh_auth = self.header_values(sent["github"], "Authorization")
        self.assertTrue(vault_tokens, "no X-Vault-Token sent to Vault")
        self.assertTrue(aws_auth and aws_session, "no SigV4 / session token sent to AWS")
        self.assertIn(b"token " + gh_token, {v for v in gh_auth} | {b"token " + v.split(b" ")[-1]
                                                                     for v in gh_auth})
        self.assertIn(secret_id, sent["vault"])
        # The credentials themselves.
        signatures = set()
        for v in aws_auth:
            signatures |= set(re.findall(rb"Signature=([0-9a-f]{64})", v))
            signatures |= set(re.findall(rb"Credential=([A-Z0-9]{16,})/", v))
        own = {
            "github": {gh_token} | {v.split(b" ")[-1] for v in gh_auth},
            "vault": vault_tokens | {role_id, secret_id},
            "aws": aws_session | signatures |
                   {WORLD.env["AWS_SECRET_ACCESS_KEY"].encode()},
        }
        for svc, secrets in own.items():
            for other, data in sent.items():
                if other == svc:
                    continue
                for s in secrets:
                    self.assertNotIn(s, data, f"a {svc} credential was sent to {other}")
        # The AWS secret key is never sent at all, not even to AWS.
        self.assertNotIn(WORLD.env["AWS_SECRET_ACCESS_KEY"].encode(), sent["aws"])
        # No Authorization header to Vault, no Vault header elsewhere.
        self.assertEqual(self.header_values(sent["vault"], "Authorization"), set())
        for other in ("aws", "github"):
            self.assertEqual(self.header_values(sent[other], "X-Vault-Token"), set())
        self.assertEqual(self.header_values(sent["github"], "X-Amz-Security-Token"), set())

    def test_oidc_request_token_only_to_github(self):
        """GitHub OIDC to AWS: the request token goes to the ID-token service
        only; the ID token itself goes to STS only."""
        env = self.env(GITHUB_ACTIONS="true", AWS_ROLE_TO_ASSUME="",
                       INPUT_ROLE_TO_ASSUME=WORLD.env["SECRETSYNC_TEST_WEB_IDENTITY_ROLE_ARN"])
        env.pop("AWS_ACCESS_KEY_ID")
        env.pop("AWS_SECRET_ACCESS_KEY")
        args = ["plan", "-c", os.path.join(CONFIGS, "github.yaml"), "--role-to-assume",
                WORLD.env["SECRETSYNC_TEST_WEB_IDENTITY_ROLE_ARN"]]
        r, sent = self.capture(args, env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        req_token = WORLD.env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"].encode()
        self.assertIn(req_token, sent["github"])
        for other in ("aws", "vault"):
            self.assertNotIn(req_token, sent[other])
        jwts = set(re.findall(rb"WebIdentityToken=([A-Za-z0-9_.%-]+)", sent["aws"]))
        self.assertTrue(jwts)
        for j in jwts:
            raw = urllib.parse.unquote(j.decode()).encode()
            self.assertNotIn(raw, sent["vault"])
            self.assertNotIn(raw, sent["github"])


# --- redirects ---------------------------------------------------------------------

class Trap:
    """A listener that counts connections and keeps whatever they send."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.data = b""
        self.stopped = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            c.settimeout(2)
            try:
                self.data += c.recv(65536)
            except OSError:
                pass
            c.close()

    def stop(self):
        self.stopped = True
        self.sock.close()


class Redirector:
    """Answers every request with `status` and a Location on the trap."""

    def __init__(self, status, location):
        outer = self
        self.requests = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                outer.requests.append((self.command, self.path, dict(self.headers), body))
                payload = b'{"message":"moved"}'
                self.send_response(status)
                self.send_header("Location", location + self.path)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_LIST = _any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class TestRedirectsNotFollowed(Base):
    def redirect(self, status, service):
        trap = Trap()
        self.addCleanup(trap.stop)
        red = Redirector(status, f"http://127.0.0.1:{trap.port}")
        self.addCleanup(red.stop)
        return trap, red

    def check(self, r, trap, red, words):
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(red.requests, "the redirector was not asked")
        time.sleep(0.2)
        self.assertEqual(trap.connections, 0, "a redirect was followed")
        for w in words:
            self.assertIn(w, r.stderr)

    def test_vault(self):
        for status in (301, 302, 307, 308):
            with self.subTest(status=status):
                trap, red = self.redirect(status, "vault")
                token = WORLD.env["SECRETSYNC_TEST_VAULT_ROOT_TOKEN"]
                r = self.run_bin(["get", f"vault:kv/{self.uid}/db#user=USER"],
                                 self.env(VAULT_ADDR=red.url, VAULT_TOKEN=token))
                self.check(r, trap, red, [str(status)])
                self.assertEqual(red.requests[0][2].get("X-Vault-Token"), token)

    def test_vault_approle_login(self):
        trap, red = self.redirect(307, "vault")
        env = self.env()
        env["VAULT_ADDR"] = red.url
        r = self.run_bin(["plan", "-c", os.path.join(CONFIGS, "github.yaml")], env)
        self.check(r, trap, red, ["307"])
        self.assertIn(WORLD.env["VAULT_SECRET_ID"].encode(), red.requests[0][3])

    def test_github(self):
        trap, red = self.redirect(307, "github")
        r = self.run_bin(self.args("plan"), self.env(GITHUB_API_URL=red.url))
        self.assertNotEqual(r.returncode, 0, r.stderr)
        self.check(r, trap, red, ["307"])
        self.assertEqual(trap.data, b"")

    def test_secrets_manager_and_sts(self):
        for var in ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_STS"):
            with self.subTest(endpoint=var):
                trap, red = self.redirect(307, "aws")
                r = self.run_bin(["plan", "-c", os.path.join(CONFIGS, "github.yaml")],
                                 self.env(**{var: red.url}))
                self.check(r, trap, red, ["307"])


# --- the process ------------------------------------------------------------------

@no_sanitizer
class TestProcess(Base):
    def slow_run(self, env, args=None, latency_ms=150, **kw):
        """Start the binary with every request delayed, so that it can be
        looked at while it works; returns (Popen, observations)."""
        WORLD.latency("*", latency_ms)
        p = subprocess.Popen([BINARY] + (args or self.args()), cwd=self.tmp, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
        seen = []
        while p.poll() is None:
            try:
                with open(f"/proc/{p.pid}/cmdline", "rb") as f:
                    cmdline = f.read()
                with open(f"/proc/{p.pid}/limits") as f:
                    limits = f.read()
                seen.append((cmdline, limits))
            except OSError:
                break
            time.sleep(0.05)
        out, err = p.communicate(timeout=120)
        WORLD.latency("*", 0)
        return p.returncode, out.decode(errors="replace"), err.decode(errors="replace"), seen

    def test_no_secret_in_argv_and_core_dumps_off(self):
        import resource

        def unlimited_core():
            resource.setrlimit(resource.RLIMIT_CORE,
                               (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

        rc, out, err, seen = self.slow_run(self.env(GITHUB_ACTIONS="true"),
                                           preexec_fn=unlimited_core)
        self.assertEqual(rc, 0, out + err)
        self.assertGreater(len(seen), 3, "the run was too quick to watch")
        want = b"\0".join(x.encode() for x in [BINARY] + self.args()) + b"\0"
        secrets = [self.canary, WORLD.env["GITHUB_TOKEN"], WORLD.env["VAULT_SECRET_ID"],
                   WORLD.env["AWS_SECRET_ACCESS_KEY"]]
        for cmdline, limits in seen[1:]:
            self.assertEqual(cmdline, want)
            for s in secrets:
                self.assertNotIn(s.encode(), cmdline)
            m = re.search(r"^Max core file size\s+(\S+)\s+(\S+)", limits, re.M)
            self.assertIsNotNone(m, limits)
            self.assertEqual(m.groups(), ("0", "0"), limits)

    def strace(self, args, env, trace, **kw):
        if shutil.which("strace") is None:
            self.skipTest("no strace")
        log = os.path.join(self.tmp, "strace.log")
        r = self.run_bin(args, env, timeout=300,
                         prefix=["strace", "-f", "-qq", "-s", "256", "-o", log, "-e",
                                 "trace=" + trace], **kw)
        with open(log, encoding="utf-8", errors="replace") as f:
            return r, f.read()

    def test_no_child_process(self):
        r, log = self.strace(self.args(), self.env(GITHUB_ACTIONS="true"),
                             "execve,execveat,fork,vfork,clone,clone3")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        execs = re.findall(r"execve(?:at)?\(", log)
        self.assertEqual(len(execs), 1, log[:2000])  # strace starting the binary
        for m in re.finditer(r"\b(clone3?|fork|vfork)\((.*)", log):
            # threads only: a new process would not share the VM and files
            self.assertIn("CLONE_VM", m.group(2), m.group(0))
            self.assertIn("CLONE_THREAD", m.group(2), m.group(0))
        self.assertNotRegex(log, r"\bv?fork\(")

    def test_creates_only_the_step_files_0600(self):
        env = self.env(GITHUB_ACTIONS="true")
        created = {env["GITHUB_OUTPUT"], env["GITHUB_ENV"], env["GITHUB_STEP_SUMMARY"]}
        for p in created:
            if os.path.exists(p):
                os.unlink(p)
        r, log = self.strace(self.args(), env,
                             "open,openat,openat2,creat,mkdir,mkdirat,rename,renameat,"
                             "renameat2,link,linkat,symlink,symlinkat,memfd_create",
                             preexec_fn=lambda: os.umask(0))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        made = set()
        for m in re.finditer(r"\b(open|openat|openat2|creat)\((?:AT_FDCWD, )?\"([^\"]*)\", "
                             r"([^)]*)\)", log):
            flags = m.group(3)
            if m.group(1) == "creat" or "O_CREAT" in flags or "O_TMPFILE" in flags:
                made.add(m.group(2))
        self.assertEqual(made - created, set(), "files created besides the step files")
        self.assertNotRegex(log, r"\b(mkdir|mkdirat|rename|renameat2?|link|linkat|symlink|"
                                 r"symlinkat|memfd_create)\(")
        # The files it had to create are 0600 even under umask 000 (GITHUB_OUTPUT
        # holds outputs; a world-writable summary could be rewritten by anyone).
        self.assertTrue(os.path.exists(env["GITHUB_OUTPUT"]))
        self.assertTrue(os.path.exists(env["GITHUB_STEP_SUMMARY"]))
        modes = {os.path.basename(p): oct(stat.S_IMODE(os.stat(p).st_mode))
                 for p in created if os.path.exists(p)}
        self.assertEqual(modes, {k: "0o600" for k in modes})


# --- freed memory -------------------------------------------------------------------

SHIM_C = r"""
/* free() / realloc() spy: reports each block that still holds a canary
 * when it is freed (or left behind by a moving realloc), with the object
 * and function that freed it. Canaries: SHIM_CANARIES, ';'-separated;
 * report lines appended to SHIM_LOG. No allocation in the hooks. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void __libc_free(void *);
extern void *__libc_realloc(void *, size_t);

#define MAXC 8
static char can[MAXC][256];
static size_t canlen[MAXC], ncan;
static int logfd = -1;
static __thread int inside;

__attribute__((constructor)) static void shim_init(void)
{
	void *warm[2];
	/* backtrace() loads libgcc_s (and allocates) on its first call. */
	inside = 1;
	backtrace(warm, 2);
	inside = 0;
	const char *c = getenv("SHIM_CANARIES"), *l = getenv("SHIM_LOG");
	while (c && *c && ncan < MAXC) {
		const char *e = strchr(c, ';');
		size_t n = e ? (size_t)(e - c) : strlen(c);
		if (n > 0 && n < sizeof(can[0])) {
			memcpy(can[ncan], c, n);
			canlen[ncan++] = n;
		}
		c = e ? e + 1 : c + n;
	}
	if (l)
		logfd = open(l, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

static int holds(const void *p, size_t n)
{
	size_t i;
	for (i = 0; i < ncan; i++)
		if (memmem(p, n, can[i], canlen[i]) != NULL)
			return (int)i + 1;
	return 0;
}

/* One line: how, the object and function that called free/realloc, the
 * canary's number, the block size, then up to 12 frames as OBJECT+0xOFF
 * (offsets into the object, for addr2line). */
static void report(const char *how, void *caller, int which, size_t size)
{
	Dl_info info;
	void *frames[16];
	char line[4096];
	int n, i, nf;
	size_t len;
	if (logfd < 0 || inside)
		return;
	inside = 1;
	memset(&info, 0, sizeof(info));
	dladdr(caller, &info);
	n = snprintf(line, sizeof(line), "%s\t%s\t%s\t%d\t%zu\t", how,
		     info.dli_fname ? info.dli_fname : "?", info.dli_sname ? info.dli_sname : "?",
		     which, size);
	len = n > 0 ? (size_t)n : 0;
	nf = backtrace(frames, 16);
	for (i = 2; i < nf && i < 14 && len + 300 < sizeof(line); i++) {
		memset(&info, 0, sizeof(info));
		if (dladdr(frames[i], &info) && info.dli_fname)
			n = snprintf(line + len, sizeof(line) - len, "%s+0x%lx ", info.dli_fname,
				     (unsigned long)((char *)frames[i] - (char *)info.dli_fbase) - 1);
		else
			n = snprintf(line + len, sizeof(line) - len, "? ");
		if (n > 0)
			len += (size_t)n;
	}
	line[len++] = '\n';
	(void)!write(logfd, line, len);
	inside = 0;
}

void free(void *p)
{
	if (p != NULL && ncan > 0) {
		size_t n = malloc_usable_size(p);
		int w = holds(p, n);
		if (w)
			report("free", __builtin_return_address(0), w, n);
	}
	__libc_free(p);
}

void *realloc(void *p, size_t size)
{
	int w = 0;
	size_t n = 0;
	void *r;
	if (p != NULL && ncan > 0) {
		n = malloc_usable_size(p);
		w = holds(p, n);
	}
	r = __libc_realloc(p, size);
	if (w && r != p && (r != NULL || size == 0))
		report("realloc", __builtin_return_address(0), w, n);
	return r;
}
"""


@no_sanitizer
class TestFreedMemory(Base):
    @classmethod
    def setUpClass(cls):
        cls.shim = None
        if shutil.which("cc") is None and shutil.which("gcc") is None:
            raise unittest.SkipTest("no C compiler")
        d = tempfile.mkdtemp(dir=TMP)
        src = os.path.join(d, "shim.c")
        with open(src, "w") as f:
            f.write(SHIM_C)
        cls.shim = os.path.join(d, "freespy.so")
        subprocess.run([shutil.which("cc") or "gcc", "-shared", "-fPIC", "-O1", "-o", cls.shim,
                        src, "-ldl"], check=True, capture_output=True)

    def run_spied(self, args, env, canaries):
        log = os.path.join(self.tmp, "freespy.log")
        env = dict(env, LD_PRELOAD=self.shim, SHIM_CANARIES=";".join(canaries), SHIM_LOG=log)
        r = self.run_bin(args, env)
        lines = []
        if os.path.exists(log):
            with open(log) as f:
                lines = [ln.rstrip("\n").split("\t") for ln in f if ln.strip()]
        return r, lines

    def test_the_spy_sees_an_unzeroed_free(self):
        """The shim works: a plain free of a canary is reported."""
        prog = os.path.join(self.tmp, "leaky.c")
        with open(prog, "w") as f:
            f.write('#include <stdlib.h>\n#include <string.h>\n'
                    'int main(int c, char **v) { char *p = malloc(64);\n'
                    '  strcpy(p, v[1]); free(p); return 0; }\n')
        exe = os.path.join(self.tmp, "leaky")
        subprocess.run([shutil.which("cc") or "gcc", "-O0", "-o", exe, prog], check=True)
        log = os.path.join(self.tmp, "leaky.log")
        subprocess.run([exe, self.canary], env=dict(os.environ, LD_PRELOAD=self.shim,
                                                    SHIM_CANARIES=self.canary, SHIM_LOG=log),
                       check=True)
        with open(log) as f:
            self.assertIn("\tleaky\t", "\t" + f.read().replace(os.path.dirname(exe) + "/", ""))

    @staticmethod
    def where(frames):
        """The first frame in the binary, as function (file:line), via addr2line."""
        for fr in frames.split():
            obj, _, off = fr.rpartition("+")
            if os.path.basename(obj) == "secretsync" and shutil.which("addr2line"):
                out = subprocess.run(["addr2line", "-f", "-s", "-e", BINARY, off],
                                     capture_output=True, text=True).stdout.split("\n")
                return f"{out[0]} ({out[1]})" if len(out) > 1 else fr
        return "?"

    def test_no_secret_left_in_freed_memory(self):
        env = self.env(GITHUB_ACTIONS="true")
        canaries = [self.canary, WORLD.env["GITHUB_TOKEN"], WORLD.env["VAULT_SECRET_ID"],
                    "X-Vault-Token: hvs.", "X-Amz-Security-Token: "]
        r, lines = self.run_spied(self.args(), env, canaries)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # Ours: freed by the binary itself, or by curl_slist_free_all on a
        # header list the binary built (it can zero the strings first).
        ours = [ln for ln in lines if os.path.basename(ln[1]) == "secretsync" or
                ln[2] == "curl_slist_free_all"]
        libs = sorted(set(
            f"{os.path.basename(ln[1])} {ln[2]} freed {canaries[int(ln[3]) - 1][:14]!r} "
            f"from {self.where(ln[5] if len(ln) > 5 else '')}"
            for ln in lines if ln not in ours))
        # libcurl and cJSON free through zeroing allocators set at start.
        self.assertEqual(libs, [], "a library freed a secret without zeroing it")
        self.assertEqual([(ln[2], canaries[int(ln[3]) - 1][:14], self.where(ln[5]))
                          for ln in ours], [],
                         "secretsync freed a secret without zeroing it")

if __name__ == "__main__":
    unittest.main()
