"""Fidelity of the GitHub emulator against GitHub's documented REST API.

Each route is checked for the field names and JSON types of the example
responses in GitHub's REST documentation, the status codes, the Link header
format and the error shapes; the OIDC token is checked against the claims
GitHub documents and verified with jwtlib against the emulator's own JWKS
(and, when the `cryptography` package is importable, with it too, as an
independent RSA implementation). The emulator is started here on an
ephemeral port with a fresh key.

    python3 -m unittest tests/integration/test_github_fidelity.py
"""

import copy
import http.client
import json
import os
import re
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
sys.path.insert(0, EMU)
import jwtlib  # noqa: E402

ACTIONS = "ghs_actions_token"
SHA = "0123456789abcdef0123456789abcdef01234567"
HEAD_SHA = "89abcdef0123456789abcdef0123456789abcdef"

# Field names and JSON types of GitHub's documented example responses
# (docs.github.com REST reference, API version 2022-11-28).
S, I, B, N, L, D = str, int, bool, type(None), list, dict
SIMPLE_USER = {"login": S, "id": I, "node_id": S, "avatar_url": S, "gravatar_id": S, "url": S,
               "html_url": S, "followers_url": S, "following_url": S, "gists_url": S,
               "starred_url": S, "subscriptions_url": S, "organizations_url": S, "repos_url": S,
               "events_url": S, "received_events_url": S, "type": S, "site_admin": B}
STATUS = {"url": S, "avatar_url": (S, N), "id": I, "node_id": S, "state": S,
          "description": (S, N), "target_url": (S, N), "context": S, "created_at": S,
          "updated_at": S, "creator": SIMPLE_USER}
ISSUE_COMMENT = {"id": I, "node_id": S, "url": S, "html_url": S, "body": S, "user": SIMPLE_USER,
                 "created_at": S, "updated_at": S, "issue_url": S, "author_association": S}
PR_SIDE = {"label": S, "ref": S, "sha": S, "user": SIMPLE_USER, "repo": D}
PULL = {"url": S, "id": I, "node_id": S, "html_url": S, "diff_url": S, "patch_url": S,
        "issue_url": S, "commits_url": S, "review_comments_url": S, "review_comment_url": S,
        "comments_url": S, "statuses_url": S, "number": I, "state": S, "locked": B, "title": S,
        "user": SIMPLE_USER, "body": (S, N), "labels": L, "milestone": (D, N),
        "active_lock_reason": (S, N), "created_at": S, "updated_at": S, "closed_at": (S, N),
        "merged_at": (S, N), "merge_commit_sha": (S, N), "assignee": (D, N), "assignees": L,
        "requested_reviewers": L, "requested_teams": L, "head": PR_SIDE, "base": PR_SIDE,
        "_links": D, "author_association": S, "auto_merge": (D, N), "draft": B, "merged": B,
        "mergeable": (B, N), "rebaseable": (B, N), "mergeable_state": S, "merged_by": (D, N),
        "comments": I, "review_comments": I, "maintainer_can_modify": B, "commits": I,
        "additions": I, "deletions": I, "changed_files": I}
COMBINED = {"state": S, "statuses": L, "sha": S, "total_count": I, "repository": D,
            "commit_url": S, "url": S}
BASIC_ERROR = {"message": S, "documentation_url": S}
VALIDATION_ERROR = {"message": S, "documentation_url": S, "errors": L}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
LINK = re.compile(r'<([^>]+)>; rel="(\w+)"')


def _clean_env():
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    return env


def start_emulator(script, args):
    proc = subprocess.Popen([sys.executable, os.path.join(EMU, script), "--port", "0"] + args,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_clean_env())
    line = proc.stdout.readline()
    if not line.startswith("READY "):
        proc.kill()
        raise RuntimeError("%s did not start: %r %s" % (script, line, proc.stderr.read()))
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


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
OPENER.addheaders = []  # no default User-Agent: each request sets its own


def request(method, url, body=None, token=ACTIONS, ua="secretsync-tests", headers=None):
    h = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    if ua:
        h["User-Agent"] = ua
    if token:
        h["Authorization"] = "Bearer " + token
    h.update(headers or {})
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        resp = OPENER.open(req, timeout=10)
        status, hdrs, raw = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        status, hdrs, raw = exc.code, exc.headers, exc.read()
    try:
        return status, hdrs, json.loads(raw) if raw else None
    except ValueError:
        return status, hdrs, raw.decode("utf-8", "replace")


