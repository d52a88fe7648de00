#!/usr/bin/env python3
"""Start the whole test world with one command (see README.md beside this file).

    python3 tests/emulators/world.py --fixture FILE --env-file FILE
        [--services aws,vault,github] [--tls] [--workdir DIR]
        [--parent-pid PID] [--stdin-lifeline]

Starts moto (server mode, ephemeral port), the GitHub emulator, the Vault
emulator (with the GitHub emulator as its JWT issuer) and the fault proxy in
front of all of them; generates the JWT key; seeds moto from the fixture's
`aws` section; writes the environment for the binary to the env file as
KEY=VALUE lines; prints `WORLD READY`; and stays up until SIGTERM/SIGINT, the
death of --parent-pid, or EOF on stdin with --stdin-lifeline. Then it stops
every child (each in its own process group, killed as a group) and removes its
temporary directory, so nothing is left listening.
"""
import argparse
import copy
import ctypes
import datetime
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import aws_setup  # noqa: E402

ALL_SERVICES = ("aws", "vault", "github")
PR_SET_PDEATHSIG = 1


class WorldError(Exception):
    pass


try:
    _LIBC = ctypes.CDLL(None, use_errno=True)
except OSError:
    _LIBC = None


def _pdeathsig():
    """In the child: die with the launcher even if it is SIGKILLed."""
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


class Child:
    def __init__(self, name, argv, workdir, env=None):
        self.name = name
        self.argv = argv
        self.stderr_path = os.path.join(workdir, f"{name}.stderr")
        self.stderr = open(self.stderr_path, "wb")
        # start_new_session: its own process group, killed as a whole.
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self.stderr, start_new_session=True, preexec_fn=_pdeathsig,
            env=env, cwd=workdir)

    def ready_line(self, timeout):
        """The child's first stdout line, which must start with READY."""
        deadline = time.monotonic() + timeout
        buf = b""
        fd = self.proc.stdout.fileno()
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorldError(f"{self.name}: not ready after {timeout}s{self.tail()}")
            r, _, _ = select.select([fd], [], [], min(left, 0.2))
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    self.proc.wait(timeout=1)
                    raise WorldError(f"{self.name}: exited ({self.proc.returncode}) "
                                     f"before READY{self.tail()}")
                buf += chunk
        line = buf.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
        if not line.startswith("READY"):
            raise WorldError(f"{self.name}: unexpected first line {line!r}{self.tail()}")
        return line[len("READY"):].strip()

    def tail(self):
        try:
            self.stderr.flush()
            with open(self.stderr_path, "rb") as f:
                data = f.read()[-2000:].decode("utf-8", "replace")
            return "\n--- " + self.name + " stderr ---\n" + data if data.strip() else ""
        except OSError:
            return ""

    def stop(self, grace=3.0):
        p = self.proc
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        # The group may hold stragglers even when the leader is gone.
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        if p.stdout:
            p.stdout.close()
        self.stderr.close()


