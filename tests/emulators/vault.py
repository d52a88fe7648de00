#!/usr/bin/env python3
"""A HashiCorp Vault emulator for the integration tests (stdlib only).

KV v1 and v2, AppRole and JWT login, token lookup/renew/revoke-self, ACL
policies with Vault's glob rules, namespaces, sys/internal/ui/mounts, and
hostile-data knobs. See VAULT_GITHUB.md beside this file for every route,
knob and the fixture format.

    python3 vault.py --port 0 --fixture FILE --jwt-key KEYFILE [--issuer URL] [--log FILE]
"""

import argparse
import copy
import json
import os
import posixpath
import re
import secrets
import signal
import socket
import string
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jwtlib  # noqa: E402

VERSION = "1.15.6+emulator"
MAX_BODY = 32 * 1024 * 1024
DEFAULT_TTL = 2764800

E_DENIED = "1 error occurred:\n\t* permission denied\n\n"
E_INVALID_TOKEN = "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"
E_UNSUPPORTED = "1 error occurred:\n\t* unsupported operation\n\n"
KV2_BAD_PATH = ("Invalid path for a versioned K/V secrets engine. See the API docs for the "
                "appropriate API endpoints to use. If using the Vault CLI, use 'vault kv get' "
                "for this operation.")

DEFAULT_POLICY = [
    {"path": "auth/token/lookup-self", "capabilities": ["read"]},
    {"path": "auth/token/renew-self", "capabilities": ["update"]},
    {"path": "auth/token/revoke-self", "capabilities": ["update"]},
    {"path": "sys/capabilities-self", "capabilities": ["update"]},
]

_ALNUM = string.ascii_letters + string.digits


def _rand(n):
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


def _rfc3339(t):
    sec = int(t)
    frac = int(round((t - sec) * 1e9))
    if frac >= 1000000000:
        sec, frac = sec + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + ".%09dZ" % frac


class VaultError(Exception):
    def __init__(self, status, errors=None, body=None):
        Exception.__init__(self, status)
        self.status = status
        self.errors = [] if errors is None else errors
        self.body = body


def _err(status, *msgs):
    return VaultError(status, list(msgs))


# --------------------------------------------------------------------- ACL

def _compile_rule(path):
    """A regex for a Vault policy path ('+' one segment, trailing '*' prefix)."""
    glob = path.endswith("*")
    core = path[:-1] if glob else path
    out = []
    for i, seg in enumerate(core.split("/")):
        if i:
            out.append("/")
        out.append("[^/]*" if seg == "+" else re.escape(seg))
    return re.compile("".join(out) + (".*" if glob else "") + r"\Z", re.S)


def _priority(path):
    """Sort key: a higher key wins (Vault's policy priority rules)."""
    idx = [i for i in (path.find("+"), path.find("*")) if i >= 0]
    first = min(idx) if idx else len(path) + 1
    return (first, not path.endswith("*"), -path.split("/").count("+"), len(path), path)


class ACL:
    def __init__(self, rule_lists, root=False):
        self.root = root
        merged = {}
        for rules in rule_lists:
            for r in rules:
                caps = merged.setdefault(r["path"], set())
                caps.update(r.get("capabilities", []))
        self.rules = [(p, _compile_rule(p), caps, _priority(p)) for p, caps in merged.items()]

    def capabilities(self, path):
        if self.root:
            return {"root", "sudo", "read", "list", "create", "update", "delete", "patch"}
        best = None
        for p, rx, caps, prio in self.rules:
            if rx.match(path) and (best is None or prio > best[0]):
                best = (prio, caps)
        if best is None or "deny" in best[1]:
            return set()
        return best[1]

    def allowed(self, path, cap):
        return cap in self.capabilities(path)

    def any_access_under(self, prefix):
        """True when some rule grants anything on a path under `prefix`."""
        if self.root:
            return True
        for p, rx, caps, prio in self.rules:
            if not caps or "deny" in caps:
                continue
            lit = re.split(r"[+*]", p, 1)[0]
            if lit.startswith(prefix) or prefix.startswith(lit):
                return True
        return False


def _parse_policy(obj):
    """A policy from the fixture: a rule list or HCL-JSON {"path": {...}}."""
    if isinstance(obj, list):
        return [{"path": r["path"], "capabilities": list(r.get("capabilities", []))} for r in obj]
    if isinstance(obj, dict) and isinstance(obj.get("path"), dict):
        return [{"path": p, "capabilities": list(v.get("capabilities", []))}
                for p, v in obj["path"].items()]
    raise ValueError("bad policy %r" % (obj,))


# ------------------------------------------------------------------- model

class KVSecret:
    """One KV v2 secret: its versions and metadata."""

    def __init__(self, now):
        self.versions = {}
        self.current = 0
        self.oldest = 0
        self.created = now
        self.updated = now
        self.custom_metadata = None
        self.max_versions = 0
        self.cas_required = False

    def add(self, data, now, max_versions):
        self.current += 1
        self.versions[self.current] = {"data": data, "created": now, "deleted": None,
                                       "destroyed": False}
        self.updated = now
        limit = self.max_versions or max_versions or 10
        pruned = False
        while len(self.versions) > limit:
            del self.versions[min(self.versions)]
            pruned = True
        if pruned:
            self.oldest = min(self.versions)
        return self.current

    def meta(self, n):
        v = self.versions[n]
        return {"created_time": _rfc3339(v["created"]),
                "custom_metadata": self.custom_metadata,
                "deletion_time": _rfc3339(v["deleted"]) if v["deleted"] else "",
                "destroyed": v["destroyed"], "version": n}


