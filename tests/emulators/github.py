#!/usr/bin/env python3
"""A GitHub emulator for the integration tests (stdlib only).

The REST routes secretsync uses (commit statuses, issue comments, pull
requests, /user) with GitHub's headers, pagination and error shapes, and the
Actions OIDC ID-token service with its discovery documents. See
VAULT_GITHUB.md beside this file for every route, knob and the fixture
format.

    python3 github.py --port 0 --fixture FILE --jwt-key KEYFILE [--log FILE]
"""

import argparse
import base64
import copy
import json
import os
import re
import secrets
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlencode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jwtlib  # noqa: E402

MAX_BODY = 25 * 1024 * 1024
DOCS = "https://docs.github.com/rest"
API_VERSIONS = ("2022-11-28", "2026-03-10")
ACTIONS_BOT = {"login": "github-actions[bot]", "id": 41898282}
ACTIONS_APP = {"id": 15368, "slug": "github-actions", "node_id": "MDM6QXBwMTUzNjg=",
               "name": "GitHub Actions", "description": "Automate your workflow from idea to production",
               "external_url": "https://help.github.com/en/actions", "html_url": "https://github.com/apps/github-actions",
               "created_at": "2018-07-30T09:30:17Z", "updated_at": "2019-12-10T19:04:12Z"}
NO_UA = ("Request forbidden by administrative rules. Please make sure your request has a "
         "User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). "
         "Check https://developer.github.com for other possible causes.\n")
STATES = ("error", "failure", "pending", "success")
OIDC_CLAIMS = ["sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "sha", "repository",
               "repository_id", "repository_owner", "repository_owner_id", "enterprise",
               "enterprise_id", "run_id", "run_number", "run_attempt", "actor", "actor_id",
               "workflow", "workflow_ref", "workflow_sha", "head_ref", "base_ref", "event_name",
               "ref_type", "ref_protected", "environment", "environment_node_id",
               "job_workflow_ref", "job_workflow_sha", "repository_visibility",
               "runner_environment", "check_run_id"]


def _iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _node_id(kind, num):
    return base64.b64encode(("0%d:%s%d" % (len(kind), kind, num)).encode()).decode()


class GHError(Exception):
    def __init__(self, status, message, doc=DOCS, errors=None, headers=None):
        Exception.__init__(self, message)
        self.status = status
        self.message = message
        self.doc = doc
        self.errors = errors
        self.headers = headers or {}


def _doc(anchor):
    return DOCS + "/" + anchor


# ------------------------------------------------------------------- world

