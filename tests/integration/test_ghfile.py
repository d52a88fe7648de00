#!/usr/bin/env python3
"""GITHUB_OUTPUT / GITHUB_ENV records and workflow commands, read back the
way the Actions runner reads them.

Needs build/tools/ghcmd_tool (`make tools`; GHCMD_TOOL overrides the
path). Stdlib unittest:  python3 tests/integration/test_ghfile.py -v
"""

import json
import os
import random
import re
import stat
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))

import ghfile_parse  # noqa: E402
from ghfile_parse import GhFileError, parse_bytes, parse_file, parse_text  # noqa: E402

TOOL = os.environ.get("GHCMD_TOOL", os.path.join(ROOT, "build", "tools", "ghcmd_tool"))
DELIM_RE = re.compile(r"^ghadelimiter_[0-9a-f]{32}$")


def run_tool(arg, payload, umask=None):
    """Run ghcmd_tool ARG with payload as JSON on stdin; its stdout."""
    old = os.umask(umask) if umask is not None else None
    try:
        p = subprocess.run([TOOL, arg], input=json.dumps(payload).encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    finally:
        if old is not None:
            os.umask(old)
    if p.returncode != 0:
        raise AssertionError("ghcmd_tool %s exited %d: %s" % (arg, p.returncode,
                                                                p.stderr.decode(errors="replace")))
    return p.stdout.decode("utf-8")


class ToolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(TOOL, os.X_OK):
            raise AssertionError("%s is missing: run `make tools` first" % TOOL)

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="test_ghfile.")
        self.addCleanup(self.tmp.cleanup)

    def path(self, name="out"):
        return os.path.join(self.tmp.name, name)


# ---------------------------------------------------------------------------
# The parser itself, against the runner's rules.

class ParserRules(unittest.TestCase):
    CASES = [
        # (text, pairs)
        ("", []),
        ("\n\n", []),
        ("a=b\n", [("a", "b")]),
        ("a=b\nc=d=e\n\nf=\n", [("a", "b"), ("c", "d=e"), ("f", "")]),
        ("a=b", [("a", "b")]),
        ("a=b<<c\n", [("a", "b<<c")]),
        ("N<<EOF\nvalue\nEOF\n", [("N", "value")]),
        ("N<<EOF\nvalue\nEOF", [("N", "value")]),
        ("N<<EOF\nEOF\n", [("N", "")]),
        ("N<<EOF\n\nEOF\n", [("N", "")]),
        ("N<<EOF\n\n\nEOF\n", [("N", "\n")]),
        ("N<<EOF\nl1\n\nl3\n\nEOF\n", [("N", "l1\n\nl3\n")]),
        ("N<<EOF\n EOF\nEOF \nEOFX\nEOF\n", [("N", " EOF\nEOF \nEOFX")]),
        ("N<<A<<B\nx\nA\nA<<B\n", [("N", "x\nA")]),
        ("a<<b=c\nv\nb=c\n", [("a", "v")]),
        ("N<<EOF\na=b\nEOF\nM=1\n", [("N", "a=b"), ("M", "1")]),
        # A "\r" before "\n" is part of the line on Linux runners.
        ("N<<EOF\r\nv\r\nEOF\r\n", [("N", "v\r")]),
        ("N<<EOF\r\nv\r\nEOF\n", None),
        ("a=b\r\n", [("a", "b\r")]),
        # The runner checks the line, not the name: "=v" has name "".
        ("=v\n", [("", "v")]),
        # Errors.
        ("garbage\n", None),
        ("<<EOF\nv\nEOF\n", None),
        ("N<<\nv\n\n", None),
        ("N<<EOF\nv\n", None),
        ("N<<EOF\nv", None),
        ("N<<EOF\n", None),
        ("N<<EOF", None),
        ("ok=1\nN<<EOF\nv\nEOF\nbad\n", None),
    ]

    def test_cases(self):
        for text, want in self.CASES:
            with self.subTest(text=text):
                if want is None:
                    with self.assertRaises(GhFileError):
                        parse_text(text)
                else:
                    self.assertEqual(parse_text(text), want)

    def test_windows_newlines(self):
        self.assertEqual(parse_text("N<<EOF\r\nv\r\nw\nEOF\r\n", windows=True), [("N", "v\r\nw")])
        self.assertEqual(parse_text("a=b\r\n", windows=True), [("a", "b")])

    def test_decoding(self):
        self.assertEqual(parse_bytes(b"\xef\xbb\xbfN=v\n"), [("N", "v")])
        self.assertEqual(parse_bytes(b"\xff\xfe" + "N=\u00e9\n".encode("utf-16-le")),
                         [("N", "\u00e9")])
        self.assertEqual(parse_bytes(b"N=\xff\n"), [("N", "\ufffd")])

    def test_missing_file(self):
        self.assertEqual(parse_file("/nonexistent/dir/file"), [])

    def test_cli(self):
        with tempfile.NamedTemporaryFile("wb", delete=False) as f:
            f.write(b"N<<E\nx\nE\n")
        try:
            p = subprocess.run([sys.executable, ghfile_parse.__file__, f.name],
                               stdout=subprocess.PIPE, check=True)
            self.assertEqual(json.loads(p.stdout), [["N", "x"]])
        finally:
            os.unlink(f.name)


