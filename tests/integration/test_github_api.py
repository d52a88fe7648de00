"""The GitHub client (src/backends/github_api.c) against the GitHub emulator.

build/tools/gh_tool drives the client; the emulator (tests/emulators/github.py)
is started here on ephemeral ports with fixtures written to a temporary
directory: a github.com-shaped one, a GHES one (path prefix /api/v3, Link
headers in the /repositories/ID form) and one whose Link headers point at
another host. Checks: the commit status lands on the PR head SHA, the sticky
comment is created then edited in place (exactly one), a user's comment with
the same marker is left alone, the marker is found on page 3, missing
permissions are explained, retries follow the rules (a status POST is
retried, a comment POST is not), and the token never reaches stdout/stderr.

    make build/tools/gh_tool && python3 -m unittest tests/integration/test_github_api.py
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EMU = os.path.join(ROOT, "tests", "emulators")
TOOL = os.path.join(ROOT, os.environ.get("BUILD", "build"), "tools", "gh_tool")
sys.path.insert(0, EMU)
import jwtlib  # noqa: E402

TOKEN = "ghs_itActionsToken_5f1e2d3c4b5a69788796a5b4"
READONLY = "ghs_itReadonlyToken_0a1b2c3d4e5f60718293a4b5"
HEAD = "89abcdef0123456789abcdef0123456789abcdef"
MERGE = "fedcba9876543210fedcba9876543210fedcba98"
MARKER = "<!-- secretsync:sticky config=secretsync.yaml command=plan -->"
BOT = "github-actions[bot]"
SCRUB = ("GITHUB_", "ACTIONS_", "SECRETSYNC_", "RUNNER_")


def fixture(**extra):
    gh = {
        "repository": "octo/app",
        "repository_id": 4242,
        "tokens": {
            TOKEN: {"kind": "actions"},
            READONLY: {"kind": "actions",
                       "permissions": {"statuses": "read", "issues": "read", "pull_requests": "read"}},
        },
        "users": {"alice": {"id": 1001}},
        "pulls": {
            "7": {"head_sha": HEAD, "head_ref": "feature", "base_ref": "main", "state": "open",
                  "title": "Change secrets", "user": "alice"},
            "9": {"head_sha": HEAD, "head_ref": "big", "base_ref": "main", "state": "open",
                  "title": "Busy PR", "user": "alice"},
        },
        "comments": {
            "7": [{"body": "looks good", "user": "alice"},
                  {"body": "quoting the bot:\n" + MARKER + "\nold plan", "user": "alice"}],
            # 250 comments: the bot's sticky one is the 231st, on page 3 of 100.
            "9": ([{"body": "comment %d" % i, "user": "alice"} for i in range(230)] +
                  [{"id": 7700000001, "body": MARKER + "\nold plan", "user": BOT}] +
                  [{"body": "later %d" % i, "user": "alice"} for i in range(19)]),
        },
    }
    gh.update(extra)
    return {"github": gh}


def start_emulator(fixture_path, key_path):
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    proc = subprocess.Popen([sys.executable, os.path.join(EMU, "github.py"), "--port", "0",
                             "--fixture", fixture_path, "--jwt-key", key_path],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    if not line.startswith("READY "):
        proc.kill()
        raise RuntimeError("github.py did not start: %r %s" % (line, proc.stderr.read()))
    return proc, int(line.split()[1])


def stop_emulator(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    proc.stdout.close()
    proc.stderr.close()


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Emulator:
    def __init__(self, tmp, key, name, prefix="", **extra):
        self.path = os.path.join(tmp, name + ".json")
        if prefix:
            extra["path_prefix"] = prefix
        with open(self.path, "w") as f:
            json.dump(fixture(**extra), f)
        self.proc, self.port = start_emulator(self.path, key)
        self.base = "http://127.0.0.1:%d" % self.port
        self.api = self.base + prefix

    def control(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data,
                                     method="GET" if body is None else "POST")
        with OPENER.open(req, timeout=10) as resp:
            return json.loads(resp.read())

    def state(self):
        return self.control("/_emu/state")

    def reset(self):
        self.control("/_emu/reset", {})

    def fault(self, **f):
        self.control("/_emu/fault", f)

    def stop(self):
        stop_emulator(self.proc)


@unittest.skipUnless(os.access(TOOL, os.X_OK), "build/tools/gh_tool is not built (make tools)")
class GitHubApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="secretsync-gh-")
        cls.key = os.path.join(cls.tmp.name, "key.json")
        jwtlib.save_key(jwtlib.generate_key(), cls.key)
        cls.emus = []
        try:
            cls.gh = Emulator(cls.tmp.name, cls.key, "dotcom")
            cls.emus.append(cls.gh)
            cls.ghes = Emulator(cls.tmp.name, cls.key, "ghes", prefix="/api/v3",
                                link_style="repositories")
            cls.emus.append(cls.ghes)
            cls.elsewhere = Emulator(cls.tmp.name, cls.key, "elsewhere",
                                     api_url="http://elsewhere.invalid")
            cls.emus.append(cls.elsewhere)
        except Exception:
            cls.tearDownClass()
            raise
        cls.pr_event = os.path.join(cls.tmp.name, "pr_event.json")
        with open(cls.pr_event, "w") as f:
            json.dump({"action": "synchronize", "number": 7,
                       "pull_request": {"number": 7, "head": {"sha": HEAD, "ref": "feature"},
                                        "base": {"ref": "main"}}}, f)

    @classmethod
    def tearDownClass(cls):
        for e in cls.emus:
            e.stop()
        cls.tmp.cleanup()

    def setUp(self):
        for e in self.emus:
            e.reset()

    def env(self, emu=None, event="pull_request", token=TOKEN, **extra):
        emu = emu or self.gh
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(SCRUB) and not k.lower().endswith("_proxy")}
        env.update({"GITHUB_API_URL": emu.api, "GITHUB_REPOSITORY": "octo/app",
                    "GITHUB_SHA": MERGE, "GITHUB_EVENT_NAME": event,
                    "GITHUB_EVENT_PATH": self.pr_event, "GITHUB_SERVER_URL": "https://github.com",
                    "GITHUB_RUN_ID": "123456", "SECRETSYNC_HTTP_BACKOFF_MS": "1"})
        if token is not None:
            env["GITHUB_TOKEN"] = token
        env.update(extra)
        return env

    def run_tool(self, args, env, stdin=""):
        p = subprocess.run([TOOL] + args, input=stdin, env=env, capture_output=True, text=True,
                           timeout=60)
        for tok in (TOKEN, READONLY):
            self.assertNotIn(tok, p.stdout)
            self.assertNotIn(tok, p.stderr)
        return p

    def bot_comments(self, emu, pr="7"):
        return [c for c in emu.state()["comments"].get(pr, []) if c["user"] == BOT]

    # -- commit status -------------------------------------------------
    def test_status_on_pr_head_sha(self):
        p = self.run_tool(["status", "-", "success", "secretsync", "1 to create, 0 to update"],
                          self.env())
        self.assertEqual(p.returncode, 0, p.stderr)
        st = self.gh.state()["statuses"]
        self.assertNotIn(MERGE, st)
        self.assertEqual(len(st[HEAD]), 1)
        s = st[HEAD][0]
        self.assertEqual((s["state"], s["context"], s["description"], s["creator"]),
                         ("success", "secretsync", "1 to create, 0 to update", BOT))
        self.assertEqual(s["target_url"], "https://github.com/octo/app/actions/runs/123456")

    def test_status_on_push_sha_and_long_description(self):
        desc = "\u00e9" * 200
        p = self.run_tool(["status", "-", "failure", "secretsync/verify", desc],
                          self.env(event="push"))
        self.assertEqual(p.returncode, 0, p.stderr)
        s = self.gh.state()["statuses"][MERGE][0]
        self.assertEqual(len(s["description"]), 140)
        self.assertEqual(s["description"], "\u00e9" * 139 + "\u2026")

    def test_status_ghes_prefix(self):
        p = self.run_tool(["status", HEAD, "pending", "secretsync", "running"],
                          self.env(self.ghes))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.ghes.state()["statuses"][HEAD][0]["state"], "pending")
        p = self.run_tool(["status", HEAD, "pending", "secretsync", "running"],
                          self.env(self.ghes, GITHUB_API_URL=self.ghes.api + "/"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(self.ghes.state()["statuses"][HEAD]), 2)

    def test_status_retried_after_429_and_5xx(self):
        self.gh.fault(method="POST", path="/statuses/", status=429, count=1,
                      headers={"Retry-After": "0"}, body={"message": "slow down"})
        self.gh.fault(method="POST", path="/statuses/", status=502, count=1,
                      body={"message": "Server Error"})
        p = self.run_tool(["status", "-", "success", "secretsync", "ok"], self.env())
        self.assertEqual(p.returncode, 0, p.stderr)
        st = self.gh.state()
        self.assertEqual(len(st["statuses"][HEAD]), 1)
        posts = [r for r in st["request_log"] if r["method"] == "POST"]
        self.assertEqual([r["status"] for r in posts], [429, 502, 201])

    def test_status_without_permission_explained(self):
        p = self.run_tool(["status", "-", "success", "secretsync", "x"], self.env(token=READONLY))
        self.assertEqual(p.returncode, 1)
        self.assertIn("403 Resource not accessible by integration", p.stderr)
        self.assertIn("statuses: write", p.stderr)
        self.assertNotIn(HEAD, self.gh.state()["statuses"])

    def test_bad_token_explained(self):
        p = self.run_tool(["status", "-", "success", "secretsync", "x"],
                          self.env(token="ghs_notAKnownToken_1234567890"))
        self.assertEqual(p.returncode, 1)
        self.assertIn("401 Bad credentials", p.stderr)
        self.assertIn("invalid or expired", p.stderr)
        self.assertNotIn("ghs_notAKnownToken_1234567890", p.stderr)

    def test_no_token(self):
        p = self.run_tool(["status", "-", "success", "secretsync", "x"], self.env(token=None))
        self.assertEqual(p.returncode, 1)
        self.assertIn("no token", p.stderr)
        self.assertEqual(self.gh.state()["requests_total"], 0)

    def test_status_422_validation_message(self):
        self.gh.fault(method="POST", path="/statuses/", status=422, count=1,
                      body={"message": "Validation Failed",
                            "errors": [{"resource": "Status", "code": "custom", "field": "sha",
                                        "message": "No commit found for SHA: " + HEAD}]})
        p = self.run_tool(["status", "-", "success", "secretsync", "x"], self.env())
        self.assertEqual(p.returncode, 1)
        self.assertIn("422 Validation Failed: No commit found for SHA: " + HEAD, p.stderr)

    # -- the sticky comment --------------------------------------------
    def test_sticky_created_then_edited_in_place(self):
        user_before = [c for c in self.gh.state()["comments"]["7"] if c["user"] == "alice"]
        p = self.run_tool(["comment", MARKER], self.env(), stdin="## Plan\n\n1 to create\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"^created id=\d+ url=\S+#issuecomment-\d+\n$")
        first = self.bot_comments(self.gh)
        self.assertEqual(len(first), 1)
        self.assertEqual(first[0]["body"], MARKER + "\n## Plan\n\n1 to create\n")

        p = self.run_tool(["comment", MARKER], self.env(), stdin="## Plan\n\n2 to update\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("updated id=%d " % first[0]["id"]), p.stdout)
        second = self.bot_comments(self.gh)
        self.assertEqual(len(second), 1)
        self.assertEqual(second[0]["id"], first[0]["id"])
        self.assertEqual(second[0]["body"], MARKER + "\n## Plan\n\n2 to update\n")

        # The user's comment quoting the marker is untouched.
        user_after = [c for c in self.gh.state()["comments"]["7"] if c["user"] == "alice"]
        self.assertEqual(user_after, user_before)

        # The same body again: nothing is sent.
        p = self.run_tool(["comment", MARKER], self.env(), stdin="## Plan\n\n2 to update\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "unchanged id=%d\n" % first[0]["id"])
        reqs = self.gh.state()["requests"]
        self.assertEqual(reqs.get("POST /repos/{o}/{r}/issues/{n}/comments"), 1)
        self.assertEqual(reqs.get("PATCH /repos/{o}/{r}/issues/comments/{id}"), 1)
        self.assertNotIn("GET /user", reqs)

    def test_other_marker_gets_its_own_comment(self):
        other = subprocess.run([TOOL, "marker", "secretsync.yaml", "pipeline"],
                               capture_output=True, text=True, check=True).stdout.strip()
        self.assertNotEqual(other, MARKER)
        for m in (MARKER, other, MARKER, other):
            p = self.run_tool(["comment", m], self.env(), stdin="body")
            self.assertEqual(p.returncode, 0, p.stderr)
        bots = self.bot_comments(self.gh)
        self.assertEqual(len(bots), 2)
        self.assertEqual(sorted(c["body"].split("\n")[0] for c in bots), sorted([MARKER, other]))

    def test_marker_found_on_page_3(self):
        p = self.run_tool(["comment", MARKER, "9"], self.env(), stdin="new plan")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("updated id=7700000001 "), p.stdout)
        st = self.gh.state()
        self.assertEqual(len(st["comments"]["9"]), 250)
        self.assertEqual(st["requests"]["GET /repos/{o}/{r}/issues/{n}/comments"], 3)
        bot = [c for c in st["comments"]["9"] if c["user"] == BOT]
        self.assertEqual([c["body"] for c in bot], [MARKER + "\nnew plan"])

    def test_ghes_pagination_under_prefix(self):
        p = self.run_tool(["comment", MARKER, "9"], self.env(self.ghes), stdin="ghes plan")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("updated id=7700000001 "), p.stdout)
        paths = [r["path"] for r in self.ghes.state()["request_log"] if r["method"] == "GET"]
        self.assertEqual(paths[0], "/api/v3/repos/octo/app/issues/9/comments")
        self.assertEqual(paths[1:], ["/api/v3/repositories/4242/issues/9/comments"] * 2)

    def test_link_to_another_host_refused(self):
        p = self.run_tool(["comment", MARKER, "9"], self.env(self.elsewhere), stdin="x")
        self.assertEqual(p.returncode, 1)
        self.assertIn("not under GITHUB_API_URL", p.stderr)
        self.assertIn("elsewhere.invalid", p.stderr)
        reqs = self.elsewhere.state()["requests"]
        self.assertEqual(reqs.get("GET /repos/{o}/{r}/issues/{n}/comments"), 1)
        self.assertNotIn("POST /repos/{o}/{r}/issues/{n}/comments", reqs)

    def test_comment_without_permission_explained(self):
        p = self.run_tool(["comment", MARKER], self.env(token=READONLY), stdin="x")
        self.assertEqual(p.returncode, 1)
        self.assertIn("403 Resource not accessible by integration", p.stderr)
        self.assertIn("pull-requests: write", p.stderr)
        self.assertEqual(self.bot_comments(self.gh), [])

    def test_comment_post_5xx_not_retried(self):
        self.gh.fault(method="POST", path="/issues/7/comments", status=502, count=1,
                      body={"message": "Server Error"})
        p = self.run_tool(["comment", MARKER], self.env(), stdin="x")
        self.assertEqual(p.returncode, 1)
        self.assertIn("HTTP 502 Server Error", p.stderr)
        posts = [r for r in self.gh.state()["request_log"] if r["method"] == "POST"]
        self.assertEqual(len(posts), 1)

    def test_comment_too_large_refused(self):
        p = self.run_tool(["comment", MARKER], self.env(), stdin="a" * 70000)
        self.assertEqual(p.returncode, 1)
        self.assertIn("65536", p.stderr)
        self.assertEqual(self.gh.state()["requests_total"], 0)
        # At the limit it goes through (GitHub's own check agrees).
        room = 65536 - len(MARKER) - 1
        p = self.run_tool(["comment", MARKER], self.env(), stdin="\u00e9" * room)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(self.bot_comments(self.gh)[0]["body"]), 65536)

    def test_comment_on_push_refused(self):
        p = self.run_tool(["comment", MARKER], self.env(event="push"), stdin="x")
        self.assertEqual(p.returncode, 1)
        self.assertIn("not a pull request event", p.stderr)
        self.assertEqual(self.gh.state()["requests_total"], 0)

    # -- context -------------------------------------------------------
    def test_context(self):
        p = self.run_tool(["context"], self.env())
        self.assertEqual(p.returncode, 0, p.stderr)
        ctx = json.loads(p.stdout)
        self.assertEqual((ctx["pr_number"], ctx["head_sha"], ctx["status_sha"], ctx["sha"]),
                         (7, HEAD, HEAD, MERGE))
        self.assertEqual(ctx["api_url"], self.gh.api)
        p = self.run_tool(["context"], self.env(event="pull_request_target",
                                                GITHUB_EVENT_PATH="/nonexistent/event.json"))
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot read GITHUB_EVENT_PATH /nonexistent/event.json", p.stderr)
        bad = os.path.join(self.tmp.name, "bad_event.json")
        with open(bad, "w") as f:
            f.write('{"pull_request": {"number": 7, "head": ')
        p = self.run_tool(["context"], self.env(GITHUB_EVENT_PATH=bad))
        self.assertEqual(p.returncode, 1)
        self.assertIn("not JSON", p.stderr)

    # -- the token -----------------------------------------------------
    def test_token_never_printed(self):
        """Debug logging, failures and an error body that echoes the token."""
        self.gh.fault(method="POST", path="/statuses/", status=400, count=1,
                      body={"message": "bad Authorization: Bearer " + TOKEN})
        runs = [
            (["status", "-", "success", "secretsync", "x"], self.env(SECRETSYNC_LOG_LEVEL="debug"), ""),
            (["status", "-", "success", "secretsync", "x"], self.env(SECRETSYNC_LOG_LEVEL="debug"), ""),
            (["comment", MARKER], self.env(SECRETSYNC_LOG_LEVEL="debug"), "plan " + TOKEN[:6]),
            (["comment", MARKER, "9"], self.env(self.elsewhere, SECRETSYNC_LOG_LEVEL="debug"), "x"),
            (["status", "-", "success", "secretsync", "x"],
             self.env(token=READONLY, SECRETSYNC_LOG_LEVEL="debug"), ""),
            (["--token", TOKEN, "status", "-", "success", "c", "x"],
             self.env(token=None, SECRETSYNC_LOG_LEVEL="debug"), ""),
        ]
        outs = [self.run_tool(args, env, stdin) for args, env, stdin in runs]  # asserts absence
        self.assertEqual(outs[0].returncode, 1)
        self.assertIn("bad Authorization: Bearer ***", outs[0].stderr)
        self.assertEqual(outs[1].returncode, 0, outs[1].stderr)
        self.assertTrue(any("debug" in p.stderr for p in outs),
                        "debug logging produced nothing: the check would prove little")


if __name__ == "__main__":
    unittest.main()
