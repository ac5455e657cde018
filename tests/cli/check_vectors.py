#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# check_vectors.py - CTest check of `nnrp vectors`: every vector the library
# rebuilds must equal the vector of the same name in
# $NNRP_VECTORS_DIR/seed-line.json: hex byte for byte, and every "fields"
# entry of the seed file present with the same value (numbers compare as
# numbers; strings such as "0x21" or "1 PREFER_QUIC" compare by their
# numeric part; other strings exactly). Also requires all 24 golden vectors,
# and decodes every packet and metadata vector with `nnrp decode --json`:
# ok, re-encoded hex equal, decoded fields equal to the seed fields.
#
# usage: check_vectors.py <path to the nnrp binary> [--min-count N]
import json
import os
import re
import subprocess
import sys

NUMERIC = re.compile(r"^\s*(0[xX][0-9a-fA-F]+|\d+)\b")


def norm(v):
    """Numeric part of a seed-style value, else the value itself."""
    if isinstance(v, str):
        m = NUMERIC.match(v)
        if m:
            return int(m.group(1), 0)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def compare(seed, mine, path, errors, counter, subset=False):
    """Every leaf of seed must be in mine with an equal value (with subset,
    keys that mine does not have are skipped)."""
    if isinstance(seed, dict):
        if not isinstance(mine, dict):
            errors.append(f"{path}: expected an object, got {mine!r}")
            return
        for k, v in seed.items():
            if k in mine:
                compare(v, mine[k], f"{path}.{k}", errors, counter, subset)
            elif not subset:
                errors.append(f"{path}.{k}: missing")
    elif isinstance(seed, list):
        if not isinstance(mine, list) or len(mine) != len(seed):
            errors.append(f"{path}: expected {seed!r}, got {mine!r}")
            return
        for i, (a, b) in enumerate(zip(seed, mine)):
            compare(a, b, f"{path}[{i}]", errors, counter, subset)
    else:
        counter[0] += 1
        a, b = norm(seed), norm(mine)
        if isinstance(a, bool) != isinstance(b, bool) or a != b:
            errors.append(f"{path}: seed {seed!r} != nnrp {mine!r}")


def decode_args(v):
    """`nnrp decode` arguments for a seed vector, or None (bare bodies,
    extensions and descriptors have no decode mode)."""
    if v["kind"] == "packet":
        if v["name"].startswith("header."):
            return ["--header", v["hex"]]
        return [v["hex"]]
    if v["kind"] == "metadata":
        return ["--metadata", v["message_type"], v["hex"]]
    return None


def check_decode(binary, v):
    """Decodes a seed vector with `nnrp decode --json` and compares the
    decoded header / metadata / body with the seed fields."""
    args = decode_args(v)
    if args is None:
        return None, 0
    run = subprocess.run([binary, "decode", "--json"] + args,
                         capture_output=True, text=True)
    errors, counter = [], [0]
    lines = run.stdout.splitlines()
    if run.returncode != 0 or len(lines) != 1:
        return [f"exit {run.returncode}, {len(lines)} lines: {run.stderr}"], 0
    out = json.loads(lines[0])
    if out["ok"] is not True or out["reencoded_hex"] != v["hex"]:
        errors.append(f"ok {out['ok']}, error {out['error']}, reencoded "
                      f"{out['reencoded_hex']}")
    f = v["fields"]
    if v["kind"] == "metadata":
        compare(f, out["metadata"], "metadata", errors, counter, True)
    elif "header" in f:
        for part in ("header", "metadata", "body"):
            if part in f:
                compare(f[part], out[part], part, errors, counter, True)
    else:
        compare(f, out["header"], "header", errors, counter, True)
    if counter[0] == 0:
        errors.append("no field compared")
    return errors, counter[0]


def main():
    if len(sys.argv) < 2:
        print("usage: check_vectors.py <nnrp binary> [--min-count N]",
              file=sys.stderr)
        return 2
    binary = sys.argv[1]
    min_count = 54
    if len(sys.argv) >= 4 and sys.argv[2] == "--min-count":
        min_count = int(sys.argv[3])
    vdir = os.environ.get("NNRP_VECTORS_DIR")
    if not vdir:
        print("NNRP_VECTORS_DIR is not set", file=sys.stderr)
        return 2
    with open(os.path.join(vdir, "seed-line.json"), encoding="utf-8") as f:
        seed = {v["name"]: v for v in json.load(f)["vectors"]}

    run = subprocess.run([binary, "vectors"], capture_output=True, text=True)
    if run.returncode != 0:
        print(f"FAIL nnrp vectors exited {run.returncode}:\n{run.stderr}")
        return 1
    out = json.loads(run.stdout)
    for key in ("description", "kinds", "vectors"):
        if key not in out:
            print(f"FAIL output has no {key!r}")
            return 1

    passed = failed = 0
    names = set()
    for v in out["vectors"]:
        name = v.get("name")
        names.add(name)
        errors = []
        counter = [0]
        s = seed.get(name)
        if s is None:
            errors.append("not in seed-line.json")
        else:
            for key in ("kind", "message_type"):
                if v.get(key) != s[key]:
                    errors.append(f"{key}: {v.get(key)!r} != {s[key]!r}")
            if v.get("hex") != s["hex"]:
                errors.append(f"hex:\n    nnrp {v.get('hex')}\n"
                              f"    seed {s['hex']}")
            compare(s["fields"], v.get("fields"), "fields", errors, counter)
            if counter[0] == 0:
                errors.append("no field compared")
        if errors:
            failed += 1
            print(f"FAIL {name}")
            for e in errors:
                print(f"  {e}")
        else:
            passed += 1
            print(f"ok   {name} ({counter[0]} fields)")

    # The decoder's view of every packet and metadata vector.
    for name, s in seed.items():
        errors, count = check_decode(binary, s)
        if errors is None:
            continue
        if errors:
            failed += 1
            print(f"FAIL decode {name}")
            for e in errors:
                print(f"  {e}")
        else:
            passed += 1
            print(f"ok   decode {name} ({count} fields)")

    golden = [n for n, s in seed.items() if s["status"] == "golden"]
    missing = [n for n in golden if n not in names]
    if missing:
        failed += len(missing)
        print("FAIL golden vectors not emitted: " + ", ".join(missing))
    if len(names) < min_count:
        failed += 1
        print(f"FAIL only {len(names)} vectors emitted (want {min_count})")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
