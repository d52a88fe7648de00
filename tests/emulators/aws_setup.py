"""Seed a fresh moto server from a fixture's `aws` section, then switch IAM on.

Used by world.py (imported, same interpreter: the default python3 with boto3).
Everything is created straight at moto (not through the fault proxy) while
moto still runs without authentication; the last step is moto's own
`POST /moto-api/reset-auth` with `0`, after which every request is SigV4-checked
and IAM-authorised by moto. The result describes the world for the proxy and
the env file.

Multiple accounts: moto keeps one backend per account id. An access key
belongs to the account whose IAM backend holds it, so an IAM user created in
account A signs as A, and `AssumeRole` of `arn:aws:iam::B:role/R` returns a
temporary key created in B's backend: every call made with it acts in B. While
seeding, a request is sent to account B with moto's `x-moto-account-id` header.

Policy templates (tests/emulators/policies/*.json) hold `${VAR}` placeholders,
filled from: the fixture's `aws.vars`, the item's own `vars`, and the computed
ACCOUNT_ID (the item's account), BASE_ACCOUNT_ID, REGION, BASE_USER_ARN,
GITHUB_ROLE_ARN, OIDC_PROVIDER (issuer host:port/path), GITHUB_REPOSITORY.

What moto cannot evaluate: moto authorises Secrets Manager calls against the
resource "*" (it never builds the secret's ARN), so a statement scoped to
`arn:aws:secretsmanager:...:secret:app/*` would never match and every call
would be denied. moto therefore gets a copy of each identity policy whose
Secrets Manager statements have `"Resource": "*"`; the fault proxy evaluates
the real, resource-scoped documents for Secrets Manager (proxy.py `iam`).
Conditions other than `sts:ExternalId` are ignored by moto. Bucket policies:
see moto_bucket_view().
"""
import copy
import json
import os
import re
import urllib.parse
import urllib.request

import boto3
from botocore.config import Config

BROKER_USER = "secretsync-test-sts-broker"

_VAR_RE = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


class SetupError(Exception):
    pass


def _subst(obj, env, where):
    if isinstance(obj, str):
        def rep(m):
            name = m.group(1)
            if name not in env:
                raise SetupError(f"{where}: unknown variable ${{{name}}}")
            return str(env[name])
        return _VAR_RE.sub(rep, obj)
    if isinstance(obj, list):
        return [_subst(x, env, where) for x in obj]
    if isinstance(obj, dict):
        return {_subst(k, env, where): _subst(v, env, where)
                for k, v in obj.items()}
    return obj


def load_policy(ref, policies_dir, env, where):
    """A policy document: a file name in policies_dir, or an inline dict."""
    if isinstance(ref, dict):
        doc = ref
        name = where
    else:
        path = ref if os.path.isabs(ref) else os.path.join(policies_dir, ref)
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        name = os.path.basename(path)
    return _subst(doc, env, f"{where} ({name})")


def _actions(stmt):
    a = stmt.get("Action", [])
    return [a] if isinstance(a, str) else list(a)


def moto_view(doc):
    """The copy of an identity policy that moto can evaluate (see above)."""
    doc = copy.deepcopy(doc)
    stmts = doc.get("Statement", [])
    if isinstance(stmts, dict):
        stmts = [stmts]
    for st in stmts:
        acts = _actions(st)
        if acts and all(a.lower().startswith("secretsmanager:") for a in acts):
            st["Resource"] = "*"
    doc["Statement"] = stmts
    return doc


def moto_bucket_view(doc):
    """The copy of a bucket policy moto gets.

    moto checks a bucket policy on object requests but evaluates only
    StringEquals on sts:ExternalId: any other Condition is taken as met, so a
    conditional Deny ("no PutObject without SSE") would deny every request.
    Such statements are left out for moto and enforced by the proxy instead.
    """
    doc = copy.deepcopy(doc)
    stmts = doc.get("Statement", [])
    if isinstance(stmts, dict):
        stmts = [stmts]
    doc["Statement"] = [st for st in stmts
                        if not (st.get("Effect") == "Deny" and st.get("Condition"))]
    return doc


def _account_hook(account_id):
    def add(request, **kwargs):
        request.headers["x-moto-account-id"] = account_id
    return add