class Instance:
    def __init__(self, tmp, key_path, name, mutate=None):
        with open(FIXTURE) as f:
            fx = json.load(f)
        gh = copy.deepcopy(fx["github"])
        if mutate:
            mutate(gh)
        self.fixture = os.path.join(tmp, name + ".json")
        with open(self.fixture, "w") as f:
            json.dump({"github": gh}, f)
        self.proc, self.port = start_emulator("github.py", ["--fixture", self.fixture, "--jwt-key", key_path])
        self.url = "http://127.0.0.1:%d" % self.port


TMP = KEY = MAIN = GHES = None


def _ghes(gh):
    gh["path_prefix"] = "/api/v3"
    gh["link_style"] = "repositories"
    gh["validation_errors"] = "string"
    gh["public"] = True
    gh["rate_limit"] = {"limit": 50, "remaining": 3}
    gh["oidc"]["claims"]["environment"] = "production"
    gh["oidc"]["lifetime"] = 60
    gh["commits"] = [SHA]
    gh["comments"]["7"] = [{"body": "c%d" % i, "user": "alice"} for i in range(7)]


def setUpModule():
    global TMP, KEY, MAIN, GHES
    TMP = tempfile.TemporaryDirectory(prefix="github-fidelity-")
    KEY = os.path.join(TMP.name, "key.json")
    jwtlib.save_key(jwtlib.generate_key(), KEY)
    MAIN = Instance(TMP.name, KEY, "main")
    try:
        GHES = Instance(TMP.name, KEY, "ghes", _ghes)
    except Exception:
        stop_emulator(MAIN.proc)
        raise


def tearDownModule():
    for inst in (MAIN, GHES):
        if inst:
            stop_emulator(inst.proc)
    if TMP:
        TMP.cleanup()


class Base(unittest.TestCase):
    def setUp(self):
        for inst in (MAIN, GHES):
            st, _, _ = request("POST", inst.url + "/_emu/reset", {}, token=None)
            self.assertEqual(st, 200)

    def assertShape(self, obj, shape, where="$"):
        self.assertIsInstance(obj, dict, where)
        for field, typ in shape.items():
            self.assertIn(field, obj, "%s.%s missing" % (where, field))
            if isinstance(typ, dict):
                self.assertShape(obj[field], typ, "%s.%s" % (where, field))
                continue
            types = typ if isinstance(typ, tuple) else (typ,)
            val = obj[field]
            ok = any((t is I and isinstance(val, int) and not isinstance(val, bool)) or
                     (t is not I and isinstance(val, t)) for t in types)
            self.assertTrue(ok, "%s.%s: %r is not %s" % (where, field, val, types))

    def links(self, hdrs):
        value = hdrs.get("Link")
        if not value:
            return {}
        parts = [p.strip() for p in value.split(",")]
        out = {}
        for p in parts:
            m = LINK.fullmatch(p)
            self.assertIsNotNone(m, "bad Link part %r" % p)
            out[m.group(2)] = m.group(1)
        return out

    def state(self, inst=None):
        return request("GET", (inst or MAIN).url + "/_emu/state", token=None)[2]