class Mount:
    def __init__(self, name, spec, now):
        self.name = name
        self.type = spec.get("type", "kv")
        if self.type != "kv":
            raise ValueError("mount %s: only kv mounts are emulated" % name)
        self.version = int(spec.get("version", 2))
        self.options = spec["options"] if "options" in spec else {"version": str(self.version)}
        self.max_versions = int(spec.get("max_versions", 0))
        self.cas_required = bool(spec.get("cas_required", False))
        self.accessor = "kv_" + _rand(8).lower()
        self.uuid = str(uuid.uuid4())
        self.secrets = {}
        if self.version == 2:
            for path, data in spec.get("secrets", {}).items():
                self.secrets.setdefault(path.strip("/"), KVSecret(now)).add(copy.deepcopy(data), now, self.max_versions)
            for path, vers in spec.get("versions", {}).items():
                s = self.secrets.setdefault(path.strip("/"), KVSecret(now))
                for data in vers:
                    s.add(copy.deepcopy(data), now, self.max_versions)
        else:
            for path, data in spec.get("secrets", {}).items():
                self.secrets[path.strip("/")] = copy.deepcopy(data)

    def exists(self, path):
        return path in self.secrets

    def describe(self):
        return {"accessor": self.accessor,
                "config": {"default_lease_ttl": 0, "force_no_cache": False, "max_lease_ttl": 0},
                "description": "", "external_entropy_access": False, "local": False,
                "options": self.options, "path": self.name + "/", "plugin_version": "",
                "running_plugin_version": "v0.16.1+builtin", "running_sha256": "",
                "seal_wrap": False, "type": self.type, "uuid": self.uuid}


class AuthMount:
    def __init__(self, name, spec):
        self.name = name
        self.type = spec.get("type")
        if self.type not in ("approle", "jwt"):
            raise ValueError("auth mount %s: type must be approle or jwt" % name)
        self.roles = copy.deepcopy(spec.get("roles", {}))
        self.bound_issuer = spec.get("bound_issuer")
        self.accessor = "auth_%s_%s" % (self.type, _rand(8).lower())


class Namespace:
    def __init__(self, path, spec, now):
        self.path = path
        self.mounts = {n.strip("/"): Mount(n.strip("/"), m, now) for n, m in spec.get("mounts", {}).items()}
        self.policies = {n: _parse_policy(p) for n, p in spec.get("policies", {}).items()}
        self.auth = {}
        for kind in ("approle", "jwt"):
            if spec.get(kind):
                short = dict(spec[kind])
                short["type"] = kind
                name = short.pop("mount", kind).strip("/")
                self.auth[name] = AuthMount(name, short)
        for name, a in spec.get("auth", {}).items():
            self.auth[name.strip("/")] = AuthMount(name.strip("/"), a)
        self.hostile = copy.deepcopy(spec.get("hostile_lists", {}))
        self.synthetic = copy.deepcopy(spec.get("synthetic", {}))

    def find_mount(self, rel):
        """(mount, rest) for the longest mount prefixing rel, or (None, rel)."""
        best = None
        for name, m in self.mounts.items():
            if rel == name or rel.startswith(name + "/"):
                if best is None or len(name) > len(best.name):
                    best = m
        if best is None:
            return None, rel
        return best, rel[len(best.name) + 1:]


class Token:
    def __init__(self, tid, namespace, policies, ttl, num_uses, path, meta, display, now,
                 renewable=True, root=False):
        self.id = tid
        self.accessor = _rand(24)
        self.namespace = namespace
        self.policies = policies
        self.ttl = ttl
        self.num_uses = num_uses
        self.path = path
        self.meta = meta
        self.display_name = display
        self.created = now
        self.issued = now
        self.expires = now + ttl if ttl else None
        self.renewable = renewable and not root
        self.root = root
        self.entity_id = "" if root else str(uuid.uuid4())

    def expired(self, now):
        return self.expires is not None and now >= self.expires


# ------------------------------------------------------------------- world