class _Clients:
    def __init__(self, url, region):
        self.url = url
        self.region = region
        self.cache = {}

    def get(self, service, account_id, region=None):
        region = region or self.region
        key = (service, account_id, region)
        if key not in self.cache:
            c = boto3.client(
                service, endpoint_url=self.url, region_name=region,
                aws_access_key_id="seeding", aws_secret_access_key="seeding",
                config=Config(retries={"max_attempts": 1},
                              s3={"addressing_style": "path"}))
            c.meta.events.register("before-sign.*.*", _account_hook(account_id))
            self.cache[key] = c
        return self.cache[key]


def _issuer_host(issuer):
    u = urllib.parse.urlsplit(issuer)
    return u.netloc + u.path.rstrip("/")


def seed(moto_url, aws, policies_dir, issuer="", github_repository="",
         enable_auth=True):
    """Create the fixture's AWS world in moto and return its description.

    `aws` is the fixture's `aws` section (see README.md). Returns a dict:
    region, account_id, base_user {name, arn, access_key_id,
    secret_access_key}, broker {...}, users [...], roles [{name, arn,
    account_id, trust, policies, env, web_identity}], oidc_providers [{arn,
    url, issuer, client_ids, account_id}], buckets [{name, account_id,
    policy, env, require_sse}], secrets [{account_id, region, name, arn}],
    principals {access key id: arn}, policies {principal arn: [documents]}.
    """
    region = aws.get("region", "us-east-1")
    base = str(aws.get("account_id", "123456789012"))
    cl = _Clients(moto_url, region)
    gvars = dict(aws.get("vars", {}))
    gvars.setdefault("AUDIENCE", "sts.amazonaws.com")
    gvars.update({
        "BASE_ACCOUNT_ID": base, "REGION": region,
        "GITHUB_REPOSITORY": github_repository,
        "OIDC_PROVIDER": _issuer_host(issuer) if issuer else "",
    })
    users = aws.get("users", [])
    roles = aws.get("roles", [])
    env_user = next((u for u in users if u.get("env") is True), users[0] if users else None)
    if env_user:
        gvars["BASE_USER_ARN"] = (
            f"arn:aws:iam::{env_user.get('account_id', base)}:user/{env_user['name']}")
    gh_role = next((r for r in roles if r.get("web_identity")), None)
    if gh_role:
        gvars["GITHUB_ROLE_ARN"] = (
            f"arn:aws:iam::{gh_role.get('account_id', base)}:role/{gh_role['name']}")

    out = {"region": region, "account_id": base, "users": [], "roles": [],
           "oidc_providers": [], "buckets": [], "secrets": [],
           "principals": {}, "policies": {}, "base_user": None, "broker": None}

    def item_env(item, account_id):
        e = dict(gvars)
        e.update(item.get("vars", {}))
        e["ACCOUNT_ID"] = account_id
        return _subst(e, dict(gvars, ACCOUNT_ID=account_id), "vars")

    # OIDC provider for the GitHub emulator's issuer, in each account that
    # holds a web-identity role.
    if issuer:
        accounts = sorted({str(r.get("account_id", base))
                           for r in roles if r.get("web_identity")} or {base})
        prov = aws.get("oidc_provider", {})
        client_ids = prov.get("audiences", [gvars["AUDIENCE"]])
        for acct in accounts:
            try:
                arn = cl.get("iam", acct).create_open_id_connect_provider(
                    Url=issuer, ClientIDList=client_ids,
                    ThumbprintList=["0" * 40])["OpenIDConnectProviderArn"]
            except Exception as e:  # moto validates the URL scheme loosely
                raise SetupError(f"aws: OIDC provider for {issuer}: {e}")
            out["oidc_providers"].append({
                "arn": arn, "url": _issuer_host(issuer), "issuer": issuer,
                "client_ids": client_ids, "account_id": acct})

    for u in users:
        acct = str(u.get("account_id", base))
        env = item_env(u, acct)
        iam = cl.get("iam", acct)
        arn = iam.create_user(UserName=u["name"])["User"]["Arn"]
        docs = []
        for i, ref in enumerate(u.get("policies", [])):
            doc = load_policy(ref, policies_dir, env, f"aws.users.{u['name']}")
            docs.append(doc)
            iam.put_user_policy(UserName=u["name"], PolicyName=f"policy{i}",
                                PolicyDocument=json.dumps(moto_view(doc)))
        key = iam.create_access_key(UserName=u["name"])["AccessKey"]
        rec = {"name": u["name"], "arn": arn, "account_id": acct,
               "access_key_id": key["AccessKeyId"],
               "secret_access_key": key["SecretAccessKey"],
               "env": u.get("env")}
        out["users"].append(rec)
        out["principals"][key["AccessKeyId"]] = arn
        out["policies"][arn] = docs
        if u is env_user:
            out["base_user"] = rec

    for r in roles:
        if r.get("web_identity") and not issuer:
            continue  # no OIDC issuer (no GitHub emulator) in this world
        acct = str(r.get("account_id", base))
        env = item_env(r, acct)
        iam = cl.get("iam", acct)
        where = f"aws.roles.{acct}/{r['name']}"
        trust = load_policy(r["trust"], policies_dir, env, where)
        arn = iam.create_role(
            RoleName=r["name"], AssumeRolePolicyDocument=json.dumps(trust),
            MaxSessionDuration=int(r.get("max_session_duration", 3600)))["Role"]["Arn"]
        docs = []
        for i, ref in enumerate(r.get("policies", [])):
            doc = load_policy(ref, policies_dir, env, where)
            docs.append(doc)
            iam.put_role_policy(RoleName=r["name"], PolicyName=f"policy{i}",
                                PolicyDocument=json.dumps(moto_view(doc)))
        out["roles"].append({
            "name": r["name"], "arn": arn, "account_id": acct, "trust": trust,
            "env": r.get("env"), "web_identity": bool(r.get("web_identity")),
            "max_session_duration": int(r.get("max_session_duration", 3600))})
        out["policies"][arn] = docs

    # The proxy's own signer for AssumeRoleWithWebIdentity (moto cannot take
    # an unsigned request once IAM is on; see proxy.py).
    iam = cl.get("iam", base)
    iam.create_user(UserName=BROKER_USER)
    iam.put_user_policy(UserName=BROKER_USER, PolicyName="broker",
                        PolicyDocument=json.dumps({
                            "Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow",
                                           "Action": "sts:AssumeRoleWithWebIdentity",
                                           "Resource": "*"}]}))
    key = iam.create_access_key(UserName=BROKER_USER)["AccessKey"]
    out["broker"] = {"access_key_id": key["AccessKeyId"],
                     "secret_access_key": key["SecretAccessKey"],
                     "region": region}

    for b in aws.get("buckets", []):
        acct = str(b.get("account_id", base))
        env = item_env(b, acct)
        name = _subst(b["name"], env, "aws.buckets")
        breg = b.get("region", region)
        s3 = cl.get("s3", acct, breg)
        if breg == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={
                "LocationConstraint": breg})
        pol = None
        if b.get("policy"):
            pol = load_policy(b["policy"], policies_dir, env, f"aws.buckets.{name}")
            s3.put_bucket_policy(Bucket=name, Policy=json.dumps(moto_bucket_view(pol)))
        for key_name, body in (b.get("objects") or {}).items():
            data = body if isinstance(body, str) else json.dumps(body)
            s3.put_object(Bucket=name, Key=key_name, Body=data.encode(),
                          ServerSideEncryption="AES256")
        out["buckets"].append({"name": name, "account_id": acct, "policy": pol,
                               "env": b.get("env"), "region": breg,
                               "require_sse": bool(b.get("require_sse", True))})

    for s in aws.get("secrets", []):
        acct = str(s.get("account_id", base))
        sreg = s.get("region", region)
        sm = cl.get("secretsmanager", acct, sreg)
        val = s["value"]
        kwargs = {"Name": s["name"],
                  "SecretString": val if isinstance(val, str) else json.dumps(val)}
        if s.get("tags"):
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in s["tags"].items()]
        if s.get("description"):
            kwargs["Description"] = s["description"]
        arn = sm.create_secret(**kwargs)["ARN"]
        for extra in s.get("versions", []):
            sm.put_secret_value(SecretId=arn, SecretString=extra
                                if isinstance(extra, str) else json.dumps(extra))
        out["secrets"].append({"account_id": acct, "region": sreg,
                               "name": s["name"], "arn": arn})

    if enable_auth:
        enable_iam(moto_url)
    return out


def enable_iam(moto_url, count=0):
    """moto: authenticate every request after the next `count` ones."""
    req = urllib.request.Request(
        moto_url.rstrip("/") + "/moto-api/reset-auth", data=str(count).encode(),
        method="POST", headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(req, timeout=10) as r:
        body = json.loads(r.read())
    if body.get("status") != "ok":
        raise SetupError(f"moto reset-auth: {body}")
