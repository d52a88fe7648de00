"""Inputs at the edges, end to end against the test world.

Runs build/secretsync (SECRETSYNC_BIN overrides it; a private copy is
used) against one world (tests/emulators/fixtures/e2e.json plus two
mounts: "edge", where each test writes under its own folder, and "empty",
which holds nothing) and, for bytes the emulators cannot send (invalid
UTF-8), against a small raw Vault stub written here. Each case gives a
clear error or a correct result, never a crash:

- a 64 KiB secret: exactly 65,536 bytes (AWS's SecretString limit) is
  written; one byte more is refused naming the secret, before any write;
- nesting: a secret nested 1,000 levels (served raw) fails its source
  with an error naming the secret and the nesting cap; 120 levels (under
  the parser's cap of 128 with the KV v2 and bundle levels) works;
- a LIST answer over 10 MiB fails with an error naming the LIST;
- invalid UTF-8 in a value, in a JSON key and in a secret name, and a
  JSON-escaped lone surrogate;
- names and keys with dots, slashes, '%', spaces, newlines, "::" and
  escape sequences: correct names, no injected line in any output;
- an empty mount: nothing to sync, no error;
- 1,000 targets: validate is fast, and a plan over them works (timed).

    python3 tests/integration/run.py test_edges
"""
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

from world_fixture import FIXTURES, ROOT, World

BIN = os.environ.get("SECRETSYNC_BIN", os.path.join(ROOT, "build", "secretsync"))
WORLD = None
TMP = None
BINARY = None
AWS_LIMIT = 65536


