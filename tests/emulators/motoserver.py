#!/usr/bin/env python3
"""moto 5 in server mode on an ephemeral loopback port, for the test world.

    python3 tests/emulators/motoserver.py [--host 127.0.0.1] [--port 0]

This is moto's own server (moto.server's DomainDispatcherApplication served by
werkzeug, exactly what `python3 -m moto.server` runs) with two differences:

- it binds port 0 and prints one line `READY <port>` once it listens, so the
  launcher needs no guessed free port;
- it fixes one moto bug that would make correct clients fail: moto rebuilds
  the request URL from werkzeug's *decoded* IRI before recomputing SigV4, so
  any percent-encoded byte in the path or query (an S3 `prefix=bundles%2F`, a
  key with a space or a `+`) gets "SignatureDoesNotMatch" although the client
  signed correctly. The fix hands moto's signature check the raw request
  target the client sent (werkzeug keeps it in RAW_URI). Nothing else in
  moto's authentication or authorisation changes.

It serves HTTP/1.1 with keep-alive (moto's default handler is HTTP/1.0 and
closes every connection).

IAM authentication is switched on later by the launcher through moto's own
`POST /moto-api/reset-auth` once the world is seeded (see aws_setup.py).
"""
import argparse
import os
import signal
import sys

# This directory holds modules (proxy, vault, github, ...) whose names must
# not shadow anything moto imports.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]

from moto.core.authorization import ActionAuthenticatorMixin  # noqa: E402
from moto.core.responses import BaseResponse  # noqa: E402
from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication,
    create_backend_app,
)
from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

_orig_setup_class = BaseResponse.setup_class
_orig_auth = ActionAuthenticatorMixin._authenticate_and_authorize_action


def _setup_class(self, request, full_url, headers, *args, **kwargs):
    environ = getattr(request, "environ", None)
    self._ss_raw_uri = environ.get("RAW_URI") if environ else None
    return _orig_setup_class(self, request, full_url, headers, *args, **kwargs)


def _authenticate_and_authorize_action(self, iam_request_cls, resource="*"):
    raw = getattr(self, "_ss_raw_uri", None)
    if not raw or not raw.startswith("/"):
        return _orig_auth(self, iam_request_cls, resource)
    saved = self.uri
    # Only the path and query of self.uri are read by the check.
    self.uri = "http://moto" + raw
    try:
        return _orig_auth(self, iam_request_cls, resource)
    finally:
        self.uri = saved


BaseResponse.setup_class = _setup_class
ActionAuthenticatorMixin._authenticate_and_authorize_action = (
    _authenticate_and_authorize_action
)


class _Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_request(self, code="-", size="-"):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(args.host, args.port, app, threaded=True,
                         request_handler=_Handler)
    port = server.server_address[1]
    os.environ["MOTO_PORT"] = str(port)

    def _stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    sys.stdout.write(f"READY {port}\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except SystemExit:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
