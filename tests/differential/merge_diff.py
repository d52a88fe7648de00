#!/usr/bin/python3
"""Differential test: secretsync's deep merge against Python deepmerge.

Run with Debian's /usr/bin/python3 (it has python3-deepmerge):

    /usr/bin/python3 tests/differential/merge_diff.py build/tools/mergetool
        [--seed N] [--count N] [--only MODE:INDEX]

For each mode, COUNT seeded random pairs [a, b] of JSON values (nested
objects with overlapping keys, arrays, strings, ints, big ints, floats,
bools, nulls, type conflicts at every level) go to ONE mergetool process,
one JSON line per pair, and each output line is compared with the
reference merge: by value (ints and floats equal by value, but true is not
1) and by object key order. The default mode is the SPEC's merger,

    Merger([(list, ["append"]), (dict, ["merge"]), (set, ["union"])],
           ["override"], ["override"]).merge(copy.deepcopy(a), b)

with COUNT pairs (default 10000); the other modes (lists replace/union,
nulls keep) use COUNT // 5 pairs each, with reference strategies written
here. Prints "differential: N passed, M failed" and exits 1 on any
mismatch, after showing the first one with its seed (rerun it alone with
--only MODE:INDEX).
"""

import argparse
import copy
import json
import random
import subprocess
import sys

from deepmerge import Merger
from deepmerge.strategy.core import STRATEGY_END

DEFAULT_SEED = 20240601


# ---- reference mergers ---------------------------------------------------

def json_equal(x, y):
    """JSON equality: numbers by value, bool distinct from numbers, key
    order ignored (the C side's ss_json_equal)."""
    if isinstance(x, bool) or isinstance(y, bool):
        return isinstance(x, bool) and isinstance(y, bool) and x == y
    if isinstance(x, (int, float)) and isinstance(y, (int, float)):
        return x == y
    if type(x) is not type(y):
        return False
    if isinstance(x, list):
        return len(x) == len(y) and all(json_equal(a, b) for a, b in zip(x, y))
    if isinstance(x, dict):
        return x.keys() == y.keys() and all(json_equal(x[k], y[k]) for k in x)
    return x == y


def list_union(config, path, base, nxt):
    out = list(base)
    for item in nxt:
        if not any(json_equal(item, have) for have in out):
            out.append(item)
    return out


def keep_existing_on_null(config, path, base, nxt):
    return base if nxt is None else STRATEGY_END


def merger(lists="append", nulls="override"):
    list_strategy = {"append": "append", "replace": "override", "union": list_union}[lists]
    other = ["override"] if nulls == "override" else [keep_existing_on_null, "override"]
    return Merger([(list, [list_strategy]), (dict, ["merge"]), (set, ["union"])],
                  list(other), list(other))


# name, mergetool arguments, reference merger, share of --count
MODES = [
    ("default", [], merger(), 1),
    ("lists=replace", ["--lists", "replace"], merger(lists="replace"), 5),
    ("lists=union", ["--lists", "union"], merger(lists="union"), 5),
    ("nulls=keep", ["--nulls", "keep"], merger(nulls="keep"), 5),
]


# ---- random JSON ---------------------------------------------------------

KEYS = ["a", "b", "c", "db", "host", "password", "user", "x.y", "", "ü",
        "quote\"", "back\\slash", "nl\n", "tab\t", "ctl\x01", "emoji\U0001F600"]
WIDE_KEYS = ["k%02d" % i for i in range(48)]
CHARS = ("abcxyz019 _-./:@"
         "\"\\\n\r\t\b\f\x01\x1f\x7f"
         "é中ß€\U0001F510")


def rand_string(rng):
    return "".join(rng.choice(CHARS) for _ in range(rng.randint(0, 12)))


def rand_float(rng):
    kind = rng.randint(0, 7)
    if kind == 0:
        return float(rng.randint(-1000, 1000))      # integral: 3.0
    if kind == 1:
        return rng.random()
    if kind == 2:
        return rng.uniform(-1e6, 1e6)
    if kind == 3:
        return rng.choice([0.1, 0.2, 0.30000000000000004, 1e-7, 5e-324,
                           1.7976931348623157e308, -0.0, 0.0, 1e16, 1e21,
                           123456789.123456789, 2.5e-300])
    if kind == 4:
        return rng.uniform(-1, 1) * 10 ** rng.randint(-300, 300)
    return round(rng.uniform(-100, 100), rng.randint(0, 6))


def rand_int(rng):
    kind = rng.randint(0, 5)
    if kind <= 2:
        return rng.randint(-100, 100)
    if kind == 3:
        return rng.randint(-2 ** 63, 2 ** 63)
    if kind == 4:
        return rng.choice([2 ** 53, 2 ** 53 + 1, -(2 ** 53) - 1, 10 ** 19, 10 ** 19 + 1,
                           99999999999999999999, 0, -0])
    return rng.randint(-10 ** 40, 10 ** 40)          # exact big ints (Raw in C)


def rand_scalar(rng):
    kind = rng.randint(0, 5)
    if kind == 0:
        return rand_string(rng)
    if kind == 1:
        return rand_int(rng)
    if kind == 2:
        return rand_float(rng)
    if kind == 3:
        return rng.choice([True, False])
    if kind == 4:
        return None
    return rng.choice(["", "x", "secret"])