def setUpModule():
    global WORLD, TMP, BINARY
    if not os.access(BIN, os.X_OK):
        raise unittest.SkipTest(f"{BIN} is not built (make)")
    TMP = tempfile.mkdtemp(prefix="secretsync-edges-")
    BINARY = os.path.join(TMP, "secretsync")
    shutil.copy2(BIN, BINARY)
    with open(os.path.join(FIXTURES, "e2e.json"), encoding="utf-8") as f:
        fx = json.load(f)
    root = fx["vault"]["namespaces"][""]
    root["mounts"]["edge"] = {"type": "kv", "version": 2, "secrets": {}}
    root["mounts"]["empty"] = {"type": "kv", "version": 2, "secrets": {}}
    fx["world"]["export_vault_token"] = True
    path = os.path.join(TMP, "edges.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(fx, f)
    WORLD = World(path).start()


def tearDownModule():
    if WORLD:
        WORLD.stop()
    if TMP:
        shutil.rmtree(TMP, ignore_errors=True)


CONFIG = """\
vault:
  address: "{vault}"
aws:
  region: us-east-1
sources:
  src:
    vault:
      mount: {mount}
      paths: [{paths}]
targets:
  t:
    imports: [src]
    secret_prefix: "edge/{uid}/"
pipeline:
  continue_on_error: true
"""


class Run:
    def __init__(self, p, elapsed):
        self.rc = p.returncode
        self.stdout = p.stdout
        self.stderr = p.stderr
        self.elapsed = elapsed

    def __repr__(self):
        return (f"rc={self.rc} ({self.elapsed:.2f}s)\nstdout:\n{self.stdout[-3000:]!r}\n"
                f"stderr:\n{self.stderr[-3000:]!r}")


def no_crash(tc, r):
    """A clean exit: not killed by a signal, no sanitizer report."""
    tc.assertGreaterEqual(r.rc, 0, r)
    tc.assertNotIn(r.rc, (134, 139), r)
    for word in ("AddressSanitizer", "runtime error:", "Segmentation", "core dumped"):
        tc.assertNotIn(word, r.stderr)


def vault_emu(path, body):
    req = urllib.request.Request(WORLD.env["SECRETSYNC_TEST_VAULT_URL"] + path,
                                 data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


class Base(unittest.TestCase):
    def setUp(self):
        name = self.id().split(".")[-1].replace("test_", "")
        self.uid = re.sub(r"[^a-z0-9]", "", name.lower())[:24]
        self.tmp = tempfile.mkdtemp(prefix="edge-", dir=TMP)
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.addCleanup(vault_emu, "/_emu/fault", {"clear": True})

    def put(self, name, data, mount="edge"):
        vault_emu("/_emu/secret", {"namespace": "", "mount": mount,
                                   "path": f"{self.uid}/{name}", "data": data})

    def fault(self, path_regex, status, body, method="", count=1, headers=None):
        vault_emu("/_emu/fault", {"method": method, "path": path_regex, "status": status,
                                  "body": body, "count": count, "headers": headers or {}})

    def config(self, mount="edge", paths=None, vault=None, text=None):
        path = os.path.join(self.tmp, "secretsync.yaml")
        if text is None:
            text = CONFIG.format(vault=vault or WORLD.env["VAULT_ADDR"], mount=mount,
                                 paths=", ".join(json.dumps(p) for p in
                                                 (paths if paths is not None else [self.uid])),
                                 uid=self.uid)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def run_bin(self, args, env=None, timeout=120):
        full = WORLD.binary_env(dict({"VAULT_TOKEN": WORLD.env["SECRETSYNC_TEST_VAULT_ROOT_TOKEN"]},
                                     **(env or {})))
        t0 = time.monotonic()
        p = subprocess.run([BINARY] + list(args), cwd=self.tmp, env=full, capture_output=True,
                           text=True, errors="surrogateescape", timeout=timeout)
        r = Run(p, time.monotonic() - t0)
        no_crash(self, r)
        return r

    def sm(self):
        return WORLD.client("secretsmanager")

    def aws_names(self):
        sm = self.sm()
        out, kw = {}, {"Filters": [{"Key": "name", "Values": [f"edge/{self.uid}/"]}]}
        while True:
            page = sm.list_secrets(**kw)
            for s in page["SecretList"]:
                out[s["Name"]] = s
            if not page.get("NextToken"):
                return out
            kw["NextToken"] = page["NextToken"]


def runner_lines(text):
    """Lines as the Actions runner reads a step's output (TextReader.ReadLine:
    a line ends at \r\n, \r or \n)."""
    return re.split(r"\r\n|\r|\n", text)


OWN_COMMANDS = ("::add-mask::", "::group::", "::endgroup::", "::warning::", "::error",
                "::notice")


def assert_no_injection(tc, *texts):
    """No line starts a workflow command we did not write; no other line
    holds the legacy "##[" form (which the runner looks for anywhere in a
    line it could not read as a "::" command); no terminal escape."""
    for text in texts:
        tc.assertNotIn("\x1b", text)
        for ln in runner_lines(text):
            s = ln.lstrip()
            if s.startswith("::"):
                tc.assertTrue(s.startswith(OWN_COMMANDS), repr(ln))
                tc.assertNotIn("injected", s.split("::", 2)[1], repr(ln))
            else:
                tc.assertNotIn("##[", ln)


class RawVault:
    """A Vault that answers fixed bytes: {(METHOD, path): (status, bytes)}.

    For answers the emulator cannot give (bytes that are not UTF-8). LIST
    arrives as GET ...?list=true."""

    def __init__(self, routes):
        self.routes = routes
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                method, path = self.command, self.path
                if path.endswith("?list=true"):
                    method, path = "LIST", path[:-len("?list=true")]
                outer.requests.append((method, path))
                status, body = outer.routes.get((method, path), (404, b'{"errors":[]}'))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_LIST = do_DELETE = _any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def kv2(data):
    """A KV v2 read answer around the raw bytes of data."""
    return b'{"data":{"data":' + data + b',"metadata":{"version":1}}}'


def nested(levels, leaf="leaf-value"):
    v = leaf
    for i in range(levels):
        v = {"k%d" % i: v}
    return v


# --- sizes ---------------------------------------------------------------------

class TestSecretSize(Base):
    """AWS's SecretString limit is 65,536 bytes: the compact JSON written."""

    def value_of(self, nbytes, char="x"):
        # {"v":"..."} is 8 bytes around the string
        n = (nbytes - len('{"v":""}')) // len(char.encode())
        v = {"v": char * n}
        self.assertEqual(len(json.dumps(v, separators=(",", ":"), ensure_ascii=False).encode()),
                         nbytes)
        return v

    def test_exactly_64k_is_written(self):
        self.put("big", self.value_of(AWS_LIMIT))
        r = self.run_bin(["pipeline", "-c", self.config()])
        self.assertEqual(r.rc, 0, r)
        got = self.sm().get_secret_value(SecretId=f"edge/{self.uid}/{self.uid}/big")
        self.assertEqual(len(got["SecretString"].encode()), AWS_LIMIT)
        self.assertEqual(json.loads(got["SecretString"]), self.value_of(AWS_LIMIT))

    def test_64k_counted_in_bytes_not_characters(self):
        # 2-byte characters: 65,536 bytes but about half as many characters
        self.put("wide", self.value_of(AWS_LIMIT, "\u00e9"))
        r = self.run_bin(["pipeline", "-c", self.config()])
        self.assertEqual(r.rc, 0, r)
        got = self.sm().get_secret_value(SecretId=f"edge/{self.uid}/{self.uid}/wide")
        self.assertEqual(json.loads(got["SecretString"]), self.value_of(AWS_LIMIT, "\u00e9"))

    def test_one_byte_more_is_refused_naming_it(self):
        self.put("ok", {"v": "a small value"})
        self.put("big1", self.value_of(AWS_LIMIT + 1))
        WORLD.clear_log()
        r = self.run_bin(["pipeline", "-c", self.config()])
        self.assertEqual(r.rc, 1, r)
        name = f"edge/{self.uid}/{self.uid}/big1"
        self.assertIn(f"secret {name} is {AWS_LIMIT + 1} bytes", r.stderr)
        self.assertIn(f"{AWS_LIMIT}-byte limit", r.stderr)
        # Refused while planning: nothing of the target was written.
        self.assertEqual(WORLD.log(service="secretsmanager", mutating=True), [])
        self.assertEqual(self.aws_names(), {})


# --- nesting -------------------------------------------------------------------

class TestNesting(Base):
    """The strict parser caps nesting at 128 (a KV v2 answer adds two levels)."""

    def test_1000_levels_fail_clearly(self):
        self.put("tower", {"placeholder": "x"})
        deep = "[" * 1000 + '"leaf"' + "]" * 1000
        self.fault(f"/edge/data/{self.uid}/tower$", 200,
                   '{"data":{"data":{"v":' + deep + '},"metadata":{"version":1}}}')
        r = self.run_bin(["plan", "-c", self.config()])
        self.assertEqual(r.rc, 1, r)
        m = re.search(f"GET edge/data/{self.uid}/tower: (.*)", r.stderr)
        self.assertIsNotNone(m, r)
        # Says why: the nesting, not just "not JSON".
        self.assertRegex(m.group(1), r"(?i)nest|deep|levels|depth")

    def test_just_under_the_cap_works(self):
        self.put("deep", nested(126))
        r = self.run_bin(["pipeline", "-c", self.config()])
        self.assertEqual(r.rc, 0, r)
        got = self.sm().get_secret_value(SecretId=f"edge/{self.uid}/{self.uid}/deep")
        self.assertEqual(json.loads(got["SecretString"]), nested(126))

    def test_one_level_over_the_cap_fails(self):
        self.put("deep", nested(127))
        r = self.run_bin(["plan", "-c", self.config()])
        self.assertEqual(r.rc, 1, r)
        self.assertIn(f"GET edge/data/{self.uid}/deep", r.stderr)


# --- answers too big -----------------------------------------------------------

class TestListCap(Base):
    def test_10mib_list_is_refused(self):
        self.put("a", {"v": "value-a"})
        keys = ["k%07d-%s" % (i, "p" * 20) for i in range(360000)]
        body = {"data": {"keys": keys}}
        self.assertGreater(len(json.dumps(body)), 10 * 1024 * 1024)
        self.fault(f"/edge/metadata/{self.uid}/?$", 200, body)
        r = self.run_bin(["plan", "-c", self.config()])
        self.assertEqual(r.rc, 1, r)
        self.assertIn(f"LIST edge/metadata/{self.uid}/", r.stderr)
        self.assertIn("larger than the 10485760-byte limit", r.stderr)

    def test_too_many_keys_hit_the_count_cap(self):
        self.put("a", {"v": "value-a"})
        self.fault(f"/edge/metadata/{self.uid}/?$", 200,
                   {"data": {"keys": ["k%06d" % i for i in range(100001)]}})
        r = self.run_bin(["plan", "-c", self.config()])
        self.assertEqual(r.rc, 1, r)
        self.assertIn("more than max_secrets_per_mount (100000)", r.stderr)


# --- bytes that are not UTF-8 --------------------------------------------------

class TestNotUtf8(Base):
    """Secrets Manager holds UTF-8 text: a value, key or name that is not
    UTF-8 fails its source before anything is written."""

    def raw_config(self, vault):
        text = CONFIG.format(vault=vault.url, mount="raw", paths='"x"', uid=self.uid)
        return self.config(text=text.replace("mount: raw", "mount: raw\n      kv_version: 2"))

    def check(self, routes, failing_path):
        vault = RawVault(routes)
        self.addCleanup(vault.stop)
        cfg = self.raw_config(vault)
        WORLD.clear_log()
        for args in (["plan", "-c", cfg], ["pipeline", "-c", cfg],
                     ["plan", "-c", cfg, "--output", "json"]):
            r = self.run_bin(args, env={"VAULT_TOKEN": "raw-token"})
            self.assertEqual(r.rc, 1, r)
            self.assertIn(failing_path, r.stderr)
            if "json" in args:
                doc = json.loads(r.stdout)
                self.assertEqual(doc["targets"][0]["status"], "failed")
                self.assertIn(failing_path, doc["targets"][0]["error"])
        self.assertEqual(WORLD.log(service="secretsmanager", mutating=True), [])
        self.assertEqual(self.aws_names(), {})

    def routes(self, **answers):
        keys = [k for k in answers]
        r = {("LIST", "/v1/raw/metadata/x/"):
             (200, b'{"data":{"keys":' + json.dumps(keys).encode() + b'}}')}
        for k, body in answers.items():
            r[("GET", "/v1/raw/data/x/" + k)] = (200, kv2(body))
        return r

    def test_value(self):
        self.check(self.routes(good=b'{"a":"fine-value"}', val=b'{"password":"bad\xff\xfe"}'),
                   "GET raw/data/x/val")

    def test_json_key(self):
        self.check(self.routes(key=b'{"k\xc0\xafey":"fine-value"}'), "GET raw/data/x/key")

    def test_surrogate_bytes(self):
        # U+D800 encoded as UTF-8 bytes: not UTF-8
        self.check(self.routes(sur=b'{"a":"x\xed\xa0\x80y"}'), "GET raw/data/x/sur")

    def test_escaped_lone_surrogate(self):
        self.check(self.routes(esc=b'{"a":"x\\udcffy"}'), "GET raw/data/x/esc")

    def test_secret_name(self):
        routes = {("LIST", "/v1/raw/metadata/x/"): (200, b'{"data":{"keys":["ok","n\xffame"]}}'),
                  ("GET", "/v1/raw/data/x/ok"): (200, kv2(b'{"a":"fine-value"}'))}
        self.check(routes, "LIST raw/")

    def test_valid_non_ascii_key_and_value_are_written(self):
        value = {"gr\u00fc\u00dfe": "h\u00e9llo \u2603 \U0001f511", "k": "\u00e9"}
        self.put("uni", value)
        r = self.run_bin(["pipeline", "-c", self.config()])
        self.assertEqual(r.rc, 0, r)
        got = self.sm().get_secret_value(SecretId=f"edge/{self.uid}/{self.uid}/uni")
        self.assertEqual(json.loads(got["SecretString"]), value)


# --- names and keys --------------------------------------------------------------

class TestNames(Base):
    def test_odd_but_valid_names_are_written_exactly(self):
        names = ["dots.in.name", "sub/dir/leaf", "plus+eq=at@", "-lead", "_u_"]
        for i, n in enumerate(names):
            self.put(n, {"k": "value-%d" % i})
        r = self.run_bin(["pipeline", "-c", self.config()])
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(sorted(self.aws_names()),
                         sorted(f"edge/{self.uid}/{self.uid}/{n}" for n in names))
        for i, n in enumerate(names):
            got = self.sm().get_secret_value(SecretId=f"edge/{self.uid}/{self.uid}/{n}")
            self.assertEqual(json.loads(got["SecretString"]), {"k": "value-%d" % i})

    def test_names_aws_refuses_fail_naming_them(self):
        """Read correctly from Vault (URL-encoded), then refused by name."""
        for bad, shown, what in (("with space", "with space", "byte 0x20"),
                                 ("50%off", "50%off", "'%'"), ("q?a", "q?a", "'?'"),
                                 ("h#sh", "h#sh", "'#'"),
                                 ("uni\u00fc", "uni\\xc3\\xbc", "byte 0xc3"),
                                 ("br##[ack]et", "br##\\u005back]et", "'#'")):
            with self.subTest(name=bad):
                sub = re.sub(r"[^a-z]", "", bad)
                self.put(f"{sub}/{bad}", {"k": "v-" + sub})
                self.put(f"{sub}/fine", {"k": "v-" + sub})
                WORLD.clear_log()
                r = self.run_bin(["pipeline", "-c", self.config(paths=[f"{self.uid}/{sub}"])])
                self.assertEqual(r.rc, 1, r)
                self.assertIn("source src: 2 secrets", r.stderr)  # both read
                self.assertIn(f"'edge/{self.uid}/{self.uid}/{sub}/{shown}' is not a valid secret "
                              "name", r.stderr)
                self.assertIn(what, r.stderr)
                self.assertEqual(WORLD.log(service="secretsmanager", mutating=True), [])
                assert_no_injection(self, r.stdout, r.stderr)

    def test_unsafe_keys_are_skipped_with_a_warning(self):
        good = {"k": "value-good"}
        self.put("good", good)
        for bad in ("new\nline", "tab\there", "esc\x1b[31m", "cr\rx", "x..y"):
            self.put(bad, {"k": "value-bad"})
        for output, env in (("text", {}), ("github", {"GITHUB_ACTIONS": "true"})):
            r = self.run_bin(["plan", "-c", self.config(), "--output", output], env=env)
            self.assertEqual(r.rc, 0, r)
            self.assertIn(f"edge/{self.uid}/{self.uid}/good create", r.stdout)
            self.assertIn("source src: 1 secret", r.stderr)
            for shown in ('"new\\nline"', '"tab\\there"', '"esc\\u001b[31m"', '"cr\\rx"'):
                self.assertIn(f"returned an unsafe key {shown}; skipped", r.stderr)
            assert_no_injection(self, r.stdout, r.stderr)

    def test_hostile_json_keys_inject_nothing(self):
        evil = {"a.b": 1, "new\n::error::injected": 2, "cr\r::error::injected": 3,
                "%0A::error::injected": 4, "##[stop-commands]tok": 5,
                "##[set-output name=changes]0": 6, "bidi\u202etxt": 7, "c1\u009b2J": 8,
                "esc\x1b[2J": 9, "sp ace": 10, "": 11}
        self.put("db", {"password": "pw-hostile-edge"})
        self.assertEqual(self.run_bin(["pipeline", "-c", self.config()]).rc, 0)
        self.put("db", dict(evil, password="pw-hostile-edge"))
        for output, env in (("text", {}), ("json", {}), ("github", {"GITHUB_ACTIONS": "true"}),
                            ("json", {"GITHUB_ACTIONS": "true"})):
            r = self.run_bin(["plan", "-c", self.config(), "--output", output], env=env)
            self.assertEqual(r.rc, 0, r)
            assert_no_injection(self, r.stdout, r.stderr)
            shown = [ln for ln in runner_lines(r.stdout + r.stderr)
                     if not ln.startswith("::add-mask::")]
            self.assertNotIn("pw-hostile-edge", "\n".join(shown))
            if output == "json":
                doc = json.loads(r.stdout)
                (ch,) = doc["targets"][0]["changes"]
                self.assertEqual(ch["action"], "update")
                self.assertEqual(sorted(ch["keys"]["added"]), sorted(evil))
            else:
                self.assertIn("+a.b", r.stdout)
                self.assertIn("+new\\n::error::injected", r.stdout)
                self.assertIn("+##\\u005bstop-commands]tok", r.stdout)


# --- nothing there ----------------------------------------------------------------

class TestEmpty(Base):
    def test_empty_mount_has_nothing_to_sync(self):
        WORLD.clear_log()
        for args in (["plan", "--output", "json"], ["pipeline", "--output", "json"]):
            r = self.run_bin(args + ["-c", self.config(mount="empty", paths=[])])
            self.assertEqual(r.rc, 0, r)
            doc = json.loads(r.stdout)
            self.assertEqual(doc["counts"], {"create": 0, "update": 0, "delete": 0,
                                             "unchanged": 0, "failed": 0})
            self.assertIn("source src: 0 secrets", r.stderr)
            self.assertNotIn("error", r.stderr)
        self.assertEqual(WORLD.log(mutating=True), [])

    def test_missing_folder_warns_and_syncs_nothing(self):
        r = self.run_bin(["pipeline", "-c", self.config(mount="empty", paths=["no/such"])])
        self.assertEqual(r.rc, 0, r)
        self.assertIn("nothing found at empty/no/such/", r.stderr)
        self.assertEqual(self.aws_names(), {})


# --- many targets --------------------------------------------------------------------

class TestThousandTargets(Base):
    N = 1000

    def big_config(self):
        lines = ["vault:", f'  address: "{WORLD.env["VAULT_ADDR"]}"', "aws:",
                 "  region: us-east-1", "sources:", "  src:", "    vault:", "      mount: edge",
                 f"      paths: [{self.uid}]", "targets:"]
        for i in range(self.N):
            lines.append(f'  t{i:04d}: {{imports: [src], secret_prefix: "edge/{self.uid}/t{i:04d}/"}}')
        return self.config(text="\n".join(lines) + "\n")

    def test_validate_is_fast(self):
        cfg = self.big_config()
        r = self.run_bin(["validate", "-c", cfg])
        self.assertEqual(r.rc, 0, r)
        self.assertIn("t0999", r.stdout)
        sys.stderr.write(f"\n  validate, {self.N} targets: {r.elapsed * 1000:.0f} ms ")
        self.assertLess(r.elapsed, 5.0)

    def test_plan_over_1000_targets(self):
        for i in range(3):
            self.put(f"s{i}", {"v": f"value-{i}"})
        cfg = self.big_config()
        WORLD.clear_log()
        r = self.run_bin(["plan", "-c", cfg, "--output", "json"], timeout=600)
        self.assertEqual(r.rc, 0, r)
        sys.stderr.write(f"\n  plan, {self.N} targets x 3 secrets: {r.elapsed:.2f} s ")
        doc = json.loads(r.stdout)
        self.assertEqual(len(doc["targets"]), self.N)
        self.assertEqual(doc["counts"], {"create": 3 * self.N, "update": 0, "delete": 0,
                                         "unchanged": 0, "failed": 0})
        log = WORLD.log()
        self.assertEqual(sum(1 for e in log if e.get("operation") == "ListSecrets"), self.N)
        # The source is read once, not once per target.
        reads = [e for e in log if e["service"] == "vault" and "/data/" in e["path"]]
        self.assertLessEqual(len(reads), 4)
        self.assertEqual([e for e in log if e.get("mutating")], [])


# --- hostile error text ----------------------------------------------------------------

class TestHostileErrors(Base):
    """Remote error text is shown (through the mask), never as commands."""

    def test_vault_error_text_injects_nothing(self):
        self.put("a", {"v": "value-a"})
        body = {"errors": ["denied ##[stop-commands]injected\n::error title=injected::pwned"
                           "\r::add-mask::injected \x1b[2Jclear", "##[set-output name=x]y"]}
        for output, env in (("text", {}), ("github", {"GITHUB_ACTIONS": "true"}),
                            ("json", {"GITHUB_ACTIONS": "true"})):
            with self.subTest(output=output):
                self.fault(f"/edge/(data|metadata)/{self.uid}", 403, body)
                r = self.run_bin(["plan", "-c", self.config(), "--output", output], env=env)
                self.assertEqual(r.rc, 1, r)
                self.assertIn("denied", r.stderr)
                assert_no_injection(self, r.stdout, r.stderr)
                if output == "json":
                    json.loads(r.stdout)


if __name__ == "__main__":
    unittest.main()
