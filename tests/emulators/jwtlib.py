#!/usr/bin/env python3
"""Test-only RS256 JWTs with the Python standard library alone.

RSA key generation (Miller-Rabin primes), RSASSA-PKCS1-v1_5 with SHA-256,
base64url, JWK/JWKS and JWT encode/verify. This exists so the emulated
GitHub OIDC provider can sign ID tokens and the emulated Vault can verify
them without third-party packages. It is NOT hardened crypto: use it for
tests only.

    python3 jwtlib.py genkey FILE      write a new 2048-bit key
    python3 jwtlib.py jwks FILE        print the JWKS of a key
"""

import base64
import hashlib
import hmac
import json
import math
import os
import secrets
import sys
import time

__all__ = [
    "JWTError", "RSAKey", "generate_key", "save_key", "load_key",
    "public_jwk", "key_from_jwk", "sign", "verify", "decode_unverified",
    "b64url_encode", "b64url_decode",
]


class JWTError(Exception):
    """A token that does not verify; str(err) says why."""


# --------------------------------------------------------------- base64url

def b64url_encode(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    if isinstance(text, bytes):
        text = text.decode("ascii")
    if any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in text):
        raise ValueError("invalid base64url character")
    if len(text) % 4 == 1:
        raise ValueError("invalid base64url length")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_to_bytes(n, length=None):
    if length is None:
        length = max(1, (n.bit_length() + 7) // 8)
    return n.to_bytes(length, "big")


def _bytes_to_int(b):
    return int.from_bytes(b, "big")


# ------------------------------------------------------------------ primes

_SMALL_PRIMES = []


def _small_primes(limit=3000):
    if not _SMALL_PRIMES:
        sieve = bytearray([1]) * limit
        sieve[0:2] = b"\x00\x00"
        for i in range(2, int(limit ** 0.5) + 1):
            if sieve[i]:
                sieve[i * i::i] = bytearray(len(sieve[i * i::i]))
        _SMALL_PRIMES.extend(i for i in range(limit) if sieve[i])
    return _SMALL_PRIMES


def _miller_rabin(n, rounds):
    """True when n is probably prime (error < 4**-rounds)."""
    if n < 2:
        return False
    for p in _small_primes()[:50]:
        if n == p:
            return True
        if n % p == 0:
            return False
    d = n - 1
    s = 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(rounds):
        a = secrets.randbelow(n - 3) + 2
        x = pow(a, d, n)
        if x == 1 or x == n - 1:
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _random_prime(bits, e):
    """A random prime p of exactly `bits` bits with gcd(p - 1, e) == 1.

    Candidates are screened against the small primes by their residues and
    walked upward by 2 so most composites cost no modular exponentiation.
    """
    primes = _small_primes()[1:]  # odd ones
    while True:
        # top two bits set so p * q has the full modulus length
        cand = secrets.randbits(bits) | (3 << (bits - 2)) | 1
        residues = [cand % p for p in primes]
        for delta in range(0, 4096, 2):
            if any((r + delta) % p == 0 for r, p in zip(residues, primes)):
                continue
            n = cand + delta
            if n.bit_length() != bits:
                break
            if (n - 1) % e == 0:
                continue
            if _miller_rabin(n, 1) and _miller_rabin(n, 24):
                return n


# --------------------------------------------------------------------- RSA

class RSAKey:
    """An RSA key; a public key has d = p = q = None."""

    def __init__(self, n, e, d=None, p=None, q=None):
        self.n = n
        self.e = e
        self.d = d
        self.p = p
        self.q = q
        if p and q and d:
            self.dp = d % (p - 1)
            self.dq = d % (q - 1)
            self.qinv = pow(q, -1, p)

    @property
    def is_private(self):
        return self.d is not None

    @property
    def size(self):
        return (self.n.bit_length() + 7) // 8

    def public(self):
        return RSAKey(self.n, self.e)

    def _private_op(self, m):
        if self.d is None:
            raise ValueError("not a private key")
        if self.p and self.q:
            m1 = pow(m, self.dp, self.p)
            m2 = pow(m, self.dq, self.q)
            h = (self.qinv * (m1 - m2)) % self.p
            return m2 + h * self.q
        return pow(m, self.d, self.n)

    def __repr__(self):
        kind = "private" if self.is_private else "public"
        return "<RSAKey %s %d bits>" % (kind, self.n.bit_length())


def generate_key(bits=2048, e=65537):
    """A new RSA private key of `bits` bits (test use only)."""
    half = bits // 2
    while True:
        p = _random_prime(half, e)
        q = _random_prime(bits - half, e)
        if p == q:
            continue
        n = p * q
        if n.bit_length() != bits:
            continue
        lam = (p - 1) * (q - 1) // math.gcd(p - 1, q - 1)
        d = pow(e, -1, lam)
        if p < q:
            p, q = q, p
        return RSAKey(n, e, d, p, q)


def save_key(key, path):
    """Write `key` as JSON (hex integers) readable only by the owner."""
    obj = {"kty": "RSA", "n": "%x" % key.n, "e": "%x" % key.e}
    if key.is_private:
        obj["d"] = "%x" % key.d
        if key.p and key.q:
            obj["p"] = "%x" % key.p
            obj["q"] = "%x" % key.q
    tmp = "%s.tmp%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f)
        f.write("\n")
    os.replace(tmp, path)


def load_key(path):
    """Read a key written by save_key."""
    with open(path) as f:
        obj = json.load(f)
    if obj.get("kty") != "RSA":
        raise ValueError("%s: not an RSA key file" % path)

    def num(name):
        v = obj.get(name)
        return int(v, 16) if v else None

    return RSAKey(num("n"), num("e"), num("d"), num("p"), num("q"))


def _thumbprint(key):
    canon = json.dumps({"e": b64url_encode(_int_to_bytes(key.e)),
                        "kty": "RSA",
                        "n": b64url_encode(_int_to_bytes(key.n))},
                       separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canon.encode("ascii")).digest())