def rand_key(rng, wide):
    return rng.choice(WIDE_KEYS if wide and rng.random() < 0.8 else KEYS)


def rand_value(rng, depth):
    if depth <= 0:
        return rand_scalar(rng)
    kind = rng.random()
    if kind < 0.45:
        wide = rng.random() < 0.1
        n = rng.randint(8, 30) if wide else rng.randint(0, 5)
        return {rand_key(rng, wide): rand_value(rng, depth - 1) for _ in range(n)}
    if kind < 0.65:
        return [rand_value(rng, depth - 1) for _ in range(rng.randint(0, 4))]
    return rand_scalar(rng)


def derive(rng, a, depth):
    """A value overlapping a: same keys often, type conflicts sometimes."""
    r = rng.random()
    if r < 0.12 or depth <= 0:
        return rand_value(rng, max(depth, 0))        # any type: conflict or not
    if isinstance(a, dict):
        out = {}
        keys = list(a.keys())
        rng.shuffle(keys)
        for k in keys:
            if rng.random() < 0.7:
                out[k] = derive(rng, a[k], depth - 1)
        for _ in range(rng.randint(0, 3)):
            out[rand_key(rng, len(a) > 8)] = rand_value(rng, depth - 1)
        return out
    if isinstance(a, list):
        if a and rng.random() < 0.5:                 # repeat items: union must drop them
            return [copy.deepcopy(rng.choice(a)) for _ in range(rng.randint(1, 4))]
        return [rand_value(rng, depth - 1) for _ in range(rng.randint(0, 4))]
    if rng.random() < 0.3:
        return copy.deepcopy(a)
    return rand_value(rng, depth)


def make_pair(seed):
    rng = random.Random(seed)
    depth = rng.randint(0, 5)
    a = rand_value(rng, depth)
    b = derive(rng, a, depth) if rng.random() < 0.85 else rand_value(rng, rng.randint(0, 5))
    return a, b


# ---- comparison ----------------------------------------------------------

def same(x, y, where="$"):
    """None when x and y hold the same JSON with the same key order, else
    a description of the first difference."""
    if isinstance(x, bool) or isinstance(y, bool):
        return None if type(x) is type(y) and x == y else f"{where}: {x!r} != {y!r}"
    if isinstance(x, (int, float)) and isinstance(y, (int, float)):
        return None if x == y else f"{where}: {x!r} != {y!r}"
    if type(x) is not type(y):
        return f"{where}: type {type(x).__name__} != {type(y).__name__}"
    if isinstance(x, dict):
        if list(x.keys()) != list(y.keys()):
            return f"{where}: keys {list(x.keys())!r} != {list(y.keys())!r}"
        for k in x:
            d = same(x[k], y[k], f"{where}.{k}")
            if d:
                return d
        return None
    if isinstance(x, list):
        if len(x) != len(y):
            return f"{where}: length {len(x)} != {len(y)}"
        for i, (p, q) in enumerate(zip(x, y)):
            d = same(p, q, f"{where}[{i}]")
            if d:
                return d
        return None
    return None if x == y else f"{where}: {x!r} != {y!r}"


def run_mode(tool, name, args, ref, seeds):
    pairs = [make_pair(s) for s in seeds]
    lines = []
    for a, b in pairs:
        # Both escape styles: \uXXXX escapes and raw UTF-8.
        lines.append(json.dumps([a, b], ensure_ascii=len(lines) % 2 == 0))
    proc = subprocess.run([tool] + args, input="\n".join(lines) + "\n",
                          capture_output=True, text=True, encoding="utf-8")
    if proc.returncode != 0:
        print(f"differential: {tool} {' '.join(args)} exited {proc.returncode}: "
              f"{proc.stderr.strip()}", file=sys.stderr)
        return 0, len(pairs), (seeds[0], "tool failed", lines[0])
    out = proc.stdout.split("\n")
    passed = failed = 0
    first = None
    for i, (a, b) in enumerate(pairs):
        expected = ref.merge(copy.deepcopy(a), b)
        got_line = out[i] if i < len(out) else "<missing>"
        try:
            got = json.loads(got_line)
            diff = same(got, expected)
        except ValueError:
            diff = f"tool answered {got_line[:200]!r}"
        if diff is None:
            passed += 1
        else:
            failed += 1
            if first is None:
                first = (seeds[i], diff, lines[i])
    return passed, failed, first


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tool")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--only", help="MODE:INDEX of one pair to rerun")
    opts = ap.parse_args()

    total_pass = total_fail = 0
    first = None
    for name, args, ref, share in MODES:
        n = max(opts.count // share, 1)
        idx = range(n)
        if opts.only:
            mode, _, i = opts.only.rpartition(":")
            if mode != name:
                continue
            idx = [int(i)]
        seeds = [f"{opts.seed}:{name}:{i}" for i in idx]
        p, f, fm = run_mode(opts.tool, name, args, ref, seeds)
        print(f"  {name:14} {p} passed, {f} failed")
        total_pass += p
        total_fail += f
        if fm and first is None:
            first = fm
    if first:
        seed, diff, line = first
        print(f"first mismatch: seed {seed} (rerun: --seed {opts.seed} --only {seed.split(':', 1)[1]})")
        print(f"  {diff}")
        print(f"  input: {line[:600]}")
    print(f"differential: {total_pass} passed, {total_fail} failed")
    return 1 if total_fail or total_pass == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