class World:
    def __init__(self, fixture_path, key, port):
        self.fixture_path = fixture_path
        self.key = key
        self.port = port
        self.lock = threading.RLock()
        self.load()

    def load(self):
        with open(self.fixture_path) as f:
            fx = json.load(f).get("github", {}) or {}
        self.fx = fx
        now = time.time()
        self.repository = fx.get("repository", "octo/app")
        self.owner, _, self.repo = self.repository.partition("/")
        self.repo_id = int(fx.get("repository_id", 4242))
        self.owner_id = int(fx.get("owner_id", 4200))
        self.public = bool(fx.get("public", False))
        self.prefix = (fx.get("path_prefix") or "").rstrip("/")
        self.api_url = fx.get("api_url")
        self.link_style = fx.get("link_style", "repos")
        self.validation_style = fx.get("validation_errors", "objects")
        self.tokens = copy.deepcopy(fx.get("tokens", {}))
        self.users = copy.deepcopy(fx.get("users", {}))
        self.commits = fx.get("commits")
        self.pulls = {str(k): v for k, v in copy.deepcopy(fx.get("pulls", {})).items()}
        self.issues = set(str(i) for i in fx.get("issues", [])) | set(self.pulls)
        self.next_comment_id = int(fx.get("next_comment_id", 2200000001))
        self.next_status_id = int(fx.get("next_status_id", 30000000001))
        self.comments = {}
        for num, lst in fx.get("comments", {}).items():
            self.issues.add(str(num))
            self.comments[str(num)] = []
            for c in lst:
                cid = int(c.get("id") or self.next_comment_id)
                self.next_comment_id = max(self.next_comment_id, cid + 1)
                self.comments[str(num)].append({"id": cid, "body": c.get("body", ""),
                                                "user": c.get("user", "alice"),
                                                "created": now, "updated": now})
        self.statuses = {}
        for sha, lst in fx.get("statuses", {}).items():
            for st in lst:
                self.add_status(sha, st, "alice" if not st.get("creator") else st["creator"], now)
        rl = fx.get("rate_limit") or {}
        self.rate_limit = int(rl.get("limit", 5000))
        self.rate_initial = int(rl.get("remaining", self.rate_limit))
        self.rate_reset = int(now + int(rl.get("reset_in", 3600)))
        self.rate_left = {}
        oidc = fx.get("oidc") or {}
        self.oidc = oidc
        self.oidc_issued = 0
        self.wrong_key = None
        self.requests = {}
        self.requests_total = 0
        self.request_log = []
        self.faults = []

    def add_status(self, sha, st, creator, now):
        sid = self.next_status_id
        self.next_status_id += 1
        rec = {"id": sid, "state": st.get("state"), "description": st.get("description"),
               "target_url": st.get("target_url"), "context": st.get("context") or "default",
               "creator": creator, "created": now, "updated": now}
        self.statuses.setdefault(sha.lower(), []).insert(0, rec)
        return rec

    def count(self, label, entry):
        self.requests[label] = self.requests.get(label, 0) + 1
        self.requests_total += 1
        self.request_log.append(entry)
        if len(self.request_log) > 500:
            del self.request_log[:100]

    def state(self):
        return {"comments": {n: [{"id": c["id"], "body": c["body"], "user": c["user"],
                                  "created_at": _iso(c["created"]), "updated_at": _iso(c["updated"])}
                                 for c in lst] for n, lst in self.comments.items()},
                "statuses": {sha: [{"id": s["id"], "state": s["state"], "description": s["description"],
                                    "target_url": s["target_url"], "context": s["context"],
                                    "creator": s["creator"]} for s in lst]
                             for sha, lst in self.statuses.items()},
                "requests": dict(sorted(self.requests.items())), "requests_total": self.requests_total,
                "request_log": list(self.request_log),
                "rate_limit": self.rate_state(), "oidc_tokens_issued": self.oidc_issued}

    def rate_state(self):
        """Remaining requests by identity (never by token string)."""
        out = {}
        for rk, left in self.rate_left.items():
            tok = self.tokens.get(rk)
            if tok is not None:
                login, kind = self.identity(tok)
                rk = "%s:%s" % (kind, login)
            out[rk] = left
        return out

    # -- identities
    def user_id(self, login):
        if login == ACTIONS_BOT["login"]:
            return ACTIONS_BOT["id"]
        u = self.users.get(login) or {}
        if "id" in u:
            return int(u["id"])
        return 100000 + (sum(ord(c) * (i + 1) for i, c in enumerate(login)) % 900000)

    def user_obj(self, login, api):
        uid = self.user_id(login)
        bot = login.endswith("[bot]")
        kind = "Bot" if bot else (self.users.get(login, {}).get("type") or "User")
        q = quote(login)
        url = "%s/users/%s" % (api, q)
        if login == ACTIONS_BOT["login"]:
            avatar, html = "https://avatars.githubusercontent.com/in/15368?v=4", "https://github.com/apps/github-actions"
        elif bot:
            avatar = "https://avatars.githubusercontent.com/in/%d?v=4" % uid
            html = "https://github.com/apps/%s" % login[:-5]
        else:
            avatar, html = "https://avatars.githubusercontent.com/u/%d?v=4" % uid, "https://github.com/%s" % login
        return {"login": login, "id": uid, "node_id": _node_id(kind if kind != "Organization" else "Organization", uid),
                "avatar_url": avatar, "gravatar_id": "", "url": url, "html_url": html,
                "followers_url": url + "/followers", "following_url": url + "/following{/other_user}",
                "gists_url": url + "/gists{/gist_id}", "starred_url": url + "/starred{/owner}{/repo}",
                "subscriptions_url": url + "/subscriptions", "organizations_url": url + "/orgs",
                "repos_url": url + "/repos", "events_url": url + "/events{/privacy}",
                "received_events_url": url + "/received_events", "type": kind,
                "user_view_type": "public", "site_admin": False}

    def identity(self, tok):
        """(login, kind) for a token record."""
        kind = tok.get("kind", "actions")
        if kind == "actions":
            return ACTIONS_BOT["login"], kind
        return tok.get("login") or ("app[bot]" if kind == "app" else "user"), kind


# ------------------------------------------------------------------ routes