class Statuses(Base):
    def test_create_status_documented_shape(self):
        st, hdrs, body = request("POST", MAIN.url + "/repos/octo/app/statuses/" + SHA,
                                 {"state": "success", "target_url": "https://ci.example.com/1",
                                  "description": "The build succeeded!", "context": "secretsync"})
        self.assertEqual(st, 201)
        self.assertShape(body, STATUS)
        self.assertEqual((body["state"], body["context"], body["description"]),
                         ("success", "secretsync", "The build succeeded!"))
        self.assertEqual(body["creator"]["login"], "github-actions[bot]")
        self.assertEqual(body["creator"]["type"], "Bot")
        self.assertRegex(body["created_at"], ISO)
        self.assertEqual(hdrs["Content-Type"], "application/json; charset=utf-8")
        self.assertTrue(body["url"].endswith("/repos/octo/app/statuses/" + SHA))
        st, _, lst = request("GET", MAIN.url + "/repos/octo/app/commits/%s/statuses" % SHA)
        self.assertEqual(st, 200)
        self.assertEqual([s["id"] for s in lst], [body["id"]])
        request("POST", MAIN.url + "/repos/octo/app/statuses/" + SHA, {"state": "failure", "context": "secretsync"})
        st, _, lst = request("GET", MAIN.url + "/repos/octo/app/commits/%s/statuses" % SHA)
        self.assertEqual([s["state"] for s in lst], ["failure", "success"])  # newest first
        st, _, comb = request("GET", MAIN.url + "/repos/octo/app/commits/%s/status" % SHA)
        self.assertShape(comb, COMBINED)
        self.assertEqual((comb["state"], comb["total_count"]), ("failure", 1))
        self.assertEqual(st, 200)

    def test_context_defaults_and_unicode_length(self):
        st, _, body = request("POST", MAIN.url + "/repos/octo/app/statuses/" + SHA, {"state": "pending"})
        self.assertEqual((st, body["context"], body["description"]), (201, "default", None))
        desc = "\u00e9" * 140  # 140 characters, 280 UTF-8 bytes: GitHub counts characters
        st, _, body = request("POST", MAIN.url + "/repos/octo/app/statuses/" + SHA,
                              {"state": "success", "description": desc})
        self.assertEqual((st, body["description"]), (201, desc))

    def test_validation_errors(self):
        st, _, body = request("POST", MAIN.url + "/repos/octo/app/statuses/" + SHA,
                              {"state": "success", "description": "x" * 141})
        self.assertEqual(st, 422)
        self.assertShape(body, VALIDATION_ERROR)
        self.assertEqual(body["message"], "Validation Failed")
        self.assertEqual(body["errors"], [{"resource": "Status", "code": "custom", "field": "description",
                                           "message": "description is too long (maximum is 140 characters)"}])
        self.assertTrue(body["documentation_url"].startswith("https://docs.github.com/rest"))
        st, _, body = request("POST", MAIN.url + "/repos/octo/app/statuses/" + SHA, {"state": "done"})
        self.assertEqual((st, body["errors"][0]["field"], body["errors"][0]["code"]), (422, "state", "invalid"))
        st, _, body = request("POST", MAIN.url + "/repos/octo/app/statuses/" + SHA, {"description": "x"})
        self.assertEqual((st, body["errors"][0]["code"]), (422, "missing_field"))
        st, _, body = request("POST", MAIN.url + "/repos/octo/app/statuses/" + SHA, b"{not json")
        self.assertEqual((st, body["message"]), (400, "Problems parsing JSON"))
        st, _, body = request("POST", MAIN.url + "/repos/octo/app/statuses/nothex", {"state": "success"})
        self.assertEqual((st, body["message"]), (422, "No commit found for SHA: nothex"))
        # the newer one-string errors form, and a known-commits list
        st, _, body = request("POST", GHES.url + "/api/v3/repos/octo/app/statuses/" + SHA,
                              {"state": "success", "description": "y" * 141})
        self.assertEqual(st, 422)
        self.assertEqual(body["errors"], "Validation failed: Description is too long (maximum is 140 characters)")
        st, _, body = request("POST", GHES.url + "/api/v3/repos/octo/app/statuses/" + HEAD_SHA, {"state": "success"})
        self.assertEqual(st, 422)

    def test_readonly_token_cannot_write(self):
        st, _, body = request("POST", MAIN.url + "/repos/octo/app/statuses/" + SHA, {"state": "success"},
                              token="ghs_readonly_token")
        self.assertEqual((st, body["message"]), (403, "Resource not accessible by integration"))
        self.assertShape(body, BASIC_ERROR)


