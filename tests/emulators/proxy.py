#!/usr/bin/env python3
"""The test world's fault proxy (stdlib only; see README.md for every knob).

    python3 tests/emulators/proxy.py --config FILE

One process, one listening port per upstream service (`sts`,
`secretsmanager`, `s3`, `aws` -> moto; `vault`; `github`) plus a JSON
control port. Each request is forwarded byte for byte (method, the exact
request target, every header including Host, the body) so that SigV4
signatures computed by clients for the proxy's address verify at moto, and
logged as one JSON line. Faults and latency are injected on demand through
the control API. Prints one line `READY {json}` with the ports once listening.

Where moto is looser than AWS, the proxy checks (the `aws` section of the
config, written by world.py):
- AssumeRoleWithWebIdentity: the JWT's RS256 signature (the GitHub emulator's
  key), `iss` (an OIDC provider registered in the role's account), `aud` (one
  of the provider's client ids), expiry, and the role's trust policy
  (Federated principal, `<provider>:aud` / `:sub` conditions). moto accepts
  any token and cannot even take the unsigned call once IAM is on, so a valid
  request is re-signed with the world's broker user and forwarded.
- AssumeRole: the role exists and its trust policy names the caller (moto
  checks trust only for roles in the caller's own account), DurationSeconds
  within the role's MaxSessionDuration.
- Secrets Manager: the caller's real, resource-scoped identity policies
  (moto authorises Secrets Manager against "*" only), with aws:RequestTag,
  aws:TagKeys and secretsmanager:ResourceTag conditions.
- S3: the explicit Deny statements of a bucket's policy (moto ignores bucket
  policies), e.g. "no PutObject without server-side encryption".
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import re
import select
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authenticate",
              "proxy-authorization", "te", "trailer", "trailers",
              "transfer-encoding", "upgrade", "expect"}
AWS_SERVICES = ("sts", "secretsmanager", "s3", "aws")
FAULT_KINDS = ("status", "aws_error", "vault_error", "github_error", "drop_before",
               "drop_after", "stall", "truncate", "malformed")
MUTATING_AWS = re.compile(
    r"^(Create|Put|Delete|Tag|Untag|Update|Restore|Rotate|Cancel|Remove|Replicate|"
    r"Stop|Attach|Detach|Set|Add|Modify|Enable|Disable|Upload|Copy|Abort|Complete|"
    r"Reset)")
# Vault endpoints that are POST/PUT but change no data: auth and token lifecycle.
VAULT_NON_MUTATING = re.compile(
    r"^/v1/(auth/[^?]+/login(/[^?]*)?|auth/token/(lookup|lookup-self|renew-self|"
    r"revoke-self|lookup-accessor)|sys/capabilities(-self)?|sys/wrapping/lookup)/?$")
GITHUB_ROUTES = [
    (r"/repos/[^/]+/[^/]+/issues/\d+/comments", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    (r"/repos/[^/]+/[^/]+/issues/comments/\d+", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    (r"/repos/[^/]+/[^/]+/statuses/[^/]+", "/repos/{owner}/{repo}/statuses/{sha}"),
    (r"/repos/[^/]+/[^/]+/commits/[^/]+/statuses", "/repos/{owner}/{repo}/commits/{ref}/statuses"),
    (r"/repos/[^/]+/[^/]+/commits/[^/]+/status", "/repos/{owner}/{repo}/commits/{ref}/status"),
    (r"/repos/[^/]+/[^/]+/pulls/\d+", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    (r"/repos/[^/]+/[^/]+/pulls", "/repos/{owner}/{repo}/pulls"),
    (r"/repos/[^/]+/[^/]+", "/repos/{owner}/{repo}"),
    (r"/user", "/user"),
    (r"/rate_limit", "/rate_limit"),
    (r"/app", "/app"),
]
GITHUB_ROUTES = [(re.compile("^" + r + "/?$"), t) for r, t in GITHUB_ROUTES]


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


# --------------------------------------------------------------------------
# SigV4 (signing only: the broker's AssumeRoleWithWebIdentity and the
# DescribeSecret look-ups the IAM check needs)

def _q(s):
    return urllib.parse.quote(s, safe="-_.~")


def sigv4_sign(method, host, path, query, headers, body, service, region,
               akid, secret, token=None, now=None):
    """Return the headers to add: X-Amz-Date, [X-Amz-Security-Token], Authorization."""
    t = now or datetime.datetime.now(datetime.timezone.utc)
    amz_date = t.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    add = {"X-Amz-Date": amz_date}
    if token:
        add["X-Amz-Security-Token"] = token
    h = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    h["host"] = host
    for k, v in add.items():
        h[k.lower()] = v
    signed = sorted(h)
    pairs = sorted((_q(k), _q(v)) for k, v in
                   urllib.parse.parse_qsl(query, keep_blank_values=True))
    creq = "\n".join([
        method, path or "/", "&".join(f"{k}={v}" for k, v in pairs),
        "".join(f"{k}:{h[k]}\n" for k in signed), ";".join(signed),
        hashlib.sha256(body).hexdigest()])
    scope = f"{day}/{region}/{service}/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (day, region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    add["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={akid}/{scope}, "
                            f"SignedHeaders={';'.join(signed)}, Signature={sig}")
    return add


def parse_auth(value):
    """(access key id, region, service) from a SigV4 Authorization header."""
    m = re.search(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request", value or "")
    if not m:
        return None, None, None
    return m.group(1), m.group(3), m.group(4)


# --------------------------------------------------------------------------
# A small IAM policy evaluator (the subset the test world's policies use)

def _wild(pattern, value, case=True):
    if not case:
        pattern, value = pattern.lower(), value.lower()
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, re.S) is not None


def _as_list(v):
    if v is None:
        return []
    return [v] if isinstance(v, (str, int, float, bool)) else list(v)


def principal_matches(spec, caller):
    """Does a policy Principal (the `AWS` part) cover the caller ARN?"""
    if spec == "*":
        return True
    if isinstance(spec, dict):
        spec = spec.get("AWS")
    if spec is None:
        return False
    m = re.match(r"arn:aws:(iam|sts)::(\d{12}):(.*)$", caller or "")
    if not m:
        return False
    acct, rest = m.group(2), m.group(3)
    for p in _as_list(spec):
        p = str(p)
        if p == "*" or p == caller:
            return True
        if p in (acct, f"arn:aws:iam::{acct}:root"):
            return True
        rm = re.match(r"arn:aws:iam::(\d{12}):role/(?:.*/)?([^/]+)$", p)
        if rm and rest.startswith("assumed-role/") and rm.group(1) == acct \
                and rest.split("/")[1] == rm.group(2):
            return True
    return False


class Ctx:
    """Condition context: a dict of lower-cased keys, with an optional lazy getter."""

    def __init__(self, values=None, lazy=None):
        self.values = {k.lower(): v for k, v in (values or {}).items()}
        self.lazy = lazy

    def get(self, key):
        k = key.lower()
        if k in self.values:
            return self.values[k]
        if self.lazy:
            v = self.lazy(k)
            self.values[k] = v
            return v
        return None


def _cond_op(op, expected, actual):
    base = op
    if_exists = base.endswith("IfExists")
    if if_exists:
        base = base[:-8]
    quant = None
    if ":" in base:
        quant, base = base.split(":", 1)
    if base == "Null":
        want = str(_as_list(expected)[0]).lower() == "true"
        return (actual is None) == want
    if actual is None:
        return if_exists or quant == "ForAllValues"
    exp = [str(x) for x in _as_list(expected)]
    acts = [str(x) for x in _as_list(actual)]

    def one(a):
        if base == "StringEquals":
            return a in exp
        if base == "StringNotEquals":
            return a not in exp
        if base == "StringEqualsIgnoreCase":
            return a.lower() in [e.lower() for e in exp]
        if base == "StringLike":
            return any(_wild(e, a) for e in exp)
        if base == "StringNotLike":
            return not any(_wild(e, a) for e in exp)
        if base == "Bool":
            return a.lower() in [e.lower() for e in exp]
        if base == "ArnEquals" or base == "ArnLike":
            return any(_wild(e, a) for e in exp)
        return False  # unknown operator: the statement does not apply

    if quant == "ForAllValues":
        return all(one(a) for a in acts)
    return any(one(a) for a in acts)


def conditions_hold(cond, ctx):
    for op, kv in (cond or {}).items():
        for key, expected in kv.items():
            if not _cond_op(op, expected, ctx.get(key)):
                return False
    return True


def statement_applies(st, action, resource, ctx, principal=None):
    if "Action" in st:
        if not any(_wild(a, action, case=False) for a in _as_list(st["Action"])):
            return False
    elif "NotAction" in st:
        if any(_wild(a, action, case=False) for a in _as_list(st["NotAction"])):
            return False
    if resource is not None:
        if "Resource" in st:
            if not any(_wild(r, resource) for r in _as_list(st["Resource"])):
                return False
        elif "NotResource" in st:
            if any(_wild(r, resource) for r in _as_list(st["NotResource"])):
                return False
    if principal is not None and "Principal" in st:
        if not principal(st["Principal"]):
            return False
    return conditions_hold(st.get("Condition"), ctx)


def evaluate(docs, action, resource, ctx, principal=None):
    """'deny' (explicit), 'allow', or 'none' (implicit deny)."""
    allowed = False
    for doc in docs:
        stmts = doc.get("Statement", [])
        if isinstance(stmts, dict):
            stmts = [stmts]
        for st in stmts:
            if statement_applies(st, action, resource, ctx, principal):
                if st.get("Effect") == "Deny":
                    return "deny"
                if st.get("Effect") == "Allow":
                    allowed = True
    return "allow" if allowed else "none"


# --------------------------------------------------------------------------
# Shared state: faults, latency, log, AWS knowledge

class Fault:
    def __init__(self, spec, fid):
        self.id = fid
        self.service = spec.get("service") or "*"
        match = spec.get("match") or {}
        self.operation = match.get("operation")
        self.method = (match.get("method") or "").upper() or None
        self.path_regex = re.compile(match["path_regex"]) if match.get("path_regex") else None
        self.count = int(spec.get("count", 1))
        self.kind = spec.get("kind", "status")
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r} (one of {', '.join(FAULT_KINDS)})")
        self.status = spec.get("status")
        self.code = spec.get("code")
        self.message = spec.get("message")
        self.retry_after = spec.get("retry_after")
        self.stall_ms = int(spec.get("stall_ms", 5000))
        self.after = bool(spec.get("after", False))
        self.hits = 0
        self.spec = spec

    def matches(self, service, method, path, operation):
        if self.service not in ("*", service) and not (
                self.service == "aws" and service in AWS_SERVICES):
            return False
        if self.method and self.method != method:
            return False
        if self.operation and self.operation != operation:
            return False
        if self.path_regex and not self.path_regex.search(path):
            return False
        return True

    def describe(self):
        d = dict(self.spec)
        d.update({"id": self.id, "remaining": self.count, "hits": self.hits})
        return d


class State:
    def __init__(self, cfg):
        self.cfg = cfg
        self.lock = threading.Lock()
        self.faults = []
        self.next_fault = 1
        self.latency = {}
        self.log = []
        self.log_path = cfg.get("log_file")
        self.log_fh = open(self.log_path, "a", encoding="utf-8") if self.log_path else None
        aws = cfg.get("aws") or {}
        self.aws = aws
        self.principals = dict(aws.get("principals", {}))   # akid -> arn
        self.secrets = dict(aws.get("secrets", {}))          # akid -> [secret, token]
        self.policies = dict(aws.get("policies", {}))        # principal/role arn -> docs
        self.roles = {r["arn"]: r for r in aws.get("roles", [])}
        self.providers = aws.get("oidc_providers", [])
        self.buckets = {b["name"]: b for b in aws.get("buckets", [])}
        self.iam_check = aws.get("iam_check", True)
        self.jwt_key = None
        if aws.get("jwt_key"):
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            import jwtlib  # written by the Vault/GitHub emulators' author
            self.jwtlib = jwtlib
            self.jwt_key = jwtlib.load_key(aws["jwt_key"])

    def take_fault(self, service, method, path, operation):
        with self.lock:
            for f in self.faults:
                if f.count > 0 and f.matches(service, method, path, operation):
                    f.count -= 1
                    f.hits += 1
                    return f
        return None

    def latency_for(self, service):
        with self.lock:
            ms = self.latency.get(service)
            if ms is None and service in AWS_SERVICES:
                ms = self.latency.get("aws")
            if ms is None:
                ms = self.latency.get("*", 0)
            return ms

    def record(self, entry):
        line = json.dumps(entry, separators=(",", ":"))
        with self.lock:
            self.log.append(entry)
            if self.log_fh:
                self.log_fh.write(line + "\n")
                self.log_fh.flush()

    def clear_log(self):
        with self.lock:
            self.log = []
            if self.log_fh:
                self.log_fh.truncate(0)
                self.log_fh.seek(0)

    def learn(self, akid, arn, secret=None, token=None):
        with self.lock:
            self.principals[akid] = arn
            if secret:
                self.secrets[akid] = [secret, token]

    def policies_of(self, principal):
        m = re.match(r"arn:aws:sts::(\d{12}):assumed-role/([^/]+)/", principal or "")
        if m:
            principal = f"arn:aws:iam::{m.group(1)}:role/{m.group(2)}"
        return self.policies.get(principal)


# --------------------------------------------------------------------------
# Request classification

def infer_aws_service(headers, body, path):
    _, _, svc = parse_auth(headers.get("Authorization"))
    if svc:
        return svc
    target = headers.get("X-Amz-Target") or ""
    if target.startswith("secretsmanager."):
        return "secretsmanager"
    if b"Action=" in body[:4096] or "Action=" in path:
        return "sts"
    return "s3"


def s3_operation(method, path, query, headers):
    parts = path.lstrip("/").split("/", 1)
    bucket = urllib.parse.unquote(parts[0]) if parts[0] else ""
    key = urllib.parse.unquote(parts[1]) if len(parts) > 1 and parts[1] else ""
    q = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    resource = f"{bucket}/{key}" if key else bucket
    if not bucket:
        return "ListBuckets", resource
    if not key:
        sub = {"GET": {"policy": "GetBucketPolicy", "location": "GetBucketLocation",
                       "versioning": "GetBucketVersioning", "encryption": "GetBucketEncryption",
                       "tagging": "GetBucketTagging", "acl": "GetBucketAcl",
                       "versions": "ListObjectVersions", "uploads": "ListMultipartUploads"},
               "PUT": {"policy": "PutBucketPolicy", "versioning": "PutBucketVersioning",
                       "encryption": "PutBucketEncryption", "tagging": "PutBucketTagging",
                       "acl": "PutBucketAcl"},
               "DELETE": {"policy": "DeleteBucketPolicy", "tagging": "DeleteBucketTagging",
                          "encryption": "DeleteBucketEncryption"},
               "POST": {"delete": "DeleteObjects"}}.get(method, {})
        for k, op in sub.items():
            if k in q:
                return op, resource
        if method == "GET":
            return ("ListObjectsV2" if q.get("list-type") == "2" else "ListObjects"), resource
        return {"PUT": "CreateBucket", "HEAD": "HeadBucket",
                "DELETE": "DeleteBucket"}.get(method, method + "Bucket"), resource
    if method == "GET":
        return ("GetObjectTagging" if "tagging" in q else
                "GetObjectAcl" if "acl" in q else "GetObject"), resource
    if method == "HEAD":
        return "HeadObject", resource
    if method == "PUT":
        if "partNumber" in q:
            return "UploadPart", resource
        if "tagging" in q:
            return "PutObjectTagging", resource
        if any(k.lower() == "x-amz-copy-source" for k in headers.keys()):
            return "CopyObject", resource
        return "PutObject", resource
    if method == "DELETE":
        return ("AbortMultipartUpload" if "uploadId" in q else "DeleteObject"), resource
    if method == "POST":
        if "uploads" in q:
            return "CreateMultipartUpload", resource
        if "uploadId" in q:
            return "CompleteMultipartUpload", resource
    return method + "Object", resource


def classify(service, method, path, query, headers, body):
    """(service, operation, mutating, resource, aws protocol)."""
    if service in AWS_SERVICES:
        if service == "aws":
            service = infer_aws_service(headers, body, path + "?" + query)
        target = headers.get("X-Amz-Target")
        if target:
            op = target.split(".")[-1]
            resource = None
            try:
                j = json.loads(body or b"{}")
                resource = j.get("SecretId") or j.get("Name")
            except (ValueError, AttributeError):
                pass
            return service, op, bool(MUTATING_AWS.match(op)), resource, "json"
        params = dict(urllib.parse.parse_qsl(query))
        ctype = headers.get("Content-Type") or ""
        if "x-www-form-urlencoded" in ctype and body:
            try:
                params.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
            except ValueError:
                pass
        if "Action" in params and service != "s3":
            op = params["Action"]
            return service, op, bool(MUTATING_AWS.match(op)), params.get("RoleArn"), "query"
        if service == "s3":
            op, resource = s3_operation(method, path, query, headers)
            return service, op, method in ("PUT", "DELETE", "POST"), resource, "s3"
        return service, method, method in ("PUT", "DELETE", "POST"), None, "query"
    if service == "vault":
        m = method
        if m == "GET" and re.search(r"(^|&)list=true(&|$)", query):
            m = "LIST"
        mut = m in ("POST", "PUT", "DELETE", "PATCH") and not VAULT_NON_MUTATING.match(path)
        return service, f"{m} {path}", mut, None, None
    if service == "github":
        route = path
        for rx, tmpl in GITHUB_ROUTES:
            if rx.match(path):
                route = tmpl
                break
        if "idtoken" in path.lower() or "token.actions" in path.lower():
            route = "/oidc/token"
        return service, f"{method} {route}", method in ("POST", "PATCH", "PUT", "DELETE"), None, None
    return service, f"{method} {path}", method in ("POST", "PATCH", "PUT", "DELETE"), None, None


# --------------------------------------------------------------------------
# Service-shaped error bodies

def aws_error(protocol, code, message, status=None, service="sts"):
    rid = str(uuid.uuid4())
    if protocol == "json":
        st = status or (500 if code in ("InternalFailure", "InternalServiceError") else
                        503 if code == "ServiceUnavailable" else 400)
        return st, [("Content-Type", "application/x-amz-json-1.1"),
                    ("x-amzn-RequestId", rid), ("x-amzn-ErrorType", code)], \
            _json({"__type": code, "message": message})
    if protocol == "s3":
        st = status or (503 if code == "SlowDown" else 500 if code == "InternalError" else
                        403 if code == "AccessDenied" else 400)
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                f'<Message>{_xml_esc(message)}</Message><RequestId>{rid}</RequestId>'
                f'<HostId>{base64.b64encode(os.urandom(24)).decode()}</HostId></Error>')
        return st, [("Content-Type", "application/xml"), ("x-amz-request-id", rid)], body.encode()
    st = status or (500 if code in ("InternalFailure",) else
                    503 if code == "ServiceUnavailable" else
                    403 if code == "AccessDenied" else 400)
    kind = "Receiver" if st >= 500 else "Sender"
    ns = "https://sts.amazonaws.com/doc/2011-06-15/" if service == "sts" else ""
    xmlns = f' xmlns="{ns}"' if ns else ""
    body = (f"<ErrorResponse{xmlns}><Error><Type>{kind}</Type><Code>{code}</Code>"
            f"<Message>{_xml_esc(message)}</Message></Error>"
            f"<RequestId>{rid}</RequestId></ErrorResponse>")
    return st, [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)], body.encode()


# moto answers authentication and authorisation failures of JSON-protocol
# services (Secrets Manager) with the query protocol's XML and a 403, which
# no AWS SDK parses for those services. AWS sends JSON, status 400.
JSON_AUTH_ERRORS = {
    "SignatureDoesNotMatch": ("InvalidSignatureException", 400),
    "InvalidClientTokenId": ("UnrecognizedClientException", 400),
    "AccessDenied": ("AccessDeniedException", 400),
    "ExpiredToken": ("ExpiredTokenException", 400),
    "InvalidToken": ("UnrecognizedClientException", 400),
}


def json_error_from_xml(status, body):
    code, msg = "InternalFailure", ""
    try:
        root = ET.fromstring(body)
        for el in root.iter():
            tag = el.tag.split("}")[-1]
            if tag == "Code" and code == "InternalFailure":
                code = el.text or code
            elif tag == "Message" and not msg:
                msg = el.text or ""
    except ET.ParseError:
        pass
    if code == "InvalidClientTokenId":
        msg = "The security token included in the request is invalid."
    code, st = JSON_AUTH_ERRORS.get(code, (code, status))
    return aws_error("json", code, msg, st)


def _xml_esc(s):
    return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def fault_response(f, service, protocol):
    extra = []
    if f.retry_after is not None:
        extra.append(("Retry-After", str(f.retry_after)))
    if f.kind == "aws_error":
        proto = protocol or ("s3" if service == "s3" else "query")
        default = {"json": "ThrottlingException", "query": "Throttling", "s3": "SlowDown"}[proto]
        code = f.code or default
        st, h, b = aws_error(proto, code, f.message or "Rate exceeded", f.status, service)
        return st, h + extra, b
    if f.kind == "vault_error":
        st = f.status or 503
        msg = f.message or {412: "required index state not present",
                            429: "request rate limit exceeded",
                            503: "Vault is sealed"}.get(st, "internal error")
        return st, [("Content-Type", "application/json")] + extra, _json({"errors": [msg]})
    if f.kind == "github_error":
        st = f.status or 429
        if st in (403, 429) and f.retry_after is None:
            extra.append(("Retry-After", "1"))
        if st in (403, 429):
            extra += [("x-ratelimit-limit", "5000"), ("x-ratelimit-remaining", "0"),
                      ("x-ratelimit-reset", str(int(time.time()) + 1))]
        msg = f.message or ("API rate limit exceeded" if st in (403, 429) else "Server Error")
        return st, [("Content-Type", "application/json; charset=utf-8")] + extra, _json({
            "message": msg,
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"})
    st = f.status or 503
    return st, [("Content-Type", "text/plain")] + extra, (f.message or "injected fault").encode()


# --------------------------------------------------------------------------
# The request handler

class UpstreamError(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 600
    server_version = "secretsync-test-proxy"

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def __getattr__(self, name):
        if name.startswith("do_"):
            return self.proxy
        raise AttributeError(name)

    # -- plumbing ---------------------------------------------------------
    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = bytearray()
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline(65537)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def write_raw(self, status, reason, headers, body, content_length=None, close=False):
        lines = [f"HTTP/1.1 {status} {reason or http.client.responses.get(status, '')}"]
        have_date = False
        for k, v in headers:
            if k.lower() in HOP_BY_HOP or k.lower() == "content-length":
                continue
            have_date = have_date or k.lower() == "date"
            lines.append(f"{k}: {v}")
        if not have_date:
            lines.append("Date: " + self.date_time_string())
        if content_length is not None:
            lines.append(f"Content-Length: {content_length}")
        if close:
            lines.append("Connection: close")
            self.close_connection = True
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        # Log before the client can see the answer, so that a test reading
        # the log right after its response finds the entry.
        self.commit(status)
        self.wfile.write(head + (body or b""))
        self.wfile.flush()

    def commit(self, status):
        """Record the current request's log entry (once)."""
        p = getattr(self, "_pending", None)
        if not p:
            return
        self._pending = None
        entry, t0, fault = p
        entry["status"] = status
        entry["duration_ms"] = round((time.monotonic() - t0) * 1000, 2)
        if fault:
            entry["fault"] = fault.kind
        self.server.state.record(entry)

    def drop(self):
        self.commit(None)
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def client_gone(self):
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
            if r:
                return self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError, ssl.SSLError):
            return True
        return False

    def upstream(self, method, target, headers, body):
        """Forward; return (status, reason, header list, body)."""
        up = self.server.upstream
        pool = self.server.pool
        conn = getattr(pool, "conn", None)
        for attempt in (0, 1):
            fresh = conn is None
            try:
                if fresh:
                    conn = http.client.HTTPConnection(up.hostname, up.port, timeout=300)
                    conn.connect()
                    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
                for k, v in headers:
                    conn.putheader(k, v)
                conn.endheaders(body if body or method in ("POST", "PUT", "PATCH") else None)
                resp = conn.getresponse()
                data = resp.read()
                hdrs = resp.getheaders()
                if resp.will_close:
                    conn.close()
                    conn = None
                pool.conn = conn
                return resp.status, resp.reason, hdrs, data
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError) as e:
                conn.close()
                conn = None
                pool.conn = None
                if fresh or attempt:
                    raise UpstreamError(str(e))
            except (OSError, http.client.HTTPException) as e:
                if conn is not None:
                    conn.close()
                pool.conn = None
                raise UpstreamError(str(e))
        raise UpstreamError("unreachable")

    # -- the request ------------------------------------------------------
    def proxy(self):
        t0 = time.monotonic()
        st = self.server.state
        service = self.server.service
        method = self.command
        target = self.path  # the exact request target, as sent
        path, _, query = target.partition("?")
        entry = {"ts": now_iso(), "service": service, "method": method, "path": path}
        status = None
        fault = None
        self._pending = (entry, t0, None)
        try:
            body = self.read_body()
            svc, op, mutating, resource, protocol = classify(
                service, method, path, query, self.headers, body)
            entry.update({"service": svc, "operation": op, "mutating": mutating})
            if resource:
                entry["resource"] = resource
            if svc in ("sts", "secretsmanager", "s3"):
                akid, _, _ = parse_auth(self.headers.get("Authorization"))
                if akid and akid in st.principals:
                    entry["principal"] = st.principals[akid]
            headers = [(k, v) for k, v in self.headers.items()
                       if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"]
            if body or method in ("POST", "PUT", "PATCH"):
                headers.append(("Content-Length", str(len(body))))

            if service in AWS_SERVICES and path.startswith("/moto-api"):
                status = 404
                self.write_raw(404, None, [("Content-Type", "text/plain")], b"not found\n",
                               len(b"not found\n"))
                return
            ms = st.latency_for(svc)
            if ms:
                time.sleep(ms / 1000.0)
            fault = st.take_fault(svc, method, path, op)
            if fault:
                entry["fault"] = fault.kind
                self._pending = (entry, t0, fault)
            if fault and fault.kind in ("status", "aws_error", "vault_error", "github_error"):
                s, h, b = fault_response(fault, svc, protocol)
                status = s
                self.write_raw(s, None, h, b, len(b))
                return
            if fault and fault.kind == "drop_before":
                self.drop()
                return
            if fault and fault.kind == "stall" and not fault.after:
                deadline = time.monotonic() + fault.stall_ms / 1000.0
                while time.monotonic() < deadline:
                    if self.client_gone():
                        entry["client_gone"] = True
                        self.close_connection = True
                        return
                    time.sleep(min(0.02, max(0.0, deadline - time.monotonic())))

            # Checks where moto is looser than AWS; a refusal is answered here.
            refusal, hook = None, None
            if svc == "sts" and op == "AssumeRoleWithWebIdentity":
                refusal, headers, body = self.web_identity(query, headers, body)
                hook = "web_identity"
            elif svc == "sts" and op == "AssumeRole":
                hook = "assume_role"
            elif svc == "secretsmanager" and st.iam_check:
                refusal = self.secretsmanager_check(op, body)
            elif svc == "s3":
                refusal = self.bucket_policy_check(op, resource)
            if refusal:
                s, h, b = refusal
                status = s
                entry["refused_by_proxy"] = True
                self.write_raw(s, None, h, b, len(b))
                return

            try:
                s, reason, h, b = self.upstream(method, target, headers, body)
            except UpstreamError as e:
                status = 502
                msg = f"proxy: upstream {service} unreachable: {e}\n".encode()
                self.write_raw(502, None, [("Content-Type", "text/plain")], msg, len(msg))
                return
            if hook == "assume_role" and s == 200:
                ref = self.assume_role_check(query, body, b)
                if ref:
                    s, h, b = ref
                    entry["refused_by_proxy"] = True
                    reason = None
            elif hook == "web_identity" and s == 200:
                b = self.web_identity_result(b)
            if protocol == "json" and s >= 400 and b.lstrip().startswith(b"<"):
                s, h, b = json_error_from_xml(s, b)
                reason = None
                entry["translated_error"] = True
            if fault and fault.kind == "drop_after":
                entry["upstream_status"] = s
                self.drop()
                return
            status = s
            if fault and fault.kind == "stall" and fault.after:
                time.sleep(fault.stall_ms / 1000.0)
            no_body = method == "HEAD" or s in (204, 304) or 100 <= s < 200
            if no_body:
                cl = next((v for k, v in h if k.lower() == "content-length"), None)
                self.write_raw(s, reason, h, b"", cl)
                return
            if fault and fault.kind == "truncate":
                half = b[:len(b) // 2]
                self.write_raw(s, reason, h, half, len(b) + 100 if b else 100, close=True)
                self.drop()
                return
            if fault and fault.kind == "malformed":
                b = b[:len(b) // 2] + b'\x00}]>{"garbage'
                s = fault.status or s
                reason = None
            self.write_raw(s, reason, h, b, len(b))
        except (ConnectionError, socket.timeout, ssl.SSLError):
            self.close_connection = True
        except Exception as e:  # a proxy bug: answer 500, keep serving
            entry["error"] = f"{type(e).__name__}: {e}"[:300]
            status = 500
            msg = b"proxy: internal error\n"
            try:
                self.write_raw(500, None, [("Content-Type", "text/plain")], msg, len(msg),
                               close=True)
            except OSError:
                pass
        finally:
            self.commit(status)

    # -- AWS checks -------------------------------------------------------
    def _params(self, query, body):
        p = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        if body:
            p.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace"),
                                            keep_blank_values=True))
        return p

    def web_identity(self, query, headers, body):
        """Verify the token and the trust policy; re-sign for moto."""
        st = self.server.state
        p = self._params(query, body)

        def err(code, msg, status=400):
            return aws_error("query", code, msg, status, "sts"), headers, body

        token = p.get("WebIdentityToken", "")
        role_arn = p.get("RoleArn", "")
        if not st.jwt_key:
            return err("InvalidIdentityToken", "No OpenIDConnect provider configured")
        if not p.get("RoleSessionName"):
            return err("ValidationError", "1 validation error detected: Value null at "
                       "'roleSessionName' failed to satisfy constraint: Member must not be null")
        try:
            claims = json.loads(base64.urlsafe_b64decode(
                token.split(".")[1] + "=" * (-len(token.split(".")[1]) % 4)))
            if not isinstance(claims, dict):
                raise ValueError("claims")
        except (IndexError, ValueError):
            return err("InvalidIdentityToken", "The ID Token provided is not a valid JWT. "
                       "(You may see this error if you sent an Access Token)")
        role = st.roles.get(role_arn)
        acct = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
        iss = str(claims.get("iss", ""))
        prov = next((pv for pv in st.providers if pv["issuer"].rstrip("/") == iss.rstrip("/")
                     and pv["account_id"] == acct), None)
        if not prov:
            return err("InvalidIdentityToken",
                       f"No OpenIDConnect provider found in your account for {iss}")
        exp = claims.get("exp")
        now = time.time()
        try:
            vnow = min(now, float(exp) - 1) if exp is not None else now
            st.jwtlib.verify(token, st.jwt_key, now=vnow)
        except st.jwtlib.JWTError:
            return err("InvalidIdentityToken", "Couldn't verify the signature of the web "
                       "identity token with the identity provider's keys")
        except (TypeError, ValueError):
            return err("InvalidIdentityToken", "The web identity token is malformed")
        auds = _as_list(claims.get("aud"))
        aud = next((a for a in auds if a in prov["client_ids"]), None)
        if aud is None:
            return err("InvalidIdentityToken", "Incorrect token audience")
        if exp is None or float(exp) <= now:
            return err("ExpiredTokenException",
                       f"Token expired: current date/time {int(now)} must be before the "
                       f"expiration date/time {exp}")
        if not role:
            return err("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity",
                       403)
        dur = p.get("DurationSeconds")
        if dur and int(dur) > int(role.get("max_session_duration", 3600)):
            return err("ValidationError", "The requested DurationSeconds exceeds the "
                       "MaxSessionDuration set for this role.")
        ctx = {f"{prov['url']}:{k}": v for k, v in claims.items()
               if isinstance(v, (str, int, float, bool))}
        ctx[f"{prov['url']}:aud"] = aud
        fed = prov["arn"]

        def principal(spec):
            return isinstance(spec, dict) and fed in _as_list(spec.get("Federated"))

        verdict = evaluate([role["trust"]], "sts:AssumeRoleWithWebIdentity", None,
                           Ctx(ctx), principal)
        if verdict != "allow":
            return err("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity",
                       403)
        self._wi_claims = (claims, aud, prov)
        # moto needs a signed request: sign it as the broker.
        broker = st.aws["broker"]
        host = self.headers.get("Host") or ""
        keep = [(k, v) for k, v in headers if k.lower() not in (
            "authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256")]
        ctype = next((v for k, v in keep if k.lower() == "content-type"), None)
        signed_src = {"Content-Type": ctype} if ctype else {}
        path = self.path.partition("?")[0]
        add = sigv4_sign(self.command, host, path, query, signed_src, body, "sts",
                         broker.get("region", "us-east-1"), broker["access_key_id"],
                         broker["secret_access_key"])
        return None, keep + list(add.items()), body

    def web_identity_result(self, body):
        """Learn the session; add the fields AWS returns and moto leaves out."""
        self._learn_session(body)
        claims, aud, prov = getattr(self, "_wi_claims", ({}, "", {}))
        extra = (f"<SubjectFromWebIdentityToken>{_xml_esc(claims.get('sub', ''))}"
                 f"</SubjectFromWebIdentityToken><Audience>{_xml_esc(aud)}</Audience>"
                 f"<Provider>{_xml_esc(prov.get('arn', ''))}</Provider>")
        tag = b"<AssumeRoleWithWebIdentityResult>"
        if tag in body and b"<SubjectFromWebIdentityToken>" not in body:
            body = body.replace(tag, tag + extra.encode(), 1)
        return body

    def _learn_session(self, body):
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            return None
        vals = {}
        for el in root.iter():
            tag = el.tag.split("}")[-1]
            if tag in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Arn"):
                vals.setdefault(tag, el.text)
        if "AccessKeyId" in vals and "Arn" in vals:
            self.server.state.learn(vals["AccessKeyId"], vals["Arn"],
                                    vals.get("SecretAccessKey"), vals.get("SessionToken"))
        return vals

    def assume_role_check(self, query, req_body, resp_body):
        st = self.server.state
        p = self._params(query, req_body)
        role_arn = p.get("RoleArn", "")
        akid, _, _ = parse_auth(self.headers.get("Authorization"))
        caller = st.principals.get(akid)
        if caller is None:
            # A principal the world does not know: leave it to moto.
            self._learn_session(resp_body)
            return None
        role = st.roles.get(role_arn)

        def denied():
            return aws_error("query", "AccessDenied",
                             f"User: {caller} is not authorized to perform: sts:AssumeRole "
                             f"on resource: {role_arn}", 403, "sts")

        if not role:
            return denied()
        ctx = {"sts:ExternalId": p.get("ExternalId"), "aws:PrincipalArn": caller,
               "sts:RoleSessionName": p.get("RoleSessionName")}
        ctx = {k: v for k, v in ctx.items() if v is not None}
        verdict = evaluate([role["trust"]], "sts:AssumeRole", None, Ctx(ctx),
                           lambda spec: principal_matches(spec, caller))
        if verdict != "allow":
            return denied()
        dur = p.get("DurationSeconds")
        if dur and int(dur) > int(role.get("max_session_duration", 3600)):
            return aws_error("query", "ValidationError",
                             "The requested DurationSeconds exceeds the MaxSessionDuration "
                             "set for this role.", 400, "sts")
        self._learn_session(resp_body)
        return None

    def secretsmanager_check(self, op, body):
        st = self.server.state
        akid, region, _ = parse_auth(self.headers.get("Authorization"))
        caller = st.principals.get(akid)
        docs = st.policies_of(caller) if caller else None
        if docs is None:
            return None  # unknown principal: moto decides alone
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            return None
        if not isinstance(req, dict):
            return None
        acct = caller.split(":")[4]
        sid = req.get("SecretId") or req.get("Name")
        if op in ("ListSecrets", "BatchGetSecretValue", "GetRandomPassword") or not sid:
            resources = ["*"]
        elif sid.startswith("arn:"):
            resources = [sid]
        else:
            resources = [f"arn:aws:secretsmanager:{region}:{acct}:secret:{sid}-AbCdEf"]
        if op == "BatchGetSecretValue":
            for s in req.get("SecretIdList") or []:
                resources.append(s if s.startswith("arn:") else
                                 f"arn:aws:secretsmanager:{region}:{acct}:secret:{s}-AbCdEf")
        values = {"aws:PrincipalArn": caller, "aws:RequestedRegion": region}
        tags = req.get("Tags")
        if isinstance(tags, list):
            for t in tags:
                if isinstance(t, dict) and "Key" in t:
                    values[f"aws:RequestTag/{t['Key']}"] = t.get("Value", "")
            values["aws:TagKeys"] = [t.get("Key") for t in tags if isinstance(t, dict)]
        if isinstance(req.get("TagKeys"), list):
            values["aws:TagKeys"] = req["TagKeys"]
        cache = {}

        def lazy(key):
            m = re.match(r"(?:secretsmanager|aws):resourcetag/(.+)$", key)
            if not m or not sid or op == "CreateSecret":
                return None
            if "tags" not in cache:
                cache["tags"] = self._secret_tags(akid, region, sid)
            for k, v in cache["tags"].items():
                if k.lower() == m.group(1):
                    return v
            return None

        for i, res in enumerate(resources):
            action = "secretsmanager:" + (op if i == 0 else "GetSecretValue")
            verdict = evaluate(docs, action, res, Ctx(values, lazy))
            if verdict != "allow":
                shown = res.replace("-AbCdEf", "-??????")
                return aws_error(
                    "json", "AccessDeniedException",
                    f"User: {caller} is not authorized to perform: {action} on resource: "
                    f"{shown} because no identity-based policy allows the {action} action"
                    if verdict == "none" else
                    f"User: {caller} is not authorized to perform: {action} on resource: "
                    f"{shown} with an explicit deny in an identity-based policy", 400)
        return None

    def _secret_tags(self, akid, region, sid):
        """DescribeSecret at moto with the caller's own credentials (not logged)."""
        st = self.server.state
        cred = st.secrets.get(akid)
        if not cred:
            return {}
        up = self.server.moto
        host = f"{up.hostname}:{up.port}"
        body = _json({"SecretId": sid})
        hdrs = {"Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "secretsmanager.DescribeSecret"}
        hdrs.update(sigv4_sign("POST", host, "/", "", hdrs, body, "secretsmanager",
                               region, akid, cred[0], cred[1]))
        try:
            c = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
            c.request("POST", "/", body=body, headers=dict(hdrs, Host=host))
            r = c.getresponse()
            data = r.read()
            c.close()
            if r.status != 200:
                return {}
            return {t["Key"]: t.get("Value", "") for t in json.loads(data).get("Tags", [])}
        except (OSError, ValueError, http.client.HTTPException):
            return {}

    def bucket_policy_check(self, op, resource):
        st = self.server.state
        if not resource:
            return None
        bucket = resource.split("/", 1)[0]
        b = st.buckets.get(bucket)
        if not b or not b.get("policy"):
            return None
        arn = f"arn:aws:s3:::{resource}"
        akid, _, _ = parse_auth(self.headers.get("Authorization"))
        caller = st.principals.get(akid, "")
        values = {"aws:SecureTransport": "true" if self.server.tls else "false"}
        for k in ("x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id"):
            v = self.headers.get(k)
            if v is not None:
                values["s3:" + k] = v
        q = dict(urllib.parse.parse_qsl(self.path.partition("?")[2]))
        if "prefix" in q:
            values["s3:prefix"] = q["prefix"]
        action = "s3:" + {"HeadObject": "GetObject", "ListObjectsV2": "ListBucket",
                          "ListObjects": "ListBucket", "HeadBucket": "ListBucket",
                          "CopyObject": "PutObject"}.get(op, op)
        # Only explicit denies: cross-account allow logic is moto's business.
        denies = [s for s in _as_list(b["policy"].get("Statement")) if s.get("Effect") == "Deny"]
        verdict = evaluate([{"Statement": denies}], action, arn, Ctx(values),
                           lambda spec: principal_matches(spec, caller))
        if verdict == "deny":
            return aws_error("s3", "AccessDenied", "Access Denied", 403)
        return None


class ServiceServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, service, upstream, state, moto=None, tls_ctx=None):
        super().__init__(addr, Handler)
        self.service = service
        self.upstream = urllib.parse.urlsplit(upstream)
        self.moto = urllib.parse.urlsplit(moto or upstream)
        self.state = state
        self.pool = threading.local()
        self.tls = tls_ctx is not None
        if tls_ctx is not None:
            self.socket = tls_ctx.wrap_socket(self.socket, server_side=True,
                                              do_handshake_on_connect=False)

    def finish_request(self, request, client_address):
        if self.tls:
            try:
                request.settimeout(30)
                request.do_handshake()
                request.settimeout(None)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)