class GitHub:
    """Request logic; every call holds world.lock."""

    def __init__(self, world):
        self.w = world

    def api_base(self, host):
        w = self.w
        if w.api_url:
            return w.api_url.rstrip("/")
        return "http://%s%s" % (host or "127.0.0.1:%d" % w.port, w.prefix)

    def repo_obj(self, api):
        w = self.w
        full = w.repository
        url = "%s/repos/%s" % (api, full)
        owner = w.user_obj(w.owner, api)
        owner["id"] = w.owner_id
        owner["node_id"] = _node_id("Organization", w.owner_id)
        owner["type"] = "Organization"
        return {"id": w.repo_id, "node_id": _node_id("Repository", w.repo_id), "name": w.repo,
                "full_name": full, "private": not w.public, "owner": owner,
                "html_url": "https://github.com/%s" % full, "description": None, "fork": False,
                "url": url, "statuses_url": url + "/statuses/{sha}",
                "comments_url": url + "/comments{/number}", "issues_url": url + "/issues{/number}",
                "pulls_url": url + "/pulls{/number}", "default_branch": "main",
                "visibility": "public" if w.public else "private", "archived": False, "disabled": False}

    # -- auth
    def authenticate(self, headers):
        """(token_key, token_record or None); raises 401 on a bad token."""
        auth = headers.get("Authorization", "")
        if not auth:
            return None, None
        scheme, _, value = auth.partition(" ")
        value = value.strip()
        if scheme.lower() not in ("token", "bearer") or not value:
            raise GHError(401, "Bad credentials", DOCS)
        tok = self.w.tokens.get(value)
        if tok is None:
            raise GHError(401, "Bad credentials", DOCS)
        return value, tok

    def rate(self, key, tok, ip):
        w = self.w
        rk = key if key else "anon:" + ip
        limit = w.rate_limit if key else 60
        left = w.rate_left.get(rk, w.rate_initial if key else 60)
        hdr = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Reset": str(w.rate_reset),
               "X-RateLimit-Resource": "core"}
        if left <= 0:
            hdr.update({"X-RateLimit-Remaining": "0", "X-RateLimit-Used": str(limit)})
            if not key:
                who = "%s. (But here's the good news: Authenticated requests get a higher rate limit. " \
                      "Check out the documentation for more details.)" % ip
            elif tok.get("kind") == "user":
                who = "user ID %d." % w.user_id(tok.get("login", "user"))
            else:
                who = "installation ID %d." % (w.repo_id * 10 + 7)
            raise GHError(403, "API rate limit exceeded for " + who,
                          "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api",
                          headers=hdr)
        left -= 1
        w.rate_left[rk] = left
        hdr.update({"X-RateLimit-Remaining": str(left), "X-RateLimit-Used": str(limit - left)})
        return hdr

    def need_write(self, tok, perms, doc):
        if tok is None:
            raise GHError(401, "Requires authentication", doc)
        if tok.get("kind") in ("actions", "app"):
            p = tok.get("permissions") or {}
            if not any(p.get(x, "write") == "write" for x in perms):
                raise GHError(403, "Resource not accessible by integration", doc)

    # -- dispatch
    def handle(self, method, path, query, body, headers, host, ip, info):
        """(status, obj, extra headers). path has the prefix removed."""
        if not headers.get("User-Agent"):
            info["label"] = "no user-agent"
            return 403, NO_UA, {"Content-Type": "text/plain; charset=utf-8"}
        ver = headers.get("X-GitHub-Api-Version")
        key, tok = self.authenticate(headers)
        hdr = self.rate(key, tok, ip)
        if ver and ver not in API_VERSIONS:
            raise GHError(400, "API version %s is not supported." % ver,
                          "https://docs.github.com/rest/about-the-rest-api/api-versions", headers=hdr)
        hdr["X-GitHub-Api-Version-Selected"] = ver or API_VERSIONS[0]
        api = self.api_base(host)
        try:
            st, obj, more = self.route(method, path, query, body, tok, api, info)
        except GHError as exc:
            exc.headers = dict(hdr, **exc.headers)
            raise
        hdr.update(more or {})
        return st, obj, hdr

    def route(self, method, path, query, body, tok, api, info):
        w = self.w
        if path in ("/user", "/user/"):
            info["label"] = "%s /user" % method
            doc = _doc("users/users#get-the-authenticated-user")
            if method != "GET":
                raise GHError(404, "Not Found", doc)
            if tok is None:
                raise GHError(401, "Requires authentication", doc)
            if tok.get("kind") != "user":
                raise GHError(403, "Resource not accessible by integration", doc)
            u = w.user_obj(tok.get("login", "user"), api)
            u.update({"name": tok.get("name"), "email": None, "public_repos": 1})
            return 200, u, None
        m = re.match(r"/repos/([^/]+)/([^/]+)(/.*)?\Z", path)
        if m:
            owner, repo, rest = m.group(1), m.group(2), m.group(3) or ""
            if ("%s/%s" % (owner, repo)).lower() != w.repository.lower():
                info["label"] = "%s /repos/{other}" % method
                raise GHError(404, "Not Found", DOCS)
        else:
            m = re.match(r"/repositories/(\d+)(/.*)?\Z", path)
            if not m:
                info["label"] = "%s ?" % method
                raise GHError(404, "Not Found", DOCS)
            if int(m.group(1)) != w.repo_id:
                info["label"] = "%s /repositories/{other}" % method
                raise GHError(404, "Not Found", DOCS)
            rest = m.group(2) or ""
        if tok is None and not w.public and method == "GET":
            info["label"] = "%s /repos/{o}/{r} (anonymous)" % method
            raise GHError(404, "Not Found", DOCS)
        return self.repo_route(method, rest, query, body, tok, api, info)

    def repo_route(self, method, rest, query, body, tok, api, info):
        w = self.w
        repo_url = "%s/repos/%s" % (api, w.repository)
        m = re.match(r"/statuses/([^/]+)\Z", rest)
        if m:
            sha = m.group(1)
            if method == "POST":
                info["label"] = "POST /repos/{o}/{r}/statuses/{sha}"
                return self.create_status(sha, body, tok, api, repo_url)
            if method == "GET":
                info["label"] = "GET /repos/{o}/{r}/statuses/{ref}"
                return self.list_statuses(sha, query, api, repo_url, rest)
        m = re.match(r"/commits/([^/]+)/statuses\Z", rest)
        if m and method == "GET":
            info["label"] = "GET /repos/{o}/{r}/commits/{ref}/statuses"
            return self.list_statuses(m.group(1), query, api, repo_url, rest)
        m = re.match(r"/commits/([^/]+)/status\Z", rest)
        if m and method == "GET":
            info["label"] = "GET /repos/{o}/{r}/commits/{ref}/status"
            return self.combined_status(m.group(1), api, repo_url)
        m = re.match(r"/issues/(\d+)/comments\Z", rest)
        if m:
            num = str(int(m.group(1)))
            if method == "GET":
                info["label"] = "GET /repos/{o}/{r}/issues/{n}/comments"
                return self.list_comments(num, query, api, repo_url, rest)
            if method == "POST":
                info["label"] = "POST /repos/{o}/{r}/issues/{n}/comments"
                return self.create_comment(num, body, tok, api, repo_url)
        m = re.match(r"/issues/comments/(\d+)\Z", rest)
        if m:
            cid = int(m.group(1))
            info["label"] = "%s /repos/{o}/{r}/issues/comments/{id}" % method
            if method in ("GET", "PATCH", "DELETE"):
                return self.comment_op(method, cid, body, tok, api, repo_url)
        m = re.match(r"/pulls/(\d+)\Z", rest)
        if m and method == "GET":
            info["label"] = "GET /repos/{o}/{r}/pulls/{n}"
            return self.get_pull(str(int(m.group(1))), api, repo_url)
        if rest in ("", "/") and method == "GET":
            info["label"] = "GET /repos/{o}/{r}"
            return 200, self.repo_obj(api), None
        info["label"] = "%s /repos/{o}/{r}?" % method
        raise GHError(404, "Not Found", DOCS)

    # -- helpers
    @staticmethod
    def parse_body(body, doc):
        if not body:
            return {}
        try:
            obj = json.loads(body)
        except ValueError:
            raise GHError(400, "Problems parsing JSON", doc)
        if not isinstance(obj, dict):
            raise GHError(400, "Problems parsing JSON", doc)
        return obj

    def invalid(self, doc, resource, field, code, message=None):
        err = {"resource": resource, "code": code, "field": field}
        if message:
            err["message"] = message
        if self.w.validation_style == "string":
            text = "Validation failed: %s" % (message[:1].upper() + message[1:] if message
                                              else "%s is invalid" % field)
            raise GHError(422, "Validation Failed", doc, errors=text)
        raise GHError(422, "Validation Failed", doc, errors=[err])

    def paginate(self, items, query, path_rest, api):
        try:
            per_page = int(query.get("per_page", ["30"])[0])
        except ValueError:
            per_page = 30
        per_page = 30 if per_page < 1 else min(per_page, 100)
        try:
            page = int(query.get("page", ["1"])[0])
        except ValueError:
            page = 1
        page = max(page, 1)
        total = len(items)
        last = max(1, (total + per_page - 1) // per_page)
        chunk = items[(page - 1) * per_page: page * per_page]
        w = self.w
        if w.link_style == "repositories":
            base = "%s/repositories/%d%s" % (api, w.repo_id, path_rest)
        else:
            base = "%s/repos/%s%s" % (api, w.repository, path_rest)
        q = {k: v[0] for k, v in query.items() if k != "page"}

        def url(p):
            qq = dict(q)
            qq["page"] = str(p)
            return "<%s?%s>" % (base, urlencode(qq))
        rels = []
        if page > 1:
            rels.append('%s; rel="prev"' % url(min(page - 1, last)))
        if page < last:
            rels.append('%s; rel="next"' % url(page + 1))
            rels.append('%s; rel="last"' % url(last))
        if page > 1:
            rels.append('%s; rel="first"' % url(1))
        return chunk, ({"Link": ", ".join(rels)} if rels else {})

    # -- statuses
    def status_obj(self, sha, s, api, repo_url):
        creator = self.w.user_obj(s["creator"], api)
        return {"url": "%s/statuses/%s" % (repo_url, sha), "avatar_url": creator["avatar_url"],
                "id": s["id"], "node_id": _node_id("StatusContext", s["id"]), "state": s["state"],
                "description": s["description"], "target_url": s["target_url"], "context": s["context"],
                "created_at": _iso(s["created"]), "updated_at": _iso(s["updated"]), "creator": creator}

    def create_status(self, sha, body, tok, api, repo_url):
        doc = _doc("commits/statuses#create-a-commit-status")
        self.need_write(tok, ("statuses",), doc)
        obj = self.parse_body(body, doc)
        w = self.w
        if w.commits is not None:
            if sha.lower() not in [c.lower() for c in w.commits]:
                raise GHError(422, "No commit found for SHA: %s" % sha, doc)
        elif not re.match(r"[0-9a-fA-F]{7,40}\Z", sha):
            raise GHError(422, "No commit found for SHA: %s" % sha, doc)
        state = obj.get("state")
        if state is None:
            self.invalid(doc, "Status", "state", "missing_field")
        if state not in STATES:
            self.invalid(doc, "Status", "state", "invalid")
        desc = obj.get("description")
        if desc is not None and not isinstance(desc, str):
            self.invalid(doc, "Status", "description", "invalid")
        if desc is not None and len(desc) > 140:
            self.invalid(doc, "Status", "description", "custom",
                         "description is too long (maximum is 140 characters)")
        ctx = obj.get("context")
        if ctx is not None and (not isinstance(ctx, str) or not ctx.strip()):
            self.invalid(doc, "Status", "context", "invalid")
        login, _ = w.identity(tok)
        rec = w.add_status(sha, obj, login, time.time())
        return 201, self.status_obj(sha.lower(), rec, api, repo_url), \
            {"Location": "%s/statuses/%s" % (repo_url, sha)}

    def resolve_ref(self, ref):
        w = self.w
        if re.match(r"[0-9a-fA-F]{40}\Z", ref):
            return ref.lower()
        for p in w.pulls.values():
            if p.get("head_ref") == ref:
                return p.get("head_sha", "").lower()
        return ref.lower()

    def list_statuses(self, ref, query, api, repo_url, rest):
        sha = self.resolve_ref(ref)
        items = [self.status_obj(sha, s, api, repo_url) for s in self.w.statuses.get(sha, [])]
        chunk, hdr = self.paginate(items, query, rest, api)
        return 200, chunk, hdr

    def combined_status(self, ref, api, repo_url):
        sha = self.resolve_ref(ref)
        latest = {}
        for s in self.w.statuses.get(sha, []):
            latest.setdefault(s["context"].lower(), s)
        sts = [self.status_obj(sha, s, api, repo_url) for s in latest.values()]
        states = [s["state"] for s in latest.values()]
        if any(x in ("error", "failure") for x in states):
            state = "failure"
        elif not states or any(x == "pending" for x in states):
            state = "pending"
        else:
            state = "success"
        return 200, {"state": state, "statuses": sts, "sha": sha, "total_count": len(sts),
                     "repository": self.repo_obj(api), "commit_url": "%s/commits/%s" % (repo_url, sha),
                     "url": "%s/commits/%s/status" % (repo_url, sha)}, None

    # -- comments
    def find_comment(self, cid):
        for num, lst in self.w.comments.items():
            for c in lst:
                if c["id"] == cid:
                    return num, c
        return None, None

    def comment_obj(self, num, c, api, repo_url):
        w = self.w
        kind_path = "pull" if num in w.pulls else "issues"
        login = c["user"]
        assoc = "NONE" if login.endswith("[bot]") else ("OWNER" if login == w.owner else "CONTRIBUTOR")
        return {"url": "%s/issues/comments/%d" % (repo_url, c["id"]),
                "html_url": "https://github.com/%s/%s/%s#issuecomment-%d" % (w.repository, kind_path, num, c["id"]),
                "issue_url": "%s/issues/%s" % (repo_url, num),
                "id": c["id"], "node_id": _node_id("IssueComment", c["id"]),
                "user": w.user_obj(login, api),
                "created_at": _iso(c["created"]), "updated_at": _iso(c["updated"]),
                "author_association": assoc, "body": c["body"],
                "reactions": {"url": "%s/issues/comments/%d/reactions" % (repo_url, c["id"]),
                              "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0,
                              "confused": 0, "heart": 0, "rocket": 0, "eyes": 0},
                "performed_via_github_app": dict(ACTIONS_APP) if login == ACTIONS_BOT["login"] else None}

    def check_body(self, obj, doc):
        body = obj.get("body")
        if body is None or (isinstance(body, str) and body == ""):
            self.invalid(doc, "IssueComment", "body", "missing_field")
        if not isinstance(body, str):
            self.invalid(doc, "IssueComment", "body", "invalid")
        if len(body) > 65536:
            self.invalid(doc, "IssueComment", "body", "custom",
                         "body is too long (maximum is 65536 characters)")
        return body

    def list_comments(self, num, query, api, repo_url, rest):
        w = self.w
        if num not in w.issues:
            raise GHError(404, "Not Found", _doc("issues/comments#list-issue-comments"))
        items = [self.comment_obj(num, c, api, repo_url) for c in w.comments.get(num, [])]
        chunk, hdr = self.paginate(items, query, rest, api)
        return 200, chunk, hdr

    def create_comment(self, num, body, tok, api, repo_url):
        w = self.w
        doc = _doc("issues/comments#create-an-issue-comment")
        if num not in w.issues:
            if tok is None:
                raise GHError(401, "Requires authentication", doc)
            raise GHError(404, "Not Found", doc)
        self.need_write(tok, ("issues", "pull_requests"), doc)
        text = self.check_body(self.parse_body(body, doc), doc)
        login, _ = w.identity(tok)
        now = time.time()
        c = {"id": w.next_comment_id, "body": text, "user": login, "created": now, "updated": now}
        w.next_comment_id += 1
        w.comments.setdefault(num, []).append(c)
        obj = self.comment_obj(num, c, api, repo_url)
        return 201, obj, {"Location": obj["url"]}

    def comment_op(self, method, cid, body, tok, api, repo_url):
        w = self.w
        anchor = {"GET": "get-an-issue-comment", "PATCH": "update-an-issue-comment",
                  "DELETE": "delete-an-issue-comment"}[method]
        doc = _doc("issues/comments#" + anchor)
        num, c = self.find_comment(cid)
        if c is None:
            if method != "GET" and tok is None:
                raise GHError(401, "Requires authentication", doc)
            raise GHError(404, "Not Found", doc)
        if method == "GET":
            return 200, self.comment_obj(num, c, api, repo_url), None
        self.need_write(tok, ("issues", "pull_requests"), doc)
        if method == "DELETE":
            w.comments[num].remove(c)
            return 204, None, None
        text = self.check_body(self.parse_body(body, doc), doc)
        c["body"] = text
        c["updated"] = time.time()
        return 200, self.comment_obj(num, c, api, repo_url), None

    # -- pulls
    def get_pull(self, num, api, repo_url):
        w = self.w
        p = w.pulls.get(num)
        if p is None:
            raise GHError(404, "Not Found", _doc("pulls/pulls#get-a-pull-request"))
        pid = 1000000 + int(num)
        user = w.user_obj(p.get("user", "alice"), api)
        repo = self.repo_obj(api)
        head_sha = p.get("head_sha", "0" * 40)
        base_sha = p.get("base_sha", "f" * 40)
        state = p.get("state", "open")
        merged = bool(p.get("merged", False))
        url = "%s/pulls/%s" % (repo_url, num)

        def side(ref, sha):
            return {"label": "%s:%s" % (w.owner, ref), "ref": ref, "sha": sha,
                    "user": repo["owner"], "repo": repo}
        obj = {"url": url, "id": pid, "node_id": _node_id("PullRequest", pid),
               "html_url": "https://github.com/%s/pull/%s" % (w.repository, num),
               "diff_url": "https://github.com/%s/pull/%s.diff" % (w.repository, num),
               "patch_url": "https://github.com/%s/pull/%s.patch" % (w.repository, num),
               "issue_url": "%s/issues/%s" % (repo_url, num),
               "commits_url": url + "/commits", "review_comments_url": url + "/comments",
               "review_comment_url": repo_url + "/pulls/comments{/number}",
               "comments_url": "%s/issues/%s/comments" % (repo_url, num),
               "statuses_url": "%s/statuses/%s" % (repo_url, head_sha),
               "number": int(num), "state": state, "locked": False,
               "title": p.get("title", "Pull request %s" % num), "user": user,
               "body": p.get("body"), "labels": [], "milestone": None, "active_lock_reason": None,
               "created_at": _iso(time.time() - 3600), "updated_at": _iso(time.time()),
               "closed_at": None if state == "open" else _iso(time.time()),
               "merged_at": _iso(time.time()) if merged else None,
               "merge_commit_sha": p.get("merge_commit_sha"), "assignee": None, "assignees": [],
               "requested_reviewers": [], "requested_teams": [],
               "head": side(p.get("head_ref", "feature"), head_sha),
               "base": side(p.get("base_ref", "main"), base_sha),
               "_links": {"self": {"href": url}, "html": {"href": "https://github.com/%s/pull/%s" % (w.repository, num)},
                          "issue": {"href": "%s/issues/%s" % (repo_url, num)},
                          "comments": {"href": "%s/issues/%s/comments" % (repo_url, num)},
                          "review_comments": {"href": url + "/comments"},
                          "review_comment": {"href": repo_url + "/pulls/comments{/number}"},
                          "commits": {"href": url + "/commits"},
                          "statuses": {"href": "%s/statuses/%s" % (repo_url, head_sha)}},
               "author_association": "CONTRIBUTOR", "auto_merge": None, "draft": bool(p.get("draft", False)),
               "merged": merged, "mergeable": True, "rebaseable": True, "mergeable_state": "clean",
               "merged_by": None, "comments": len(w.comments.get(num, [])), "review_comments": 0,
               "maintainer_can_modify": False, "commits": 1, "additions": 1, "deletions": 0,
               "changed_files": 1}
        return 200, obj, None

    # -- OIDC
    def issuer(self):
        return self.w.oidc.get("issuer") or "http://127.0.0.1:%d" % self.w.port

    def oidc_token(self, query, headers):
        w = self.w
        o = w.oidc
        auth = headers.get("Authorization", "")
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            return 401, {"message": "Unauthorized: missing bearer token"}
        if auth[7:].strip() != o.get("request_token"):
            return 403, {"message": "Forbidden: the request token is not valid for this run"}
        now = int(time.time())
        life = int(o.get("lifetime", 300))
        aud = (query.get("audience") or [""])[0] or "https://github.com/%s" % w.owner
        over = o.get("claims") or {}
        ref = over.get("ref", "refs/heads/main")
        env = over.get("environment")
        event = o.get("event_name", over.get("event_name", "push"))
        if env:
            sub = "repo:%s:environment:%s" % (w.repository, env)
        elif event in ("pull_request", "pull_request_target"):
            sub = "repo:%s:pull_request" % w.repository
        else:
            sub = "repo:%s:ref:%s" % (w.repository, ref)
        sha = over.get("sha", "0" * 40)
        wf = "%s/.github/workflows/ci.yml@%s" % (w.repository, ref)
        claims = {"jti": str(uuid.uuid4()), "sub": sub, "aud": aud, "ref": ref, "sha": sha,
                  "repository": w.repository, "repository_owner": w.owner,
                  "repository_owner_id": str(w.owner_id), "run_id": "7001", "run_number": "12",
                  "run_attempt": "1", "repository_visibility": "public" if w.public else "private",
                  "repository_id": str(w.repo_id), "actor_id": str(w.user_id("alice")), "actor": "alice",
                  "workflow": "CI", "head_ref": "", "base_ref": "", "event_name": event,
                  "ref_protected": "false", "ref_type": "branch" if ref.startswith("refs/heads/") else "tag",
                  "workflow_ref": wf, "workflow_sha": sha, "job_workflow_ref": wf,
                  "job_workflow_sha": sha, "runner_environment": "github-hosted",
                  "iss": self.issuer(), "nbf": now - int(o.get("nbf_backdate", 600)),
                  "exp": now + life, "iat": now}
        if env:
            claims["environment"] = env
        for k, v in over.items():
            if v is None:
                claims.pop(k, None)
            else:
                claims[k] = v
        key = w.key
        if o.get("wrong_key"):
            if w.wrong_key is None:
                w.wrong_key = jwtlib.generate_key()
            key = w.wrong_key
        kid = o.get("kid") or jwtlib.public_jwk(w.key)["kid"]
        w.oidc_issued += 1
        return 200, {"value": jwtlib.sign(claims, key, kid=kid)}

    def openid_configuration(self):
        iss = self.issuer()
        return {"issuer": iss, "jwks_uri": iss + "/.well-known/jwks",
                "subject_types_supported": ["public", "pairwise"],
                "response_types_supported": ["id_token"], "claims_supported": OIDC_CLAIMS,
                "id_token_signing_alg_values_supported": ["RS256"], "scopes_supported": ["openid"]}

    def jwks(self):
        jwk = jwtlib.public_jwk(self.w.key)
        if self.w.oidc.get("kid"):
            jwk["kid"] = self.w.oidc["kid"]
        return {"keys": [jwk]}

    # -- control
    def control(self, method, path, body):
        w = self.w
        if path == "/_emu/state" and method == "GET":
            return 200, w.state()
        if method != "POST":
            return 405, {"message": "use POST"}
        try:
            obj = json.loads(body) if body else {}
        except ValueError as exc:
            return 400, {"message": "bad JSON: %s" % exc}
        if path == "/_emu/reset":
            w.load()
            return 200, {"ok": True}
        if path == "/_emu/fault":
            if obj.get("clear"):
                w.faults = []
                return 200, {"ok": True}
            try:
                f = {"method": (obj.get("method") or "").upper(), "rx": re.compile(obj.get("path", "")),
                     "status": obj.get("status", 503), "count": int(obj.get("count", 1)),
                     "body": obj.get("body"), "headers": obj.get("headers") or {},
                     "delay_ms": int(obj.get("delay_ms", 0))}
            except (re.error, ValueError, TypeError) as exc:
                return 400, {"message": "bad fault: %s" % exc}
            w.faults.append(f)
            return 200, {"ok": True, "faults": len(w.faults)}
        return 404, {"message": "unknown control route"}


def take_fault(w, method, path):
    for f in w.faults:
        if f["count"] > 0 and (not f["method"] or f["method"] == method) and f["rx"].search(path):
            f["count"] -= 1
            if f["count"] == 0:
                w.faults.remove(f)
            return f
    return None


# -------------------------------------------------------------------- HTTP

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "GitHub.com"
    sys_version = ""
    timeout = 60

    def log_message(self, fmt, *args):
        pass

    def version_string(self):
        return self.server_version

    def _read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status, obj=None, headers=None):
        headers = dict(headers or {})
        ctype = headers.pop("Content-Type", "application/json; charset=utf-8")
        if isinstance(obj, str):
            raw = obj.encode("utf-8")
        elif obj is None:
            raw = b""
        else:
            raw = json.dumps(obj).encode("utf-8")
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(raw)))
        self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
        self.send_header("X-GitHub-Request-Id", "%04X:%s" % (secrets.randbelow(65536), secrets.token_hex(6).upper()))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if status != 204 and raw and self.command != "HEAD":
            self.wfile.write(raw)
        self._status = status

    def _serve(self):
        t0 = time.time()
        self._status = 0
        srv = self.server
        w = srv.world
        gh = srv.github
        raw_path, _, qs = self.path.partition("?")
        path = unquote(raw_path)
        query = parse_qs(qs, keep_blank_values=True)
        info = {"label": None}
        try:
            try:
                body = self._read_body()
            except (ValueError, OSError):
                self.close_connection = True
                self._send(413, {"message": "request body too large or malformed"})
                return
            if path.startswith("/_emu/"):
                with w.lock:
                    st, obj = gh.control(self.command, path, body)
                self._send(st, obj)
                return
            with w.lock:
                fault = take_fault(w, self.command, path)
            if fault:
                info["label"] = "fault"
                if fault["delay_ms"]:
                    time.sleep(fault["delay_ms"] / 1000.0)
                if fault["status"] == "drop":
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                if fault["status"]:
                    b = fault["body"] if fault["body"] is not None else {"message": "injected fault"}
                    self._send(int(fault["status"]), b, headers=fault["headers"])
                    return
            if path == "/_apis/oidc/token" and self.command == "GET":
                info["label"] = "GET /_apis/oidc/token"
                with w.lock:
                    st, obj = gh.oidc_token(query, self.headers)
                self._send(st, obj)
                return
            if path == "/.well-known/openid-configuration" and self.command == "GET":
                info["label"] = "GET /.well-known/openid-configuration"
                with w.lock:
                    obj = gh.openid_configuration()
                self._send(200, obj)
                return
            if path == "/.well-known/jwks" and self.command == "GET":
                info["label"] = "GET /.well-known/jwks"
                with w.lock:
                    obj = gh.jwks()
                self._send(200, obj)
                return
            rest = path
            if w.prefix:
                if not (path == w.prefix or path.startswith(w.prefix + "/")):
                    info["label"] = "%s ?" % self.command
                    self._send(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})
                    return
                rest = path[len(w.prefix):] or "/"
            ip = self.client_address[0]
            with w.lock:
                try:
                    st, obj, hdr = gh.handle(self.command, rest, query, body, self.headers,
                                             self.headers.get("Host"), ip, info)
                except GHError as exc:
                    st = exc.status
                    obj = {"message": exc.message, "documentation_url": exc.doc}
                    if exc.errors is not None:
                        obj["errors"] = exc.errors
                    obj["status"] = str(exc.status)
                    hdr = exc.headers
            self._send(st, obj, headers=hdr)
        finally:
            if not path.startswith("/_emu/"):
                label = info["label"] or "%s ?" % self.command
                entry = {"method": self.command, "path": path, "status": self._status}
                with w.lock:
                    w.count(label, entry)
                if srv.logf:
                    rec = {"t": round(t0, 3), "method": self.command, "path": path, "route": label,
                           "status": self._status, "ms": round((time.time() - t0) * 1000, 1)}
                    with srv.log_lock:
                        srv.logf.write(json.dumps(rec) + "\n")
                        srv.logf.flush()


    def _dispatch(self):
        """Serve one request; a bug in the emulator answers 500, not a dropped connection."""
        self._status = 0
        try:
            self._serve()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            if not self._status:
                try:
                    self._send(500, {"message": "emulator internal error: %s" % exc})
                except OSError:
                    pass

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch

    def __getattr__(self, name):
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    # The default listen backlog (5) drops connections when a client
    # opens 16 at once; each drop costs the client a 1 s SYN retry.
    request_queue_size = 128


def serve(server):
    stop = threading.Event()

    def on_signal(signum, frame):
        if not stop.is_set():
            stop.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sys.stdout.write("READY %d\n" % server.server_address[1])
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


def main(argv=None):
    ap = argparse.ArgumentParser(description="GitHub emulator")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--jwt-key", required=True)
    ap.add_argument("--log")
    args = ap.parse_args(argv)
    key = jwtlib.load_key(args.jwt_key)
    server = Server(("127.0.0.1", args.port), Handler)
    world = World(args.fixture, key, server.server_address[1])
    server.world = world
    server.github = GitHub(world)
    server.logf = open(args.log, "a") if args.log else None
    server.log_lock = threading.Lock()
    serve(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