def make_tls(workdir):
    """A throw-away CA and a server certificate for 127.0.0.1 / localhost."""
    import ipaddress
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "secretsync test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                       crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False,
                                       decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {"ca": os.path.join(workdir, "ca.pem"),
             "cert": os.path.join(workdir, "server.pem"),
             "key": os.path.join(workdir, "server.key")}
    with open(paths["ca"], "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths["cert"], "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(os.open(paths["key"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return paths


def _write_env(path, env):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    for k, v in env.items():
        if any(c in str(v) for c in "\n\r"):
            raise WorldError(f"env {k}: a value with a newline cannot be written")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for k, v in env.items():
            f.write(f"{k}={v}\n")
    os.replace(tmp, path)


class World:
    def __init__(self, fixture_path, env_file, services=ALL_SERVICES, tls=False,
                 workdir=None, log=None):
        self.fixture_path = fixture_path
        self.env_file = env_file
        self.services = tuple(services)
        self.tls = tls
        self.own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="secretsync-world-")
        os.makedirs(self.workdir, exist_ok=True)
        self.children = []
        self.env = {}
        self.timings = {}
        self.log = log or (lambda msg: None)

    def _spawn(self, name, argv):
        c = Child(name, argv, self.workdir)
        self.children.append(c)
        return c

    def start(self):
        t0 = time.monotonic()
        with open(self.fixture_path, encoding="utf-8") as f:
            fixture = json.load(f)
        fx_world = fixture.get("world", {})
        py = sys.executable
        moto = None
        if "aws" in self.services:
            moto = self._spawn("moto", [py, os.path.join(HERE, "motoserver.py"),
                                        "--port", "0"])
        # The key (pure-Python RSA, about a second) is made while moto imports.
        key_path = os.path.join(self.workdir, "jwt-key.json")
        need_key = "vault" in self.services or "github" in self.services
        key_err = []

        def genkey():
            try:
                import jwtlib
                jwtlib.save_key(jwtlib.generate_key(), key_path)
            except Exception as e:  # reported below
                key_err.append(e)

        kt = threading.Thread(target=genkey) if need_key else None
        if kt:
            kt.start()
        tls = make_tls(self.workdir) if self.tls else None
        if kt:
            kt.join()
            if key_err:
                raise WorldError(f"JWT key: {key_err[0]}")
        self.timings["key"] = time.monotonic() - t0

        # The effective fixture the emulators read (links through the proxy).
        eff = copy.deepcopy(fixture)
        eff_path = os.path.join(self.workdir, "fixture.json")
        with open(eff_path, "w", encoding="utf-8") as f:
            json.dump(eff, f)

        gh_port = vault_port = moto_port = None
        gh = fixture.get("github", {})
        issuer = ""
        if "github" in self.services:
            c = self._spawn("github", [py, os.path.join(HERE, "github.py"), "--port", "0",
                                       "--fixture", eff_path, "--jwt-key", key_path])
            gh_port = int(c.ready_line(30))
            issuer = (gh.get("oidc") or {}).get("issuer") or f"http://127.0.0.1:{gh_port}"
        if "vault" in self.services:
            argv = [py, os.path.join(HERE, "vault.py"), "--port", "0",
                    "--fixture", eff_path, "--jwt-key", key_path]
            if issuer:
                argv += ["--issuer", issuer]
            c = self._spawn("vault", argv)
            vault_port = int(c.ready_line(30))
        info = None
        if moto:
            moto_port = int(moto.ready_line(60))
            self.timings["moto"] = time.monotonic() - t0
            moto_url = f"http://127.0.0.1:{moto_port}"
            aws = copy.deepcopy(fixture.get("aws", {}))
            try:
                info = aws_setup.seed(moto_url, aws, os.path.join(HERE, "policies"),
                                      issuer=issuer,
                                      github_repository=gh.get("repository", ""))
            except aws_setup.SetupError as e:
                raise WorldError(str(e))
            self.timings["seed"] = time.monotonic() - t0

        # The proxy.
        cfg = {"listen": "127.0.0.1", "control_port": 0,
               "log_file": os.path.join(self.workdir, "requests.jsonl"),
               "services": {}}
        if tls:
            cfg["tls"] = {"cert": tls["cert"], "key": tls["key"]}
        if moto:
            for s in ("sts", "secretsmanager", "s3", "aws"):
                cfg["services"][s] = {"upstream": moto_url}
            cfg["aws"] = {
                "jwt_key": key_path if need_key and issuer else None,
                "broker": info["broker"],
                "principals": info["principals"],
                "secrets": {u["access_key_id"]: [u["secret_access_key"], None]
                            for u in info["users"]},
                "policies": info["policies"],
                "roles": info["roles"],
                "oidc_providers": info["oidc_providers"],
                "buckets": info["buckets"],
                "iam_check": fx_world.get("iam_check", True),
            }
        if vault_port:
            cfg["services"]["vault"] = {"upstream": f"http://127.0.0.1:{vault_port}"}
        if gh_port:
            cfg["services"]["github"] = {"upstream": f"http://127.0.0.1:{gh_port}"}
        cfg_path = os.path.join(self.workdir, "proxy.json")
        with open(os.open(cfg_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            json.dump(cfg, f)
        c = self._spawn("proxy", [py, os.path.join(HERE, "proxy.py"), "--config", cfg_path])
        ready = json.loads(c.ready_line(30))
        ports = ready["services"]
        scheme = "https" if tls else "http"

        def url(svc):
            return f"{scheme}://127.0.0.1:{ports[svc]}"

        env = {}
        if moto:
            bu = info["base_user"]
            env.update({
                "AWS_ENDPOINT_URL": url("aws"),
                "AWS_ENDPOINT_URL_STS": url("sts"),
                "AWS_ENDPOINT_URL_SECRETS_MANAGER": url("secretsmanager"),
                "AWS_ENDPOINT_URL_S3": url("s3"),
                "AWS_REGION": info["region"],
                "AWS_DEFAULT_REGION": info["region"],
                "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONFIG_FILE": "/dev/null",
                "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                "SECRETSYNC_TEST_ACCOUNT_ID": info["account_id"],
                "SECRETSYNC_TEST_MOTO_URL": moto_url,
            })
            if bu:
                env["AWS_ACCESS_KEY_ID"] = bu["access_key_id"]
                env["AWS_SECRET_ACCESS_KEY"] = bu["secret_access_key"]
                env["SECRETSYNC_TEST_BASE_USER_ARN"] = bu["arn"]
            for r in info["roles"]:
                if r.get("env"):
                    env[r["env"]] = r["arn"]
            for b in info["buckets"]:
                if b.get("env"):
                    env[b["env"]] = b["name"]
            for u in info["users"]:
                if u.get("env") and isinstance(u["env"], str):
                    env[u["env"] + "_ACCESS_KEY_ID"] = u["access_key_id"]
                    env[u["env"] + "_SECRET_ACCESS_KEY"] = u["secret_access_key"]
            if info["oidc_providers"]:
                env["SECRETSYNC_TEST_OIDC_AUDIENCE"] = info["oidc_providers"][0]["client_ids"][0]
        if vault_port:
            env["VAULT_ADDR"] = url("vault")
            env["SECRETSYNC_TEST_VAULT_URL"] = f"http://127.0.0.1:{vault_port}"
            vault = fixture.get("vault", {})
            if fx_world.get("export_vault_token") and vault.get("root_token"):
                env["VAULT_TOKEN"] = vault["root_token"]
            if vault.get("root_token"):
                env["SECRETSYNC_TEST_VAULT_ROOT_TOKEN"] = vault["root_token"]
        if gh_port:
            prefix = gh.get("path_prefix") or ""
            env["GITHUB_API_URL"] = url("github") + prefix
            env["SECRETSYNC_TEST_GITHUB_URL"] = f"http://127.0.0.1:{gh_port}"
            if gh.get("repository"):
                env["GITHUB_REPOSITORY"] = gh["repository"]
            oidc = gh.get("oidc") or {}
            env["ACTIONS_ID_TOKEN_REQUEST_URL"] = (url("github") +
                                                   "/_apis/oidc/token?api-version=2.0")
            if oidc.get("request_token"):
                env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = oidc["request_token"]
            env["SECRETSYNC_TEST_OIDC_ISSUER"] = issuer
            want = fx_world.get("export_github_token")
            tokens = gh.get("tokens") or {}
            if want is True:
                want = next((t for t, v in tokens.items() if v.get("kind") == "actions"),
                            next(iter(tokens), None))
            if want:
                env["GITHUB_TOKEN"] = want
        if need_key:
            env["SECRETSYNC_TEST_JWT_KEY"] = key_path
        if tls:
            env.update({"AWS_CA_BUNDLE": tls["ca"], "VAULT_CACERT": tls["ca"],
                        "SSL_CERT_FILE": tls["ca"], "SECRETSYNC_TEST_CA_FILE": tls["ca"]})
        env["SECRETSYNC_TEST_PROXY_CONTROL"] = f"http://127.0.0.1:{ready['control']}"
        env["SECRETSYNC_TEST_REQUEST_LOG"] = cfg["log_file"]
        env["SECRETSYNC_TEST_WORKDIR"] = self.workdir
        for k, v in (fx_world.get("env") or {}).items():
            env[k] = str(v)
        self.env = env
        self.ports = dict(ports, control=ready["control"], moto=moto_port,
                          vault=vault_port, github=gh_port)
        _write_env(self.env_file, env)
        self.timings["ready"] = time.monotonic() - t0
        return env

    def stop(self):
        for c in reversed(self.children):
            c.stop()
        self.children = []
        if self.own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def dead_child(self):
        for c in self.children:
            if c.proc.poll() is not None:
                return c
        return None


def main():
    ap = argparse.ArgumentParser(description="start the secretsync test world")
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--env-file", required=True)
    ap.add_argument("--services", default=",".join(ALL_SERVICES),
                    help="comma-separated subset of aws,vault,github")
    ap.add_argument("--tls", action="store_true", help="the proxy speaks HTTPS")
    ap.add_argument("--workdir", help="keep state here (default: a temp dir, removed)")
    ap.add_argument("--parent-pid", type=int, help="stop when this process dies")
    ap.add_argument("--stdin-lifeline", action="store_true", help="stop at EOF on stdin")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    services = [s.strip() for s in args.services.split(",") if s.strip()]
    bad = [s for s in services if s not in ALL_SERVICES]
    if bad:
        ap.error(f"unknown service(s): {', '.join(bad)}")

    stop = threading.Event()
    reason = []

    def on_signal(signum, frame):
        reason.append(signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    def say(msg):
        if not args.quiet:
            sys.stderr.write(f"world: {msg}\n")
            sys.stderr.flush()

    w = World(args.fixture, args.env_file, services, tls=args.tls, workdir=args.workdir,
              log=say)
    rc = 0
    try:
        try:
            env = w.start()
        except (WorldError, OSError, ValueError, KeyError) as e:
            sys.stderr.write(f"world: failed to start: {e}\n")
            return 1
        t = w.timings
        say("ready in %.2fs" % t["ready"] + (
            " (moto listening after %.2fs, seeded after %.2fs)" % (t["moto"], t["seed"])
            if "moto" in t else ""))
        say(f"env file {args.env_file}; proxy control {env['SECRETSYNC_TEST_PROXY_CONTROL']}")
        for k in ("AWS_ENDPOINT_URL", "VAULT_ADDR", "GITHUB_API_URL"):
            if k in env:
                say(f"{k}={env[k]}")
        sys.stdout.write("WORLD READY\n")
        sys.stdout.flush()

        if args.stdin_lifeline:
            def lifeline():
                try:
                    while sys.stdin.buffer.read1(4096):
                        pass
                except (OSError, ValueError):
                    pass
                reason.append("stdin closed")
                stop.set()
            threading.Thread(target=lifeline, daemon=True).start()
        while not stop.wait(0.25):
            if args.parent_pid:
                try:
                    os.kill(args.parent_pid, 0)
                except ProcessLookupError:
                    reason.append(f"parent {args.parent_pid} gone")
                    break
            dead = w.dead_child()
            if dead:
                reason.append(f"{dead.name} exited ({dead.proc.returncode})")
                sys.stderr.write(f"world: {dead.name} died{dead.tail()}\n")
                rc = 1
                break
        say(f"stopping ({reason[0] if reason else 'done'})")
    finally:
        w.stop()
        try:
            os.unlink(args.env_file)
        except OSError:
            pass
    return rc


if __name__ == "__main__":
    sys.exit(main())