# ---------------------------------------------------------------------------
# ss_ghfile_append records, read back by the parser.

TRICKY_VALUES = [
    "simple",
    "",
    "\n",
    "\n\n",
    "multi\nline\nvalue",
    "ends with newline\n",
    "\nstarts with newline",
    "\r",
    "crlf\r\nline\r\n",
    "lone\rcarriage",
    "a<<b",
    "x=y",
    "=",
    "<<",
    "NAME<<EOF\nEOF",
    "EOF",
    "ghadelimiter_" + "0" * 32,
    "x\nghadelimiter_" + "f" * 32 + "\ny",
    "ghadelimiter_",
    "%0A%25::add-mask::",
    " leading and trailing \t",
    "\t\x01\x1f\x7f",
    "h\u00e9llo \u2713 \U0001f389 \u65e5\u672c\u8a9e",
    "\ufeffbom-looking",
    "{\"json\": [1, 2, \"three\"]}",
]

NAMES = ["out", "plan-json", "AWS_SECRET_ACCESS_KEY", "with space", "\u00fcn\u00efcode",
         "a<b", "<lead", "x>y"]


def big_value(size=64 * 1024, seed=1):
    rng = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 \n\r<=%:,\u00e9\u2713"
    return "".join(rng.choice(alphabet) for _ in range(size))


class FileRoundTrip(ToolTest):
    def write_and_parse(self, pairs, path=None, umask=None):
        path = path or self.path()
        out = run_tool(path, [list(p) for p in pairs], umask=umask)
        self.assertEqual(out.splitlines(), ["ok"] * len(pairs))
        return parse_file(path)

    def test_tricky_values(self):
        pairs = [(NAMES[i % len(NAMES)], v) for i, v in enumerate(TRICKY_VALUES)]
        self.assertEqual(self.write_and_parse(pairs), pairs)

    def test_each_value_alone(self):
        for i, v in enumerate(TRICKY_VALUES):
            with self.subTest(value=repr(v)[:40]):
                self.assertEqual(self.write_and_parse([("v", v)], self.path("one%d" % i)),
                                 [("v", v)])

    def test_big_values(self):
        pairs = [("big1", big_value()), ("big2", big_value(seed=2) + "\n"),
                 ("big3", "x" * (64 * 1024))]
        self.assertEqual(self.write_and_parse(pairs), pairs)

    def test_random_values(self):
        rng = random.Random(20240607)
        alphabet = ["a", "b", "\n", "\r", "<", "<<", "=", " ", "ghadelimiter_", "0", "f",
                    "\u00e9", "%", ":"]
        pairs = []
        for i in range(300):
            n = rng.randrange(0, 40)
            pairs.append(("name%d" % i, "".join(rng.choice(alphabet) for _ in range(n))))
        self.assertEqual(self.write_and_parse(pairs), pairs)

    def test_record_shape(self):
        path = self.path()
        run_tool(path, [["one", "1"], ["two", "2\n3"]])
        with open(path, "rb") as f:
            lines = f.read().decode().split("\n")
        self.assertEqual(lines[-1], "")
        heads = [l for l in lines if "<<" in l]
        self.assertEqual([h.split("<<")[0] for h in heads], ["one", "two"])
        delims = [h.split("<<")[1] for h in heads]
        for d in delims:
            self.assertRegex(d, DELIM_RE)
        self.assertNotEqual(delims[0], delims[1])
        self.assertEqual(lines, ["one<<" + delims[0], "1", delims[0],
                                 "two<<" + delims[1], "2", "3", delims[1], ""])

    def test_appends_to_existing(self):
        path = self.path()
        with open(path, "w") as f:
            f.write("PRE=1\n")
        os.chmod(path, 0o644)
        self.assertEqual(self.write_and_parse([("n", "v\nw")], path), [("PRE", "1"), ("n", "v\nw")])
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o644)

    def test_mode_when_created(self):
        for umask in (0o000, 0o022, 0o077):
            with self.subTest(umask=oct(umask)):
                path = self.path("mode%o" % umask)
                self.write_and_parse([("n", "v")], path, umask=umask)
                self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)

    def test_invalid_names_refused(self):
        bad = ["", "a=b", "=", "a\nb", "a\rb", "trail\r", "a<<b", "<<", "a<", "<"]
        path = self.path()
        out = run_tool(path, [[n, "value"] for n in bad])
        lines = out.splitlines()
        self.assertEqual(len(lines), len(bad))
        for n, line in zip(bad, lines):
            with self.subTest(name=repr(n)):
                self.assertTrue(line.startswith("error: "), line)
        self.assertFalse(os.path.exists(path))
        # Mixed with good ones: only the good ones are written.
        out = run_tool(path, [["good", "1"], ["a<", "2"], ["fine", "3"]])
        self.assertEqual(out.splitlines()[0::2], ["ok", "ok"])
        self.assertTrue(out.splitlines()[1].startswith("error: "))
        self.assertEqual(parse_file(path), [("good", "1"), ("fine", "3")])

    def test_why_a_trailing_lt_is_refused(self):
        # What the runner would make of "a<" + "<<" + DELIM: a name "a"
        # and a delimiter that never comes.
        with self.assertRaises(GhFileError):
            parse_text("a<<<ghadelimiter_%s\nv\nghadelimiter_%s\n" % ("0" * 32, "0" * 32))