class Comments(Base):
    def test_list_documented_shape_and_pagination(self):
        for i in range(4):
            st, _, _ = request("POST", MAIN.url + "/repos/octo/app/issues/7/comments", {"body": "extra %d" % i})
            self.assertEqual(st, 201)
        st, hdrs, page1 = request("GET", MAIN.url + "/repos/octo/app/issues/7/comments?per_page=2")
        self.assertEqual(st, 200)
        for c in page1:
            self.assertShape(c, ISSUE_COMMENT)
            self.assertRegex(c["created_at"], ISO)
        links = self.links(hdrs)
        self.assertEqual(sorted(links), ["last", "next"])
        self.assertTrue(links["next"].endswith("/repos/octo/app/issues/7/comments?per_page=2&page=2"))
        self.assertTrue(links["last"].endswith("page=4"))
        seen = [c["id"] for c in page1]
        url = links["next"]
        pages = 1
        while url:
            st, hdrs, page = request("GET", url)
            self.assertEqual(st, 200)
            seen += [c["id"] for c in page]
            pages += 1
            lk = self.links(hdrs)
            self.assertIn("prev", lk)
            self.assertIn("first", lk)
            url = lk.get("next")
        self.assertEqual(pages, 4)
        self.assertEqual(len(seen), 7)
        self.assertEqual(seen, sorted(seen))  # oldest first
        self.assertGreater(seen[0], 2 ** 31)  # ids past 32 bits, as on github.com today
        # GitHub's order of rels on a middle page
        _, hdrs, _ = request("GET", MAIN.url + "/repos/octo/app/issues/7/comments?per_page=2&page=2")
        self.assertEqual([m.group(2) for m in LINK.finditer(hdrs["Link"])], ["prev", "next", "last", "first"])
        # per_page is capped at 100 and defaults to 30: one page, no Link
        _, hdrs, lst = request("GET", MAIN.url + "/repos/octo/app/issues/7/comments?per_page=500")
        self.assertEqual((len(lst), hdrs.get("Link")), (7, None))
        _, _, lst = request("GET", MAIN.url + "/repos/octo/app/issues/7/comments?page=9")
        self.assertEqual(lst, [])

    def test_repositories_link_style_and_ghes_prefix(self):
        st, hdrs, page = request("GET", GHES.url + "/api/v3/repos/octo/app/issues/7/comments?per_page=3")
        self.assertEqual((st, len(page)), (200, 3))
        nxt = self.links(hdrs)["next"]
        self.assertEqual(nxt, GHES.url + "/api/v3/repositories/4242/issues/7/comments?per_page=3&page=2")
        st, _, page2 = request("GET", nxt)
        self.assertEqual([c["body"] for c in page2], ["c3", "c4", "c5"])
        self.assertEqual(request("GET", GHES.url + "/repos/octo/app/pulls/7")[0], 404)  # no prefix

    def test_create_update_delete(self):
        st, hdrs, c = request("POST", MAIN.url + "/repos/octo/app/issues/7/comments",
                              {"body": "<!-- secretsync:plan -->\nnew plan"})
        self.assertEqual(st, 201)
        self.assertShape(c, ISSUE_COMMENT)
        self.assertEqual((c["user"]["login"], c["user"]["type"], c["user"]["id"]),
                         ("github-actions[bot]", "Bot", 41898282))
        self.assertEqual(hdrs["Location"], c["url"])
        self.assertTrue(c["html_url"].endswith("/octo/app/pull/7#issuecomment-%d" % c["id"]))
        st, _, u = request("PATCH", MAIN.url + "/repos/octo/app/issues/comments/%d" % c["id"], {"body": "edited"})
        self.assertEqual((st, u["body"], u["id"]), (200, "edited", c["id"]))
        self.assertShape(u, ISSUE_COMMENT)
        st, _, g = request("GET", MAIN.url + "/repos/octo/app/issues/comments/%d" % c["id"])
        self.assertEqual((st, g["body"]), (200, "edited"))
        self.assertEqual(self.state()["comments"]["7"][-1]["body"], "edited")
        st, _, _ = request("DELETE", MAIN.url + "/repos/octo/app/issues/comments/%d" % c["id"])
        self.assertEqual(st, 204)
        st, _, body = request("PATCH", MAIN.url + "/repos/octo/app/issues/comments/%d" % c["id"], {"body": "x"})
        self.assertEqual((st, body["message"]), (404, "Not Found"))
        # app and user tokens write as themselves
        _, _, a = request("POST", MAIN.url + "/repos/octo/app/issues/8/comments", {"body": "a"}, token="ghs_app_token")
        self.assertEqual((a["user"]["login"], a["user"]["type"]), ("secretsync-app[bot]", "Bot"))
        _, _, u = request("POST", MAIN.url + "/repos/octo/app/issues/8/comments", {"body": "u"}, token="ghp_alice_token")
        self.assertEqual((u["user"]["login"], u["user"]["type"]), ("alice", "User"))
        self.assertTrue(u["html_url"].endswith("/octo/app/issues/8#issuecomment-%d" % u["id"]))

    def test_body_limits(self):
        st, _, c = request("POST", MAIN.url + "/repos/octo/app/issues/7/comments", {"body": "z" * 65536})
        self.assertEqual(st, 201)
        st, _, body = request("POST", MAIN.url + "/repos/octo/app/issues/7/comments", {"body": "z" * 65537})
        self.assertEqual(st, 422)
        self.assertShape(body, VALIDATION_ERROR)
        self.assertEqual(body["errors"][0]["message"], "body is too long (maximum is 65536 characters)")
        st, _, body = request("PATCH", MAIN.url + "/repos/octo/app/issues/comments/%d" % c["id"],
                              {"body": "z" * 65537})
        self.assertEqual(st, 422)
        st, _, body = request("POST", MAIN.url + "/repos/octo/app/issues/7/comments", {"body": ""})
        self.assertEqual((st, body["errors"][0]["code"]), (422, "missing_field"))
        st, _, body = request("POST", MAIN.url + "/repos/octo/app/issues/999/comments", {"body": "x"})
        self.assertEqual((st, body["message"]), (404, "Not Found"))