class World:
    def __init__(self, fixture_path, key, issuer):
        self.fixture_path = fixture_path
        self.key = key
        self.issuer = issuer
        self.lock = threading.RLock()
        self.load()

    def load(self):
        with open(self.fixture_path) as f:
            fx = json.load(f).get("vault", {}) or {}
        now = time.time()
        spaces = dict(fx.get("namespaces", {}))
        root_spec = dict(spaces.get("", {}))
        for k in ("mounts", "policies", "approle", "jwt", "auth", "hostile_lists", "synthetic"):
            if k in fx and k not in root_spec:
                root_spec[k] = fx[k]
        spaces[""] = root_spec
        for name in list(spaces):
            parts = name.strip("/").split("/") if name.strip("/") else []
            for i in range(1, len(parts)):
                spaces.setdefault("/".join(parts[:i]), {})
        # built before anything is replaced, so a bad fixture leaves the old world intact
        self.namespaces = {n.strip("/"): Namespace(n.strip("/"), s, now) for n, s in spaces.items()}
        self.fixture = fx
        self.inflate = fx.get("inflate") or {}
        self.tokens = {}
        if fx.get("root_token"):
            t = Token(fx["root_token"], "", ["root"], 0, 0, "auth/token/root", None, "root",
                      now, renewable=False, root=True)
            self.tokens[t.id] = t
        for tid, spec in fx.get("tokens", {}).items():
            pols = sorted(set(spec.get("policies", [])) | ({"default"} if not spec.get("no_default_policy") else set()))
            t = Token(tid, spec.get("namespace", "").strip("/"), pols, int(spec.get("ttl", 0)),
                      int(spec.get("num_uses", 0)), "auth/token/create", None, "token", now)
            self.tokens[tid] = t
        self.requests = {}
        self.requests_total = 0
        self.request_log = []
        self.revoked = 0
        self.faults = []

    # -- bookkeeping
    def count(self, label, entry):
        self.requests[label] = self.requests.get(label, 0) + 1
        self.requests_total += 1
        self.request_log.append(entry)
        if len(self.request_log) > 500:
            del self.request_log[:100]

    def state(self):
        now = time.time()
        spaces = {}
        for nsn, ns in self.namespaces.items():
            mounts = {}
            for mn, m in ns.mounts.items():
                if m.version == 2:
                    secs = {p: {"current_version": s.current,
                                "versions": {str(n): {"data": v["data"], "deleted": bool(v["deleted"]),
                                                      "destroyed": v["destroyed"]}
                                             for n, v in sorted(s.versions.items())}}
                            for p, s in sorted(m.secrets.items())}
                else:
                    secs = {p: {"data": d} for p, d in sorted(m.secrets.items())}
                mounts[mn] = {"type": m.type, "version": m.version, "secrets": secs}
            spaces[nsn] = {"mounts": mounts, "auth": {a: am.type for a, am in ns.auth.items()}}
        toks = [{"accessor": t.accessor, "namespace": t.namespace, "policies": t.policies,
                 "expires_in": None if t.expires is None else round(t.expires - now, 3),
                 "uses_left": t.num_uses, "via": t.path, "display_name": t.display_name}
                for t in self.tokens.values() if not t.expired(now)]
        return {"namespaces": spaces, "tokens": toks, "requests": dict(sorted(self.requests.items())),
                "requests_total": self.requests_total, "request_log": list(self.request_log),
                "revoked": self.revoked}

    # -- tokens
    def new_token(self, ns, policies, ttl, num_uses, path, meta, display):
        pols = sorted(set(policies) | {"default"})
        t = Token("hvs." + _rand(24), ns, pols, ttl, num_uses, path, meta, display, time.time())
        self.tokens[t.id] = t
        return t

    def acl_for(self, tok):
        if tok.root or "root" in tok.policies:
            return ACL([], root=True)
        ns = self.namespaces.get(tok.namespace)
        lists = [DEFAULT_POLICY]
        for p in tok.policies:
            if ns and p in ns.policies:
                lists.append(ns.policies[p])
        return ACL(lists)

    @staticmethod
    def auth_block(t):
        return {"client_token": t.id, "accessor": t.accessor, "policies": t.policies,
                "token_policies": t.policies, "identity_policies": None, "metadata": t.meta,
                "lease_duration": t.ttl, "renewable": t.renewable, "entity_id": t.entity_id,
                "token_type": "service", "orphan": True, "mfa_requirement": None,
                "num_uses": t.num_uses}


# ----------------------------------------------------------------- request

class Request:
    def __init__(self, method, op, rel, ns, query, headers, body, token):
        self.method = method
        self.op = op
        self.rel = rel
        self.ns = ns
        self.query = query
        self.headers = headers
        self.body = body
        self.token = token
        self.label = None
        self.mount_type = None

    def json(self):
        if not self.body:
            return {}
        try:
            obj = json.loads(self.body)
        except ValueError as exc:
            raise _err(400, "failed to parse JSON input: %s" % exc)
        if obj is None:
            return {}
        if not isinstance(obj, dict):
            raise _err(400, "failed to parse JSON input: not an object")
        return obj


def envelope(data=None, auth=None, warnings=None, mount_type=None, lease_duration=0):
    return {"request_id": str(uuid.uuid4()), "lease_id": "", "renewable": False,
            "lease_duration": lease_duration, "data": data, "wrap_info": None,
            "warnings": warnings, "auth": auth, "mount_type": mount_type}