# --------------------------------------------------------------------------
# Control API

class ControlHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj):
        b = _json(obj)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        return json.loads(raw) if raw.strip() else {}

    def do_GET(self):
        st = self.server.state
        path, _, query = self.path.partition("?")
        q = dict(urllib.parse.parse_qsl(query))
        if path == "/health":
            return self.reply(200, {"ok": True, "ports": self.server.ports})
        if path == "/log":
            with st.lock:
                entries = list(st.log)
            if "service" in q:
                entries = [e for e in entries if e.get("service") == q["service"]]
            if "mutating" in q:
                want = q["mutating"].lower() == "true"
                entries = [e for e in entries if e.get("mutating") == want]
            return self.reply(200, entries)
        if path == "/faults":
            with st.lock:
                return self.reply(200, [f.describe() for f in st.faults])
        if path == "/latency":
            with st.lock:
                return self.reply(200, dict(st.latency))
        return self.reply(404, {"error": f"no route GET {path}"})

    def do_POST(self):
        st = self.server.state
        try:
            spec = self.body()
        except ValueError as e:
            return self.reply(400, {"error": f"bad JSON: {e}"})
        if self.path == "/faults":
            specs = spec if isinstance(spec, list) else [spec]
            ids = []
            try:
                with st.lock:
                    for s in specs:
                        f = Fault(s, st.next_fault)
                        st.next_fault += 1
                        st.faults.append(f)
                        ids.append(f.id)
            except (ValueError, TypeError, re.error) as e:
                return self.reply(400, {"error": str(e)})
            return self.reply(200, {"ids": ids, "id": ids[0] if ids else None})
        if self.path == "/latency":
            try:
                ms = float(spec.get("ms", 0))
            except (TypeError, ValueError):
                return self.reply(400, {"error": "ms must be a number"})
            svc = spec.get("service") or "*"
            with st.lock:
                if ms > 0:
                    st.latency[svc] = ms
                else:
                    st.latency.pop(svc, None)
            return self.reply(200, {"service": svc, "ms": ms})
        return self.reply(404, {"error": f"no route POST {self.path}"})

    def do_DELETE(self):
        st = self.server.state
        if self.path == "/faults":
            with st.lock:
                st.faults = []
            return self.reply(200, {"ok": True})
        if self.path == "/log":
            st.clear_log()
            return self.reply(200, {"ok": True})
        if self.path == "/latency":
            with st.lock:
                st.latency = {}
            return self.reply(200, {"ok": True})
        return self.reply(404, {"error": f"no route DELETE {self.path}"})


class ControlServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description="the test world's fault proxy")
    ap.add_argument("--config", required=True)
    args = ap.parse_args()
    with open(args.config, encoding="utf-8") as f:
        cfg = json.load(f)
    state = State(cfg)
    host = cfg.get("listen", "127.0.0.1")
    tls_ctx = None
    if cfg.get("tls"):
        tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_ctx.load_cert_chain(cfg["tls"]["cert"], cfg["tls"]["key"])
    servers = []
    ports = {}
    moto = (cfg.get("services", {}).get("aws") or {}).get("upstream")
    for name, svc in cfg.get("services", {}).items():
        srv = ServiceServer((host, int(svc.get("port", 0))), name, svc["upstream"], state,
                            moto=moto, tls_ctx=tls_ctx)
        servers.append(srv)
        ports[name] = srv.server_address[1]
    ctl = ControlServer((host, int(cfg.get("control_port", 0))), ControlHandler)
    ctl.state = state
    ctl.ports = ports
    servers.append(ctl)
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for t in threads:
        t.start()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    sys.stdout.write("READY " + json.dumps({"control": ctl.server_address[1],
                                            "services": ports}) + "\n")
    sys.stdout.flush()
    while not stop.wait(0.2):
        pass
    # Stop at once: close the listening sockets, flush the log, leave.
    for s in servers:
        try:
            s.socket.close()
        except OSError:
            pass
    with state.lock:
        if state.log_fh:
            state.log_fh.flush()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