# ---------------------------------------------------------------------------
# Workflow commands, read back the way the runner's ActionCommand.TryParseV2
# does (commands: a line "::name props::data").

DATA_CODES = [("%0D", "\r"), ("%0A", "\n"), ("%25", "%")]
PROP_CODES = [("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")]


def unescape(s, codes):
    # Sequential replaces in the runner's order (%25 last).
    for code, ch in codes:
        s = s.replace(code, ch)
    return s


def parse_command(line):
    """(command, {prop: value}, data) or None, as TryParseV2 reads a line."""
    line = line.lstrip()
    if not line.startswith("::"):
        return None
    end = line.find("::", 2)
    if end < 0:
        return None
    info = line[2:end]
    sp = info.find(" ")
    name = info if sp < 0 else info[:sp]
    props = {}
    if sp > 0:
        for prop in [p for p in info[sp + 1:].strip().split(",") if p]:
            pair = [x for x in prop.split("=", 1) if x]
            if len(pair) == 2:
                props[pair[0]] = unescape(pair[1], PROP_CODES)
    return name, props, unescape(line[end + 2:], DATA_CODES)


class WorkflowCommands(ToolTest):
    MESSAGES = ["plain", "", "100%", "%25 literal", "%0A literal", "a\nb", "a\r\nb\r",
                "::not::a::command", "key: value, other", "h\u00e9llo \u2713",
                "%%%\n\n\r\r", "trailing space "]
    PROPS = [None, [], [["file", "dir,x/a:b.c"], ["line", "12"]],
             [["title", "50% done\nnext: a, b"], ["col", "1"]],
             [["title", "x=y==z"]]]

    def test_round_trip(self):
        cmds = []
        for i, msg in enumerate(self.MESSAGES):
            cmds.append(["error" if i % 2 else "add-mask", self.PROPS[i % len(self.PROPS)], msg])
        out = run_tool("--cmd", cmds)
        lines = out.split("\n")
        self.assertEqual(lines[-1], "")
        self.assertEqual(len(lines) - 1, len(cmds))
        for (cmd, props, msg), line in zip(cmds, lines):
            with self.subTest(message=repr(msg)):
                parsed = parse_command(line)
                self.assertIsNotNone(parsed, line)
                self.assertEqual(parsed[0], cmd)
                self.assertEqual(parsed[1], {k: v for k, v in (props or [])})
                self.assertEqual(parsed[2], msg)

    def test_invalid_refused(self):
        out = run_tool("--cmd", [["bad cmd", None, "x"], ["", None, "x"],
                                 ["error", [["a,b", "v"]], "x"], ["ok", None, "x"]])
        self.assertEqual([l.startswith("error: ") for l in out.splitlines()],
                         [True, True, True, False])


def expected_masks(value):
    """What the registry announces for a non-JSON value: the value and its
    non-empty lines, less the short ones and the literals."""
    def ok(v):
        t = v.strip(" \t\n\r\f\v")
        return len(t.encode()) >= 4 and t not in ("true", "false", "null", "{", "}")
    out = []
    for cand in [value] + [l[:-1] if l.endswith("\r") else l for l in value.split("\n")]:
        if cand and ok(cand) and cand not in out:
            out.append(cand)
    return out


class AddMask(ToolTest):
    VALUES = ["s3cr3t-token", "abc", "true", "multi\nline-two\r\nthree", "%0A-not-a-newline",
              "pem\n-----BEGIN KEY-----\nAAAABBBB\n-----END KEY-----\n", "h\u00e9llo-\u2713",
              "s3cr3t-token"]

    def test_announced_values_round_trip(self):
        out = run_tool("--mask", self.VALUES)
        got = []
        for line in out.split("\n")[:-1]:
            parsed = parse_command(line)
            self.assertIsNotNone(parsed)
            self.assertEqual(parsed[0], "add-mask")
            got.append(parsed[2])
        want = []
        for v in self.VALUES:
            want += [m for m in expected_masks(v) if m not in want]
        self.assertEqual(got, want)

    def test_json_leaves(self):
        doc = json.dumps({"user": "admin-user", "password": "pa%ss\nword-2", "port": 5432})
        out = run_tool("--mask", [doc])
        got = [parse_command(l)[2] for l in out.split("\n")[:-1]]
        self.assertEqual(got[0], doc)
        for leaf in ("admin-user", "pa%ss\nword-2", "pa%ss", "word-2"):
            self.assertIn(leaf, got)
        self.assertNotIn("5432", got)


if __name__ == "__main__":
    unittest.main()
