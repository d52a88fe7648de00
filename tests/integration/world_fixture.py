"""Start and stop a test world from a test, and drive its fault proxy.

    from world_fixture import World

    class T(unittest.TestCase):
        @classmethod
        def setUpClass(cls):
            cls.world = World("demo").start()       # or: with World("demo") as w:
        @classmethod
        def tearDownClass(cls):
            cls.world.stop()

        def test_x(self):
            env = self.world.binary_env()            # os.environ + the world's env
            self.world.fault("secretsmanager", "aws_error", operation="PutSecretValue")
            ...
            log = self.world.log(service="secretsmanager", mutating=True)

The world runs as `tests/emulators/world.py` in its own process with
--stdin-lifeline and --parent-pid, so it goes away with the test process even
if the test is killed. Standard library only, plus boto3 for `client()`.
"""
import json
import os
import select
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EMULATORS = os.path.join(ROOT, "tests", "emulators")
FIXTURES = os.path.join(EMULATORS, "fixtures")
# Variables of the developer's own environment that must not leak into a
# world-bound process.
SCRUB_PREFIXES = ("AWS_", "VAULT_", "GITHUB_", "ACTIONS_", "SECRETSYNC_", "INPUT_",
                  "RUNNER_")


class WorldError(Exception):
    pass


def fixture_path(name):
    """A fixture by name (`demo` -> tests/emulators/fixtures/demo.json) or path."""
    if os.path.sep in name or name.endswith(".json"):
        return name
    return os.path.join(FIXTURES, name + ".json")


def read_env_file(path):
    env = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                env[k] = v
    return env


class World:
    def __init__(self, fixture="demo", services=("aws", "vault", "github"), tls=False,
                 timeout=60, python=None):
        self.fixture = fixture_path(fixture)
        self.services = services if isinstance(services, str) else ",".join(services)
        self.tls = tls
        self.timeout = timeout
        self.python = python or sys.executable
        self.proc = None
        self.env = {}
        self.tmp = None
        self.startup_seconds = None

    # -- lifecycle --------------------------------------------------------
    def start(self):
        self.tmp = tempfile.mkdtemp(prefix="secretsync-it-")
        env_file = os.path.join(self.tmp, "world.env")
        argv = [self.python, os.path.join(EMULATORS, "world.py"), "--fixture", self.fixture,
                "--env-file", env_file, "--services", self.services, "--stdin-lifeline",
                "--parent-pid", str(os.getpid()), "--quiet"]
        if self.tls:
            argv.append("--tls")
        self.stderr_path = os.path.join(self.tmp, "world.stderr")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=open(self.stderr_path, "wb"))
        deadline = t0 + self.timeout
        buf = b""
        fd = self.proc.stdout.fileno()
        while b"WORLD READY" not in buf:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                err = self._stderr()
                self.stop()
                raise WorldError(f"world did not start: {err}")
            r, _, _ = select.select([fd], [], [], min(left, 0.2))
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    continue
                buf += chunk
        self.startup_seconds = time.monotonic() - t0
        self.env = read_env_file(env_file)
        self.control_url = self.env["SECRETSYNC_TEST_PROXY_CONTROL"]
        return self

    def _stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read()[-4000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        p = self.proc
        if p is not None:
            try:
                p.stdin.close()  # the lifeline
            except OSError:
                pass
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            p.stdout.close()
            self.proc = None
        if self.tmp:
            import shutil
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- environment ------------------------------------------------------
    def binary_env(self, extra=None, drop=()):
        """os.environ without the caller's AWS/Vault/GitHub settings, plus the world's."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUB_PREFIXES)}
        env.update(self.env)
        for k in drop:
            env.pop(k, None)
        env.update(extra or {})
        return env

    def url(self, service):
        return {"aws": self.env.get("AWS_ENDPOINT_URL"),
                "sts": self.env.get("AWS_ENDPOINT_URL_STS"),
                "secretsmanager": self.env.get("AWS_ENDPOINT_URL_SECRETS_MANAGER"),
                "s3": self.env.get("AWS_ENDPOINT_URL_S3"),
                "vault": self.env.get("VAULT_ADDR"),
                "github": self.env.get("GITHUB_API_URL")}[service]

    # -- the proxy's control API -------------------------------------------
    def control(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.control_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raise WorldError(f"control {method} {path}: {e.code} {e.read()[:300]!r}")

    def fault(self, service, kind, count=1, operation=None, method=None, path_regex=None,
              **kw):
        """The next `count` matching calls get the fault; returns its id."""
        match = {k: v for k, v in (("operation", operation), ("method", method),
                                   ("path_regex", path_regex)) if v is not None}
        spec = dict(service=service, kind=kind, count=count, match=match, **kw)
        return self.control("POST", "/faults", spec)["id"]

    def faults(self):
        return self.control("GET", "/faults")

    def clear_faults(self):
        self.control("DELETE", "/faults")

    def latency(self, service, ms):
        self.control("POST", "/latency", {"service": service, "ms": ms})

    def log(self, service=None, mutating=None):
        q = {}
        if service:
            q["service"] = service
        if mutating is not None:
            q["mutating"] = "true" if mutating else "false"
        return self.control("GET", "/log" + ("?" + urllib.parse.urlencode(q) if q else ""))

    def clear_log(self):
        self.control("DELETE", "/log")

    # -- clients -----------------------------------------------------------
    def client(self, service, access_key=None, secret_key=None, session_token=None,
               credentials=None, region=None, retries=1, validate=True):
        """A boto3 client through the proxy; base credentials unless given.

        validate=False turns botocore's own parameter checks off, so that the
        server's answer to a bad parameter can be seen."""
        import boto3
        from botocore.config import Config
        if credentials:
            access_key = credentials["AccessKeyId"]
            secret_key = credentials["SecretAccessKey"]
            session_token = credentials.get("SessionToken")
        endpoint = {"sts": "AWS_ENDPOINT_URL_STS", "s3": "AWS_ENDPOINT_URL_S3",
                    "secretsmanager": "AWS_ENDPOINT_URL_SECRETS_MANAGER"}.get(
                        service, "AWS_ENDPOINT_URL")
        return boto3.client(
            service, endpoint_url=self.env[endpoint],
            region_name=region or self.env.get("AWS_REGION", "us-east-1"),
            aws_access_key_id=access_key or self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=secret_key or self.env["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=session_token,
            verify=self.env.get("SECRETSYNC_TEST_CA_FILE", True),
            config=Config(retries={"max_attempts": retries, "mode": "standard"},
                          s3={"addressing_style": "path"}, parameter_validation=validate))

    def assume(self, role_arn, session="it-session", **kw):
        """Credentials of `role_arn` assumed with the base credentials."""
        return self.client("sts", **kw).assume_role(
            RoleArn=role_arn, RoleSessionName=session)["Credentials"]

    def oidc_token(self, audience="sts.amazonaws.com"):
        """An ID token from the GitHub emulator, fetched the way the binary does."""
        url = (self.env["ACTIONS_ID_TOKEN_REQUEST_URL"] + "&audience=" +
               urllib.parse.quote(audience, safe=""))
        req = urllib.request.Request(url, headers={
            "Authorization": "Bearer " + self.env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]})
        ctx = None
        if self.env.get("SECRETSYNC_TEST_CA_FILE"):
            import ssl
            ctx = ssl.create_default_context(cafile=self.env["SECRETSYNC_TEST_CA_FILE"])
        with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
            return json.loads(r.read())["value"]