class Vault:
    """Request logic; every call holds world.lock."""

    def __init__(self, world):
        self.w = world

    # -- entry
    def handle(self, req):
        w = self.w
        ns = w.namespaces[req.ns]
        rel = req.rel
        if rel == "sys/health":
            req.label = "GET sys/health"
            return 200, {"initialized": True, "sealed": False, "standby": False,
                         "performance_standby": False, "replication_performance_mode": "disabled",
                         "replication_dr_mode": "disabled", "server_time_utc": int(time.time()),
                         "version": VERSION, "cluster_name": "vault-emulator",
                         "cluster_id": "00000000-0000-0000-0000-000000000000"}
        m = re.match(r"auth/(.+)/login\Z", rel)
        if m and req.op in ("create", "update") and m.group(1) in ns.auth:
            req.label = "POST auth/%s/login" % m.group(1)
            return self.login(req, ns, m.group(1))
        if rel in ("sys/internal/ui/mounts", "sys/internal/ui/mounts/") and req.op == "read":
            req.label = "GET sys/internal/ui/mounts"
            return self.ui_mounts_all(req, ns)

        tok = self.check_token(req)
        if rel.startswith("sys/internal/ui/mounts/"):
            req.label = "GET sys/internal/ui/mounts/*"
            if req.op != "read":
                raise _err(405, E_UNSUPPORTED)
            return self.ui_mount(req, ns, tok, rel[len("sys/internal/ui/mounts/"):])

        # ACL before routing, as Vault does
        acl = w.acl_for(tok)
        nsrel = self.ns_prefix(tok.namespace, req.ns)
        if rel.startswith("auth/token/"):
            req.label = "%s %s" % (req.method if req.op != "list" else "LIST", rel)
            req.mount_type = "token"
            self.require(acl, nsrel + rel, self.cap_for(req, exists=True))
            return self.token_op(req, tok, rel[len("auth/token/"):])
        mount, rest = ns.find_mount(rel)
        exists = True
        if mount is not None and req.op in ("create", "update"):
            exists = self.write_exists(mount, rest)
            req.op = "update" if exists else "create"
        if mount is not None:
            req.mount_type = "kv"
            sub = rest.split("/", 1)[0] if mount.version == 2 else ""
            req.label = "%s %s%s" % ("LIST" if req.op == "list" else req.method,
                                     mount.name, "/" + sub if sub else "")
        else:
            req.label = "%s ?" % req.method
        cap = self.cap_for(req, exists)
        self.require(acl, nsrel + rel, cap)
        if mount is None:
            raise _err(404, 'no handler for route "%s". route entry not found.' % (
                (req.ns + "/" if req.ns else "") + rel))
        if mount.version == 2:
            return self.kv2(req, ns, mount, rest)
        return self.kv1(req, ns, mount, rest)

    @staticmethod
    def ns_prefix(token_ns, req_ns):
        if token_ns == req_ns:
            return ""
        if token_ns == "":
            return req_ns + "/"
        return req_ns[len(token_ns) + 1:] + "/"

    @staticmethod
    def cap_for(req, exists):
        return {"read": "read", "list": "list", "create": "create", "update": "update",
                "delete": "delete", "patch": "patch"}[req.op]

    @staticmethod
    def require(acl, path, cap):
        if not acl.allowed(path, cap):
            raise _err(403, E_DENIED)

    def check_token(self, req):
        w = self.w
        if not req.token:
            raise _err(403, E_DENIED)
        tok = w.tokens.get(req.token)
        now = time.time()
        if tok is None or tok.expired(now):
            raise _err(403, E_INVALID_TOKEN)
        if not (tok.namespace == "" or req.ns == tok.namespace or req.ns.startswith(tok.namespace + "/")):
            raise _err(403, E_DENIED)
        if tok.num_uses:
            tok.num_uses -= 1
            if tok.num_uses == 0:
                del w.tokens[tok.id]
                w.revoked += 1
        return tok

    def write_exists(self, mount, rest):
        if mount.version == 1:
            return mount.exists(rest.strip("/"))
        head, _, path = rest.partition("/")
        if head in ("data", "metadata"):
            return mount.exists(path.strip("/"))
        return True

    # -- sys/internal/ui/mounts
    def ui_mounts_all(self, req, ns):
        tok = self.w.tokens.get(req.token) if req.token else None
        if tok is not None and tok.expired(time.time()):
            tok = None
        acl = self.w.acl_for(tok) if tok else None
        nsrel = self.ns_prefix(tok.namespace, req.ns) if tok else ""
        secret, auth = {}, {}
        if acl is not None:
            for name, m in sorted(ns.mounts.items()):
                if acl.any_access_under(nsrel + name + "/"):
                    d = m.describe()
                    secret[name + "/"] = d
            for name, a in sorted(ns.auth.items()):
                if acl.any_access_under(nsrel + "auth/" + name + "/") or acl.root:
                    auth[name + "/"] = {"accessor": a.accessor, "type": a.type, "description": "",
                                        "options": None, "config": {}, "local": False,
                                        "seal_wrap": False, "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, a.accessor))}
        return 200, envelope({"secret": secret, "auth": auth}, mount_type="system")

    def ui_mount(self, req, ns, tok, path):
        path = path.strip("/")
        mount, _ = ns.find_mount(path)
        shown = (path + "/") if mount is None else (mount.name + "/")
        denied = _err(403, "preflight capability check returned 403, please ensure client's "
                           "policies grant access to path \"%s\"" % shown)
        if mount is None:
            raise denied
        acl = self.w.acl_for(tok)
        if not acl.any_access_under(self.ns_prefix(tok.namespace, req.ns) + mount.name + "/"):
            raise denied
        return 200, envelope(mount.describe(), mount_type="system")

    # -- token self operations
    def token_op(self, req, tok, what):
        w = self.w
        now = time.time()
        if what == "lookup-self" and req.op == "read":
            d = {"accessor": tok.accessor, "creation_time": int(tok.created),
                 "creation_ttl": tok.ttl, "display_name": tok.display_name,
                 "entity_id": tok.entity_id,
                 "expire_time": _rfc3339(tok.expires) if tok.expires else None,
                 "explicit_max_ttl": 0, "id": tok.id, "meta": tok.meta,
                 "num_uses": tok.num_uses, "orphan": True, "path": tok.path,
                 "policies": tok.policies, "renewable": tok.renewable,
                 "ttl": max(0, int(round(tok.expires - now))) if tok.expires else 0,
                 "type": "service", "namespace_path": (tok.namespace + "/") if tok.namespace else ""}
            if not tok.root:
                d["issue_time"] = _rfc3339(tok.issued)
            return 200, envelope(d, mount_type="token")
        if what == "renew-self" and req.op in ("create", "update"):
            if not tok.renewable:
                raise _err(400, "lease is not renewable")
            if tok.ttl:
                tok.expires = now + tok.ttl
            return 200, envelope(None, auth=w.auth_block(tok), mount_type="token")
        if what == "revoke-self" and req.op in ("create", "update"):
            w.tokens.pop(tok.id, None)
            w.revoked += 1
            return 204, None
        if what in ("lookup-self", "renew-self", "revoke-self"):
            raise _err(405, E_UNSUPPORTED)
        raise _err(404, "unsupported path")

    # -- logins
    def login(self, req, ns, mount_name):
        am = ns.auth[mount_name]
        body = req.json()
        if am.type == "approle":
            return self.login_approle(req, ns, am, body)
        return self.login_jwt(req, ns, am, body)

    def login_approle(self, req, ns, am, body):
        role_id = body.get("role_id")
        if not role_id:
            raise _err(400, "missing role_id")
        name, role = None, None
        for n, r in am.roles.items():
            if r.get("role_id") == role_id:
                name, role = n, r
        if role is None:
            raise _err(400, "invalid role or secret ID")
        if role.get("bind_secret_id", True):
            sid = body.get("secret_id")
            if not sid:
                raise _err(400, "missing secret_id")
            valid = role.get("secret_ids") or [role.get("secret_id")]
            if sid not in valid:
                raise _err(400, "invalid role or secret ID")
        t = self.w.new_token(req.ns, role.get("token_policies", role.get("policies", [])),
                             int(role.get("token_ttl", DEFAULT_TTL)), int(role.get("token_num_uses", 0)),
                             "auth/%s/login" % am.name, {"role_name": name}, am.name)
        return 200, envelope(None, auth=self.w.auth_block(t), mount_type="approle")

    def login_jwt(self, req, ns, am, body):
        role_name = body.get("role")
        if not role_name:
            raise _err(400, "missing role")
        token = body.get("jwt")
        if not token:
            raise _err(400, "missing token")
        role = am.roles.get(role_name)
        if role is None:
            raise _err(400, 'role "%s" could not be found' % role_name)
        if role.get("role_type", "jwt") != "jwt":
            raise _err(400, "role with oidc role_type is not allowed")
        if self.w.key is None:
            raise _err(400, "error validating token: no keys configured")
        try:
            claims = jwtlib.verify(token, self.w.key.public(), leeway=10 ** 12)
        except jwtlib.JWTError as exc:
            raise _err(400, "error validating token: %s" % exc)
        now = time.time()
        skew = float(role.get("clock_skew_leeway", 60))
        exp_l = float(role.get("expiration_leeway", 150))
        nbf_l = float(role.get("not_before_leeway", 150))
        bad = None
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if isinstance(exp, (int, float)) and now > exp + exp_l + skew:
            bad = "validation failed, token is expired (exp)"
        elif isinstance(nbf, (int, float)) and now < nbf - nbf_l - skew:
            bad = "validation failed, token not valid yet (nbf)"
        issuer = am.bound_issuer or self.w.issuer
        if bad is None and issuer and claims.get("iss") != issuer:
            bad = "validation failed, invalid issuer claim (iss)"
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else ([] if aud is None else [aud])
        bound_aud = role.get("bound_audiences") or []
        if isinstance(bound_aud, str):
            bound_aud = [bound_aud]
        if bad is None and bound_aud and not any(a in auds for a in bound_aud):
            bad = "validation failed, invalid audience claim (aud)"
        if bad is None and not bound_aud and auds:
            bad = "audience claim found in JWT but no audiences bound to the role"
        if bad is None and role.get("bound_subject") and claims.get("sub") != role["bound_subject"]:
            bad = "sub claim does not match bound subject"
        if bad is None:
            glob = role.get("bound_claims_type", "string") == "glob"
            for cname, want in (role.get("bound_claims") or {}).items():
                have = claims.get(cname)
                if have is None:
                    bad = 'claim "%s" is missing' % cname
                    break
                wants = want if isinstance(want, list) else [want]
                haves = have if isinstance(have, list) else [have]
                if not any(self._claim_match(str(h), str(x), glob) for h in haves for x in wants):
                    bad = 'claim "%s" does not match any associated bound claim values' % cname
                    break
        if bad:
            raise _err(400, "error validating claims: " + bad)
        user_claim = role.get("user_claim", "sub")
        if claims.get(user_claim) in (None, ""):
            raise _err(400, 'claim "%s" not found in token' % user_claim)
        meta = {"role": role_name}
        for cname, key in (role.get("claim_mappings") or {}).items():
            if cname in claims:
                meta[key] = str(claims[cname])
        t = self.w.new_token(req.ns, role.get("token_policies", role.get("policies", [])),
                             int(role.get("token_ttl", DEFAULT_TTL)), int(role.get("token_num_uses", 0)),
                             "auth/%s/login" % am.name, meta,
                             "%s-%s" % (am.name, claims.get(user_claim)))
        return 200, envelope(None, auth=self.w.auth_block(t), mount_type="jwt")

    @staticmethod
    def _claim_match(have, want, glob):
        if not glob:
            return have == want
        rx = "".join(".*" if c == "*" else re.escape(c) for c in want)
        return re.match(rx + r"\Z", have, re.S) is not None

    # -- listing helpers
    def list_keys(self, ns, mount, folder):
        """Sorted keys directly under folder ('' or 'a/b/') of a mount."""
        keys = set()
        for p in mount.secrets:
            if p.startswith(folder):
                tail = p[len(folder):]
                if not tail:
                    continue
                head, slash, _ = tail.partition("/")
                keys.add(head + "/" if slash else head)
        label = mount.name + "/" + folder
        syn = ns.synthetic.get(label)
        if syn:
            for i in range(int(syn.get("count", 0))):
                keys.add("%s%06d" % (syn.get("prefix", "s"), i))
        keys = sorted(keys)
        hostile = ns.hostile.get(label)
        if hostile is None:
            for pat, val in ns.hostile.items():
                if pat.endswith("*") and label.startswith(pat[:-1]):
                    hostile = val
                    break
        if isinstance(hostile, list):
            keys = list(hostile)
        elif isinstance(hostile, dict):
            keys = sorted(set(keys) | set(hostile.get("append", [])))
        return keys

    @staticmethod
    def synthetic_value(ns, mount, path):
        folder, _, leaf = path.rpartition("/")
        folder = folder + "/" if folder else ""
        syn = ns.synthetic.get(mount.name + "/" + folder)
        if not syn:
            return None
        prefix = syn.get("prefix", "s")
        m = re.match(re.escape(prefix) + r"(\d{6})\Z", leaf)
        if m and int(m.group(1)) < int(syn.get("count", 0)):
            return {"n": str(int(m.group(1)))}
        return None

    # -- KV v2
    def kv2(self, req, ns, mount, rest):
        head, _, path = rest.partition("/")
        path_c = path.strip("/")
        now = time.time()
        if head == "config" and not path:
            if req.op == "read":
                return 200, envelope({"cas_required": mount.cas_required, "delete_version_after": "0s",
                                      "max_versions": mount.max_versions}, mount_type="kv")
            raise _err(405, E_UNSUPPORTED)
        if head == "data":
            if req.op == "read":
                return self.kv2_read(req, ns, mount, path_c)
            if req.op in ("create", "update"):
                return self.kv2_write(req, mount, path_c, now)
            if req.op == "patch":
                return self.kv2_patch(req, mount, path_c, now)
            if req.op == "delete":
                s = mount.secrets.get(path_c)
                if s and s.current in s.versions and not s.versions[s.current]["deleted"]:
                    s.versions[s.current]["deleted"] = now
                return 204, None
            raise _err(405, E_UNSUPPORTED)
        if head == "metadata":
            if req.op == "list":
                folder = path_c + "/" if path_c else ""
                keys = self.list_keys(ns, mount, folder)
                if not keys:
                    raise _err(404)
                return 200, envelope({"keys": keys}, mount_type="kv")
            s = mount.secrets.get(path_c)
            if req.op == "read":
                if s is None:
                    raise _err(404)
                vers = {str(n): {"created_time": _rfc3339(v["created"]),
                                 "deletion_time": _rfc3339(v["deleted"]) if v["deleted"] else "",
                                 "destroyed": v["destroyed"]} for n, v in sorted(s.versions.items())}
                return 200, envelope({"cas_required": s.cas_required, "created_time": _rfc3339(s.created),
                                      "current_version": s.current, "custom_metadata": s.custom_metadata,
                                      "delete_version_after": "0s", "max_versions": s.max_versions,
                                      "oldest_version": s.oldest, "updated_time": _rfc3339(s.updated),
                                      "versions": vers}, mount_type="kv")
            if req.op in ("create", "update"):
                body = req.json()
                if s is None:
                    s = mount.secrets[path_c] = KVSecret(now)
                if "max_versions" in body:
                    s.max_versions = int(body["max_versions"])
                if "cas_required" in body:
                    s.cas_required = bool(body["cas_required"])
                if "custom_metadata" in body:
                    s.custom_metadata = body["custom_metadata"]
                return 204, None
            if req.op == "delete":
                mount.secrets.pop(path_c, None)
                return 204, None
            raise _err(405, E_UNSUPPORTED)
        if head in ("delete", "undelete", "destroy"):
            if req.op not in ("create", "update"):
                raise _err(405, E_UNSUPPORTED)
            vers = req.json().get("versions")
            if not isinstance(vers, list) or not vers:
                raise _err(400, "no version number provided")
            s = mount.secrets.get(path_c)
            for n in vers:
                try:
                    n = int(n)
                except (TypeError, ValueError):
                    raise _err(400, "invalid version number")
                if s is None or n not in s.versions:
                    continue
                v = s.versions[n]
                if head == "delete" and not v["deleted"]:
                    v["deleted"] = now
                elif head == "undelete" and not v["destroyed"]:
                    v["deleted"] = None
                elif head == "destroy":
                    v["destroyed"] = True
                    v["data"] = None
            return 204, None
        body = envelope(None, warnings=[KV2_BAD_PATH], mount_type="kv")
        raise VaultError(404, body=body)

    def kv2_read(self, req, ns, mount, path):
        ver = req.query.get("version", ["0"])[0]
        try:
            ver = int(ver or 0)
        except ValueError:
            raise _err(400, "invalid version number")
        s = mount.secrets.get(path)
        if s is None:
            syn = self.synthetic_value(ns, mount, path)
            if syn is not None and ver in (0, 1):
                now = time.time()
                return 200, envelope({"data": syn, "metadata": {
                    "created_time": _rfc3339(now), "custom_metadata": None, "deletion_time": "",
                    "destroyed": False, "version": 1}}, mount_type="kv")
            raise _err(404)
        n = ver or s.current
        if n not in s.versions:
            raise _err(404)
        v = s.versions[n]
        meta = s.meta(n)
        if v["deleted"] or v["destroyed"]:
            raise VaultError(404, body=envelope({"data": None, "metadata": meta}, mount_type="kv"))
        return 200, envelope({"data": copy.deepcopy(v["data"]), "metadata": meta}, mount_type="kv")

    def kv2_write(self, req, mount, path, now):
        if not path:
            raise _err(405, E_UNSUPPORTED)
        body = req.json()
        data = body.get("data")
        if data is None:
            raise _err(400, "no data provided")
        if not isinstance(data, dict):
            raise _err(400, "data must be a JSON object")
        opts = body.get("options") or {}
        s = mount.secrets.get(path)
        cas = opts.get("cas") if isinstance(opts, dict) else None
        if cas is None and (mount.cas_required or (s is not None and s.cas_required)):
            raise _err(400, "check-and-set parameter required for this call")
        if cas is not None:
            try:
                cas = int(cas)
            except (TypeError, ValueError):
                raise _err(400, "invalid cas parameter")
            if cas != (s.current if s else 0):
                raise _err(400, "check-and-set parameter did not match the current version")
        if s is None:
            s = mount.secrets[path] = KVSecret(now)
        n = s.add(copy.deepcopy(data), now, mount.max_versions)
        meta = s.meta(n)
        return 200, envelope(meta, mount_type="kv")

    def kv2_patch(self, req, mount, path, now):
        ctype = req.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/merge-patch+json":
            raise _err(415, "unsupported content type: %s" % ctype)
        s = mount.secrets.get(path)
        if s is None or s.current not in s.versions or s.versions[s.current]["deleted"] \
                or s.versions[s.current]["destroyed"]:
            raise _err(404)
        body = req.json()
        patch = body.get("data")
        if not isinstance(patch, dict):
            raise _err(400, "no data provided")
        opts = body.get("options") or {}
        if "cas" in opts and int(opts["cas"]) != s.current:
            raise _err(400, "check-and-set parameter did not match the current version")

        def merge(dst, src):
            for k, v in src.items():
                if v is None:
                    dst.pop(k, None)
                elif isinstance(v, dict) and isinstance(dst.get(k), dict):
                    merge(dst[k], v)
                else:
                    dst[k] = copy.deepcopy(v)
            return dst
        data = merge(copy.deepcopy(s.versions[s.current]["data"]), patch)
        n = s.add(data, now, mount.max_versions)
        return 200, envelope(s.meta(n), mount_type="kv")

    # -- KV v1
    def kv1(self, req, ns, mount, rest):
        path = rest.strip("/")
        if req.op == "list":
            keys = self.list_keys(ns, mount, path + "/" if path else "")
            if not keys:
                raise _err(404)
            return 200, envelope({"keys": keys}, mount_type="kv")
        if req.op == "read":
            if path in mount.secrets:
                return 200, envelope(copy.deepcopy(mount.secrets[path]), mount_type="kv",
                                     lease_duration=DEFAULT_TTL)
            syn = self.synthetic_value(ns, mount, path)
            if syn is not None:
                return 200, envelope(syn, mount_type="kv", lease_duration=DEFAULT_TTL)
            raise _err(404)
        if req.op in ("create", "update"):
            if not path:
                raise _err(405, E_UNSUPPORTED)
            data = req.json()
            mount.secrets[path] = copy.deepcopy(data)
            return 204, None
        if req.op == "delete":
            mount.secrets.pop(path, None)
            return 204, None
        raise _err(405, E_UNSUPPORTED)

    # -- control API
    def control(self, method, path, body):
        w = self.w
        if path == "/_emu/state" and method == "GET":
            return 200, w.state()
        if method != "POST":
            return 405, {"errors": ["use POST"]}
        try:
            obj = json.loads(body) if body else {}
        except ValueError as exc:
            return 400, {"errors": ["bad JSON: %s" % exc]}
        if path == "/_emu/reset":
            w.load()
            return 200, {"ok": True}
        if path == "/_emu/expire-tokens":
            now = time.time()
            n = 0
            for t in w.tokens.values():
                if t.root:
                    continue
                if obj.get("accessor") and t.accessor != obj["accessor"]:
                    continue
                t.expires = now - 1
                n += 1
            return 200, {"expired": n}
        if path == "/_emu/secret":
            ns = w.namespaces.get(obj.get("namespace", "").strip("/"))
            if ns is None:
                return 404, {"errors": ["no such namespace"]}
            m = ns.mounts.get(obj.get("mount", "").strip("/"))
            if m is None:
                return 404, {"errors": ["no such mount"]}
            p = obj.get("path", "").strip("/")
            now = time.time()
            if obj.get("destroy"):
                m.secrets.pop(p, None)
                return 200, {"ok": True}
            if obj.get("delete"):
                if m.version == 1:
                    m.secrets.pop(p, None)
                else:
                    s = m.secrets.get(p)
                    if s and s.current in s.versions:
                        s.versions[s.current]["deleted"] = now
                return 200, {"ok": True}
            if not isinstance(obj.get("data"), dict):
                return 400, {"errors": ["data must be an object"]}
            if m.version == 1:
                m.secrets[p] = copy.deepcopy(obj["data"])
                return 200, {"ok": True}
            s = m.secrets.setdefault(p, KVSecret(now))
            return 200, {"ok": True, "version": s.add(copy.deepcopy(obj["data"]), now, m.max_versions)}
        if path == "/_emu/fault":
            return fault_control(w, obj)
        return 404, {"errors": ["unknown control route"]}


def fault_control(w, obj):
    if obj.get("clear"):
        w.faults = []
        return 200, {"ok": True}
    try:
        f = {"method": (obj.get("method") or "").upper(), "rx": re.compile(obj.get("path", "")),
             "status": obj.get("status", 503), "count": int(obj.get("count", 1)),
             "body": obj.get("body"), "headers": obj.get("headers") or {},
             "delay_ms": int(obj.get("delay_ms", 0))}
    except (re.error, ValueError, TypeError) as exc:
        return 400, {"errors": ["bad fault: %s" % exc]}
    w.faults.append(f)
    return 200, {"ok": True, "faults": len(w.faults)}


def take_fault(w, method, path):
    for f in w.faults:
        if f["count"] > 0 and (not f["method"] or f["method"] == method) and f["rx"].search(path):
            f["count"] -= 1
            if f["count"] == 0:
                w.faults.remove(f)
            return f
    return None


# -------------------------------------------------------------------- HTTP

def _clean_path(p):
    c = posixpath.normpath(p)
    if c.startswith("//"):
        c = "/" + c.lstrip("/")
    if p.endswith("/") and not c.endswith("/"):
        c += "/"
    return c


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "VaultEmulator/" + VERSION
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
                    raise VaultError(413, ["http: request body too large"])
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            self.close_connection = True
            raise VaultError(413, ["http: request body too large"])
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status, obj=None, headers=None, raw=None, ctype="application/json"):
        if raw is None and obj is not None:
            raw = json.dumps(obj).encode("utf-8")
        self.send_response(status)
        self.send_header("Cache-Control", "no-store")
        if status != 204:
            body = raw or b""
            if body:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
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
        raw_path, _, qs = self.path.partition("?")
        path = unquote(raw_path)
        try:
            body = self._read_body()
        except VaultError as exc:
            self._send(exc.status, {"errors": exc.errors})
            return
        except (ValueError, OSError):
            self.close_connection = True
            self._send(400, {"errors": ["malformed request body"]})
            return
        label = None
        try:
            if path.startswith("/_emu/"):
                with w.lock:
                    st, obj = srv.vault.control(self.command, path, body)
                self._send(st, obj)
                return
            with w.lock:
                fault = take_fault(w, self.command, path)
            if fault:
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
                    b = fault["body"] if fault["body"] is not None else {"errors": ["injected fault"]}
                    self._send(int(fault["status"]), raw=(b if isinstance(b, str) else json.dumps(b)).encode(),
                               headers=fault["headers"])
                    return
            label, status, obj, headers, raw, ctype = self._vault(path, qs, body)
            self._send(status, obj, headers=headers, raw=raw, ctype=ctype)
        finally:
            if not path.startswith("/_emu/"):
                entry = {"method": self.command, "path": path, "status": self._status}
                with w.lock:
                    w.count(label or "%s %s" % (self.command, "?"), entry)
                if srv.logf:
                    rec = {"t": round(t0, 3), "method": self.command, "path": path, "route": label,
                           "status": self._status, "ms": round((time.time() - t0) * 1000, 1)}
                    with srv.log_lock:
                        srv.logf.write(json.dumps(rec) + "\n")
                        srv.logf.flush()

    def _vault(self, path, qs, body):
        w = self.server.world
        if not path.startswith("/v1/"):
            return "%s ?" % self.command, 404, None, None, b"404 page not found\n", "text/plain; charset=utf-8"
        clean = _clean_path(path)
        if clean != path:
            loc = clean + ("?" + qs if qs else "")
            html = '<a href="%s">Moved Permanently</a>.\n\n' % loc
            return ("%s 301" % self.command, 301, None, {"Location": loc}, html.encode(),
                    "text/html; charset=utf-8")
        query = parse_qs(qs, keep_blank_values=True)
        method = self.command
        if method == "GET" and query.get("list", [""])[0] == "true":
            op = "list"
        else:
            op = {"GET": "read", "LIST": "list", "POST": "update", "PUT": "update",
                  "DELETE": "delete", "PATCH": "patch"}.get(method)
        if op is None:
            return "%s ?" % method, 405, {"errors": []}, None, None, "application/json"
        rel = path[4:]
        if op == "list" and not rel.endswith("/"):
            rel += "/"
        token = self.headers.get("X-Vault-Token")
        if not token:
            auth = self.headers.get("Authorization", "")
            if auth.lower().startswith("bearer "):
                token = auth[7:].strip()
        with w.lock:
            ns = (self.headers.get("X-Vault-Namespace") or "").strip("/")
            if ns and ns not in w.namespaces:
                return ("%s ?" % method, 404,
                        {"errors": ['no handler for route "%s/%s". route entry not found.' % (ns, rel)]},
                        None, None, "application/json")
            segs = rel.split("/")
            while segs and segs[0] and (ns + "/" + segs[0] if ns else segs[0]) in w.namespaces \
                    and len(segs) > 1:
                ns = ns + "/" + segs[0] if ns else segs[0]
                segs = segs[1:]
            rel = "/".join(segs)
            headers = {k: v for k, v in self.headers.items()}
            req = Request(method, op, rel, ns, query, headers, body, token)
            try:
                status, obj = self.server.vault.handle(req)
            except VaultError as exc:
                status = exc.status
                obj = exc.body if exc.body is not None else {"errors": exc.errors}
            if isinstance(obj, dict) and w.inflate.get("bytes"):
                paths = w.inflate.get("paths")
                if paths is None or any(rel.startswith(p) for p in paths):
                    obj = dict(obj)
                    obj["x_emulator_padding"] = "x" * int(w.inflate["bytes"])
            label = req.label or "%s ?" % method
            if ns:
                label = "%s [%s]" % (label, ns)
        return label, status, obj, None, None, "application/json"


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
                    self._send(500, {"errors": ["emulator internal error: %s" % exc]})
                except OSError:
                    pass

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_LIST = do_HEAD = do_OPTIONS = _dispatch

    def __getattr__(self, name):
        # any other HTTP method reaches _dispatch, which answers 405 like Vault
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
    ap = argparse.ArgumentParser(description="Vault emulator")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--jwt-key")
    ap.add_argument("--issuer")
    ap.add_argument("--log")
    args = ap.parse_args(argv)
    key = jwtlib.load_key(args.jwt_key) if args.jwt_key else None
    world = World(args.fixture, key, args.issuer)
    server = Server(("127.0.0.1", args.port), Handler)
    server.world = world
    server.vault = Vault(world)
    server.logf = open(args.log, "a") if args.log else None
    server.log_lock = threading.Lock()
    serve(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
