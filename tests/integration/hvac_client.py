#!/usr/bin/python3
"""Drive hvac (Debian's python3-hvac, only in /usr/bin/python3) for the tests.

Reads one JSON document on stdin:
    {"url": "http://127.0.0.1:PORT", "ops": [OP, ...]}
and prints one JSON document on stdout: a list with one result per OP.

OP forms (every OP names the client it uses; "default" when absent):
    {"client": "a", "new": {"token": T, "namespace": NS, "strict_http": false,
                            "token_from": "other-client"}}
    {"client": "a", "call": "secrets.kv.v2.read_secret_version",
                    "args": [...], "kwargs": {...}}
    {"client": "a", "token": true}               -> the client's current token
    {"client": "a", "is_authenticated": true}    -> bool

A result is {"ok": true, "value": V} or
{"ok": false, "exc": "InvalidPath", "errors": [...], "message": "..."}.
A requests.Response value becomes {"status_code": N, "text": "...",
"headers": {...}}. Only the test reads this output; nothing is logged.
"""

import json
import sys

try:
    import hvac
    import hvac.exceptions
except ImportError as exc:  # pragma: no cover - reported to the test
    print(json.dumps({"error": "hvac not importable: %s" % exc}))
    sys.exit(3)


def _value(v):
    if hasattr(v, "status_code") and hasattr(v, "text"):
        return {"status_code": v.status_code, "text": v.text,
                "headers": dict(v.headers)}
    return v


def main():
    spec = json.load(sys.stdin)
    url = spec["url"]
    clients = {}
    out = []
    for op in spec["ops"]:
        name = op.get("client", "default")
        try:
            if "new" in op:
                n = op["new"]
                token = n.get("token")
                if n.get("token_from"):
                    token = clients[n["token_from"]].token
                clients[name] = hvac.Client(url=url, token=token, namespace=n.get("namespace"),
                                            strict_http=bool(n.get("strict_http", False)), timeout=10)
                out.append({"ok": True, "value": None})
                continue
            client = clients.get(name)
            if client is None:
                client = clients[name] = hvac.Client(url=url, timeout=10)
            if op.get("token"):
                out.append({"ok": True, "value": client.token})
                continue
            if op.get("is_authenticated"):
                out.append({"ok": True, "value": client.is_authenticated()})
                continue
            target = client
            for part in op["call"].split("."):
                target = getattr(target, part)
            value = target(*op.get("args", []), **op.get("kwargs", {}))
            out.append({"ok": True, "value": _value(value)})
        except hvac.exceptions.VaultError as exc:
            out.append({"ok": False, "exc": type(exc).__name__, "errors": exc.errors,
                        "message": str(exc)})
        except Exception as exc:  # a client-side failure is a result too
            out.append({"ok": False, "exc": type(exc).__name__, "errors": None,
                        "message": str(exc)})
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