def public_jwk(key, kid=None):
    """The public JWK of `key` (kid = RFC 7638 thumbprint unless given)."""
    return {
        "kty": "RSA",
        "alg": "RS256",
        "use": "sig",
        "kid": kid or _thumbprint(key),
        "n": b64url_encode(_int_to_bytes(key.n)),
        "e": b64url_encode(_int_to_bytes(key.e)),
    }


def key_from_jwk(jwk):
    """A public RSAKey from a JWK dict."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "RSA":
        raise JWTError("JWK is not an RSA key")
    try:
        return RSAKey(_bytes_to_int(b64url_decode(jwk["n"])),
                      _bytes_to_int(b64url_decode(jwk["e"])))
    except (KeyError, ValueError) as exc:
        raise JWTError("bad JWK: %s" % exc)


# DER DigestInfo prefix for SHA-256 (RFC 8017 section 9.2, note 1)
_SHA256_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")


def _emsa_pkcs1_v15(message, k):
    t = _SHA256_PREFIX + hashlib.sha256(message).digest()
    if k < len(t) + 11:
        raise ValueError("key too small")
    return b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t


def rsa_sign(key, message):
    """RSASSA-PKCS1-v1_5 signature of `message` with SHA-256."""
    k = key.size
    m = _bytes_to_int(_emsa_pkcs1_v15(message, k))
    s = key._private_op(m)
    # check the CRT result, as a fault there would leak the key
    if pow(s, key.e, key.n) != m:
        raise ValueError("RSA signing self-check failed")
    return _int_to_bytes(s, k)


def rsa_verify(key, message, signature):
    """True when `signature` is a valid RSASSA-PKCS1-v1_5 SHA-256 signature."""
    k = key.size
    if len(signature) != k:
        return False
    s = _bytes_to_int(signature)
    if s >= key.n:
        return False
    em = _int_to_bytes(pow(s, key.e, key.n), k)
    return hmac.compare_digest(em, _emsa_pkcs1_v15(message, k))


# --------------------------------------------------------------------- JWT

def _json_b64(obj):
    return b64url_encode(json.dumps(obj, separators=(",", ":")).encode("utf-8"))


def sign(claims, key, kid=None, headers=None):
    """A compact RS256 JWT carrying `claims`, signed with private `key`."""
    header = {"alg": "RS256", "typ": "JWT", "kid": kid or _thumbprint(key)}
    if headers:
        header.update(headers)
    signing_input = _json_b64(header) + "." + _json_b64(claims)
    sig = rsa_sign(key, signing_input.encode("ascii"))
    return signing_input + "." + b64url_encode(sig)


def decode_unverified(token):
    """(header, claims) of a compact JWT without any check."""
    if not isinstance(token, str):
        raise JWTError("token is not a string")
    parts = token.split(".")
    if len(parts) != 3:
        raise JWTError("malformed token: expected 3 parts, got %d" % len(parts))
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError) as exc:
        raise JWTError("malformed token: %s" % exc)
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JWTError("malformed token: header and claims must be objects")
    return header, claims


def _pick_key(key, header):
    if isinstance(key, RSAKey):
        return key
    if isinstance(key, dict) and "keys" in key:
        kid = header.get("kid")
        cands = [k for k in key["keys"] if isinstance(k, dict)]
        if kid is not None:
            cands = [k for k in cands if k.get("kid") == kid]
        if not cands:
            raise JWTError("no key in the JWKS matches kid %r" % kid)
        return key_from_jwk(cands[0])
    if isinstance(key, dict):
        if key.get("kid") and header.get("kid") and key["kid"] != header["kid"]:
            raise JWTError("kid %r does not match the key" % header.get("kid"))
        return key_from_jwk(key)
    raise JWTError("unsupported key type %s" % type(key).__name__)


def _num(claims, name):
    v = claims.get(name)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise JWTError("claim %r is not a number" % name)
    return v


def verify(token, key, audience=None, issuer=None, now=None, leeway=0):
    """The claims of `token` after checking signature and standard claims.

    key: RSAKey, a JWK dict or a JWKS dict ({"keys": [...]}).
    Raises JWTError on a malformed token, an alg other than RS256, a bad
    signature, exp in the past or nbf in the future (beyond `leeway`
    seconds), an iss other than `issuer`, or an aud (string or list) that
    does not contain `audience`.
    """
    header, claims = decode_unverified(token)
    alg = header.get("alg")
    if alg != "RS256":
        raise JWTError("unsupported algorithm %r (only RS256)" % alg)
    pub = _pick_key(key, header)
    signing_input, _, sig_b64 = token.rpartition(".")
    try:
        sig = b64url_decode(sig_b64)
    except ValueError as exc:
        raise JWTError("malformed signature: %s" % exc)
    if not rsa_verify(pub, signing_input.encode("ascii"), sig):
        raise JWTError("invalid signature")
    if now is None:
        now = time.time()
    exp = _num(claims, "exp")
    if exp is not None and now > exp + leeway:
        raise JWTError("token is expired (exp %d, now %d)" % (exp, now))
    nbf = _num(claims, "nbf")
    if nbf is not None and now + leeway < nbf:
        raise JWTError("token is not valid yet (nbf %d, now %d)" % (nbf, now))
    if issuer is not None and claims.get("iss") != issuer:
        raise JWTError("issuer %r does not match expected %r" % (claims.get("iss"), issuer))
    if audience is not None:
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        wanted = audience if isinstance(audience, (list, tuple)) else [audience]
        if not any(a in auds for a in wanted if a is not None):
            raise JWTError("audience %r does not match expected %r" % (aud, audience))
    return claims


def _main(argv):
    if len(argv) == 3 and argv[1] == "genkey":
        save_key(generate_key(), argv[2])
        return 0
    if len(argv) == 3 and argv[1] == "jwks":
        print(json.dumps({"keys": [public_jwk(load_key(argv[2]))]}))
        return 0
    sys.stderr.write("usage: jwtlib.py genkey FILE | jwks FILE\n")
    return 64


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