class PullsUsersAuth(Base):
    def test_get_pull_documented_shape(self):
        st, _, pr = request("GET", MAIN.url + "/repos/octo/app/pulls/7")
        self.assertEqual(st, 200)
        self.assertShape(pr, PULL)
        self.assertEqual((pr["number"], pr["state"], pr["head"]["sha"], pr["head"]["ref"], pr["base"]["ref"]),
                         (7, "open", HEAD_SHA, "feature/x", "main"))
        self.assertEqual(pr["head"]["repo"]["full_name"], "octo/app")
        st, _, body = request("GET", MAIN.url + "/repos/octo/app/pulls/8")
        self.assertEqual((st, body["message"]), (404, "Not Found"))
        st, _, body = request("GET", MAIN.url + "/repos/octo/other/pulls/7")
        self.assertEqual(st, 404)

    def test_user_endpoint(self):
        st, _, body = request("GET", MAIN.url + "/user")
        self.assertEqual((st, body["message"]), (403, "Resource not accessible by integration"))
        self.assertEqual(body["documentation_url"],
                         "https://docs.github.com/rest/users/users#get-the-authenticated-user")
        st, _, body = request("GET", MAIN.url + "/user", token="ghp_alice_token")
        self.assertEqual((st, body["login"], body["type"]), (200, "alice", "User"))
        self.assertShape(body, SIMPLE_USER)
        st, _, body = request("GET", MAIN.url + "/user", token=None)
        self.assertEqual((st, body["message"]), (401, "Requires authentication"))

    def test_user_agent_and_credentials(self):
        st, hdrs, body = request("GET", MAIN.url + "/repos/octo/app/pulls/7", ua=None)
        self.assertEqual(st, 403)
        self.assertIn("User-Agent", body)
        self.assertTrue(hdrs["Content-Type"].startswith("text/plain"))
        st, _, body = request("GET", MAIN.url + "/repos/octo/app/pulls/7", token="ghp_wrong")
        self.assertEqual(st, 401)
        self.assertEqual((body["message"], body["documentation_url"]), ("Bad credentials", "https://docs.github.com/rest"))
        st, _, _ = request("GET", MAIN.url + "/repos/octo/app/pulls/7",
                           headers={"Authorization": "token " + ACTIONS})  # the older scheme works too
        self.assertEqual(st, 200)
        st, _, _ = request("GET", MAIN.url + "/repos/octo/app/pulls/7", token=None)
        self.assertEqual(st, 404)  # private repository, anonymous
        st, _, _ = request("GET", GHES.url + "/api/v3/repos/octo/app/pulls/7", token=None)
        self.assertEqual(st, 200)  # public repository, anonymous
        st, _, body = request("POST", MAIN.url + "/repos/octo/app/issues/7/comments", {"body": "x"}, token=None)
        self.assertEqual((st, body["message"]), (401, "Requires authentication"))
        st, _, body = request("GET", MAIN.url + "/repos/octo/app/pulls/7",
                              headers={"X-GitHub-Api-Version": "1999-01-01"})
        self.assertEqual(st, 400)

    def test_rate_limit_headers(self):
        st, h1, _ = request("GET", MAIN.url + "/repos/octo/app/pulls/7")
        st, h2, _ = request("GET", MAIN.url + "/repos/octo/app/pulls/7")
        for h in (h1, h2):
            for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
                         "X-RateLimit-Used", "X-RateLimit-Resource"):
                self.assertIn(name, h)
        self.assertEqual(int(h1["X-RateLimit-Remaining"]) - 1, int(h2["X-RateLimit-Remaining"]))
        self.assertGreater(int(h1["X-RateLimit-Reset"]), time.time())
        for _ in range(3):
            st, h, body = request("GET", GHES.url + "/api/v3/repos/octo/app/pulls/7")
        self.assertEqual(st, 200)
        st, h, body = request("GET", GHES.url + "/api/v3/repos/octo/app/pulls/7")
        self.assertEqual((st, h["X-RateLimit-Remaining"]), (403, "0"))
        self.assertTrue(body["message"].startswith("API rate limit exceeded"))

    def test_keep_alive(self):
        conn = http.client.HTTPConnection("127.0.0.1", MAIN.port, timeout=10)
        try:
            sock = None
            for _ in range(3):
                conn.request("GET", "/repos/octo/app/pulls/7",
                             headers={"User-Agent": "t", "Authorization": "Bearer " + ACTIONS})
                resp = conn.getresponse()
                raw = resp.read()
                self.assertEqual(resp.status, 200)
                self.assertEqual(int(resp.getheader("Content-Length")), len(raw))
                sock = sock or conn.sock
                self.assertIs(conn.sock, sock)
        finally:
            conn.close()

    def test_state_and_faults(self):
        request("POST", MAIN.url + "/repos/octo/app/statuses/" + SHA, {"state": "success"})
        st, _, _ = request("POST", MAIN.url + "/_emu/fault",
                           {"path": "/pulls/7$", "status": 502, "count": 1, "body": "bad gateway"}, token=None)
        self.assertEqual(st, 200)
        self.assertEqual(request("GET", MAIN.url + "/repos/octo/app/pulls/7")[0], 502)
        self.assertEqual(request("GET", MAIN.url + "/repos/octo/app/pulls/7")[0], 200)
        s = self.state()
        self.assertEqual(s["statuses"][SHA][0]["state"], "success")
        self.assertEqual(s["requests"]["POST /repos/{o}/{r}/statuses/{sha}"], 1)
        self.assertEqual(s["requests"]["GET /repos/{o}/{r}/pulls/{n}"], 1)
        self.assertNotIn(ACTIONS, json.dumps(s))  # identities, never token strings
        self.assertEqual(s["rate_limit"]["actions:github-actions[bot]"], 998)  # the injected 502 never reached the API


class Oidc(Base):
    def token(self, inst, audience=None, bearer="oidc-request-token"):
        url = inst.url + "/_apis/oidc/token?api-version=2.0"
        if audience is not None:
            url += "&audience=" + urllib.request.quote(audience, safe="")
        return request("GET", url, token=bearer, ua=None)

    def test_token_verifies_against_jwks_with_documented_claims(self):
        st, _, conf = request("GET", MAIN.url + "/.well-known/openid-configuration", token=None)
        self.assertEqual(st, 200)
        self.assertEqual(conf["issuer"], MAIN.url)
        self.assertEqual(conf["jwks_uri"], MAIN.url + "/.well-known/jwks")
        self.assertIn("RS256", conf["id_token_signing_alg_values_supported"])
        st, _, jwks = request("GET", conf["jwks_uri"], token=None)
        self.assertEqual(st, 200)
        self.assertEqual(jwks["keys"][0]["kty"], "RSA")
        st, _, body = self.token(MAIN, "sts.amazonaws.com")
        self.assertEqual((st, list(body)), (200, ["value"]))
        tok = body["value"]
        claims = jwtlib.verify(tok, jwks, audience="sts.amazonaws.com", issuer=MAIN.url)
        header, _ = jwtlib.decode_unverified(tok)
        self.assertEqual((header["alg"], header["typ"]), ("RS256", "JWT"))
        self.assertEqual(header["kid"], jwks["keys"][0]["kid"])
        for name in ("jti", "sub", "aud", "ref", "sha", "repository", "repository_owner", "repository_id",
                     "repository_owner_id", "run_id", "run_number", "run_attempt", "actor", "actor_id",
                     "workflow", "workflow_ref", "job_workflow_ref", "event_name", "ref_type",
                     "repository_visibility", "runner_environment"):
            self.assertIsInstance(claims[name], str, name)
        for name in ("iat", "nbf", "exp"):
            self.assertIsInstance(claims[name], int, name)
        self.assertEqual(claims["sub"], "repo:octo/app:ref:refs/heads/main")
        self.assertEqual((claims["repository"], claims["repository_owner"]), ("octo/app", "octo"))
        self.assertEqual(claims["sha"], SHA)
        self.assertEqual(claims["exp"] - claims["iat"], 300)
        self.assertLessEqual(claims["nbf"], claims["iat"])
        self.assertNotIn("environment", claims)
        self.assertTrue(claims["job_workflow_ref"].startswith("octo/app/.github/workflows/"))
        with self.assertRaises(jwtlib.JWTError):
            jwtlib.verify(tok, jwks, audience="vault")
        with self.assertRaises(jwtlib.JWTError):
            jwtlib.verify(tok, jwks, now=claims["exp"] + 1)
        with self.assertRaises(jwtlib.JWTError):
            jwtlib.verify(tok[:-4] + ("AAAA" if not tok.endswith("AAAA") else "BBBB"), jwks)
        # an independent RSA implementation agrees, when one is installed
        try:
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import padding, rsa
        except ImportError:
            return
        jwk = jwks["keys"][0]
        pub = rsa.RSAPublicNumbers(int.from_bytes(jwtlib.b64url_decode(jwk["e"]), "big"),
                                   int.from_bytes(jwtlib.b64url_decode(jwk["n"]), "big")).public_key()
        signing_input, _, sig = tok.rpartition(".")
        pub.verify(jwtlib.b64url_decode(sig), signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())

    def test_default_audience_environment_subject_and_auth(self):
        st, _, body = self.token(MAIN)
        claims = jwtlib.decode_unverified(body["value"])[1]
        self.assertEqual(claims["aud"], "https://github.com/octo")
        st, _, body = self.token(GHES, "vault")
        claims = jwtlib.decode_unverified(body["value"])[1]
        self.assertEqual((claims["sub"], claims["environment"]), ("repo:octo/app:environment:production", "production"))
        self.assertEqual(claims["exp"] - claims["iat"], 60)
        st, _, body = self.token(MAIN, "vault", bearer=None)
        self.assertEqual(st, 401)
        st, _, body = self.token(MAIN, "vault", bearer="wrong")
        self.assertEqual(st, 403)
        self.assertEqual(self.state()["oidc_tokens_issued"], 1)

    def test_jwtlib_rejects_bad_tokens(self):
        key = jwtlib.generate_key(1024)
        now = int(time.time())
        good = jwtlib.sign({"iss": "i", "aud": ["a", "b"], "exp": now + 60, "nbf": now - 1}, key)
        self.assertEqual(jwtlib.verify(good, key, audience="b", issuer="i")["iss"], "i")
        with self.assertRaises(jwtlib.JWTError):
            jwtlib.verify(good, key, issuer="other")
        with self.assertRaises(jwtlib.JWTError):
            jwtlib.verify(jwtlib.sign({"nbf": now + 600}, key), key)
        h, c = jwtlib.decode_unverified(good)
        none_alg = "%s.%s." % (jwtlib.b64url_encode(json.dumps({"alg": "none"})),
                               jwtlib.b64url_encode(json.dumps(c)))
        with self.assertRaises(jwtlib.JWTError):
            jwtlib.verify(none_alg, key)
        with self.assertRaises(jwtlib.JWTError):
            jwtlib.verify("a.b", key)
        other = jwtlib.generate_key(1024)
        with self.assertRaises(jwtlib.JWTError):
            jwtlib.verify(good, other)
        path = os.path.join(TMP.name, "k2.json")
        jwtlib.save_key(key, path)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        self.assertEqual(jwtlib.verify(good, jwtlib.load_key(path))["aud"], ["a", "b"])


if __name__ == "__main__":
    unittest.main()
