#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# test_cli.sh - CTest checks of `nnrp decode` (docs/cli.md): every packet
# and metadata vector of $NNRP_VECTORS_DIR/seed-line.json decodes with
# ok:true and re-encodes to the same hex; bad inputs exit 1 with the error
# code, scope and fatal flag of wire.md §16; --lenient; streams of packets
# from a file and from stdin; usage errors exit 2.
#
# usage: test_cli.sh <path to the nnrp binary>   (JSON checks use python3)
set -u
NNRP=${1:?usage: test_cli.sh <nnrp binary>}
VEC=${NNRP_VECTORS_DIR:?NNRP_VECTORS_DIR is not set}/seed-line.json
TMP=$(mktemp -d "${TMPDIR:-/tmp}/nnrp_cli.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM
n=0
rc=0

# run ARGS...: runs nnrp, keeps stdout/stderr in $TMP/out, $TMP/err and the
# exit status in $rc.
run() {
  "$NNRP" "$@" >"$TMP/out" 2>"$TMP/err"
  rc=$?
}

# run_stdin FILE ARGS...: same with FILE on stdin.
run_stdin() {
  f=$1
  shift
  "$NNRP" "$@" <"$f" >"$TMP/out" 2>"$TMP/err"
  rc=$?
}

# check NAME WANT_RC PY_EXPR: records a case; all cases are judged at the end
# by one python3 run (evaluate.py below), where PY_EXPR sees L (the JSON
# lines of stdout), OUT and ERR (the texts).
check() {
  n=$((n + 1))
  mv "$TMP/out" "$TMP/case$n.out"
  mv "$TMP/err" "$TMP/case$n.err"
  printf '%s\t%s\t%s\t%s\t%s\n' "$n" "$rc" "$2" "$1" "$3" >>"$TMP/cases"
}

# Inputs: hex of seed vectors and patched copies as shell variables, binary
# stream files, and the list of packet/metadata vectors (one python3 run).
python3 - "$VEC" "$TMP" >"$TMP/env.sh" <<'PY' || exit 1
import json, os, sys
vec, tmp = sys.argv[1], sys.argv[2]
d = {v["name"]: v for v in json.load(open(vec))["vectors"]}
h = {k: bytes.fromhex(d[n]["hex"]) for k, n in {
    "PING": "packet.ping", "PONG": "packet.pong.echo",
    "CLOSE": "packet.close",
    "SUBMIT": "packet.frame_submit.legacy_inline_tensor",
    "HELLO": "packet.client_hello.defaults_prefer_quic_auth",
    "FLOW": "packet.flow_update.session_hard",
    "HINT": "metadata.result_hint.partial_elevated_server_busy"}.items()}
def patch(b, off, val):
    b = bytearray(b)
    b[off] = val
    return bytes(b)
h["BADMAGIC"] = patch(h["PING"], 0, 0x5E)
h["BADVERSION"] = patch(h["PING"], 4, 0x02)
h["BADTYPE"] = patch(h["PING"], 6, 0x07)
h["BADFLAGS"] = patch(h["PING"], 11, 0x80)       # header flags bit 31
h["BADRES"] = patch(h["SUBMIT"], 55, 0x01)       # FRAME_SUBMIT reserved0
h["BADHELLO"] = patch(h["HELLO"], 106, 0x02)     # ext_flags bit 1
h["BADFLOW"] = patch(h["FLOW"], 68, 0x13)        # flow_flags bit 4
h["BADHINT"] = patch(h["HINT"], 8, 0x63)         # reason 99
# Hellos around extension.block.two_entries (unknown CRITICAL 0x4001 and
# unknown non-critical 0x0001) and the rc2 opaque SERVER_HELLO_ACK body (D5).
import struct
def hello(t, meta, body, sid):
    return (b"NNRP" + struct.pack("<BBBBIIIIIHHQ", 1, 0, t, 40, 1, len(meta),
                                  len(body), sid, 0, 0, 0, 0) + meta + body)
blk = bytes.fromhex(d["extension.block.two_entries"]["hex"])
chm = bytearray.fromhex(d["metadata.client_hello.preview2"]["hex"])
chm[56:64] = struct.pack("<II", 0, len(blk))
h["HELLOCRIT"] = hello(1, bytes(chm), blk, 0)
chm[56:64] = struct.pack("<II", 0, 16)
h["HELLOSKIP"] = hello(1, bytes(chm), blk[:16], 0)
h["SHAOPAQUE"] = hello(2, bytes.fromhex(d["metadata.server_hello_ack"]["hex"]),
                       b"model-x", 42)
for k, b in h.items():
    print(f"{k}={b.hex()}")
files = {"three": ["HELLO", "SUBMIT", "PONG"], "mid": ["PING", "BADRES", "CLOSE"],
         "first": ["BADRES", "CLOSE"], "magic": ["PING", "BADMAGIC", "CLOSE"],
         "meta": ["HINT"]}
for f, parts in files.items():
    with open(os.path.join(tmp, f + ".bin"), "wb") as out:
        out.write(b"".join(h[p] for p in parts))
three = b"".join(h[p] for p in files["three"])
open(os.path.join(tmp, "trunc.bin"), "wb").write(three[:-50])
open(os.path.join(tmp, "big.bin"), "wb").write(h["SUBMIT"] * 2000)
open(os.path.join(tmp, "empty.bin"), "wb").close()
# Whole data packets around the seed body vectors (metadata from their
# "metadata_context"): decode and re-encode through nnrp_body_data_from_view
# and the data builders must give the same bytes.
import struct
def fs_meta(**kw):
    f = dict(w=0, h=0, tw=0, th=0, tc=0, sc=0, mode=0, base=0, cam=0, tib=0,
             smode=0, mask=0, pk=0, pfc=0)
    f.update(kw)
    return struct.pack("<HHHHHHBBBBHHIIIIQQBBBBIIIHH", f["w"], f["h"],
                       f["tw"], f["th"], f["tc"], f["sc"], 0, 0, f["mode"], 0,
                       0, 0, 0, f["base"], f["cam"], f["tib"], 0, 0,
                       f["smode"], 0, 0, 0, f["mask"], 0, f["pk"], f["pfc"], 0)
def rp_meta(sc, tc, tib, pk, covered):
    return struct.pack("<HHHHHHHHHHIIQQBBHIHHIHH", 0, 0, sc, tc, 0, 0, 0, 0,
                       0, 0, 0, tib, 0, 0, 0, 0, 0, 0, covered, 0, pk, 0, 0)
def packet(t, meta, body):
    return (b"NNRP" + struct.pack("<BBBBIIIIIHHQ", 1, 0, t, 40, 0, len(meta),
                                  len(body), 7, 101, 0, 0, 0) + meta + body)
def body(n):
    return bytes.fromhex(d[n]["hex"])
tensor = dict(w=64, h=32, tw=32, th=32)
data = {
    "typed_only": (0x10, fs_meta(pk=6, pfc=2),
                   body("body.frame_submit.typed_only")),
    "mixed_tensor_typed_inline": (0x10, fs_meta(tc=2, sc=1, mode=1, cam=8,
                                  tib=4, pk=3, pfc=1, **tensor),
                                  body("body.frame_submit.mixed_tensor_typed_inline")),
    "mixed_mode_references": (0x10, fs_meta(tc=2, sc=1, smode=2, mask=3, pk=1,
                              **tensor),
                              body("body.frame_submit.mixed_mode_references")),
    "tile_index_delta_u16": (0x10, fs_meta(tc=3, mode=2, tib=6, pk=1),
                             body("body.tile_index.delta_u16")),
    "tile_index_bitset": (0x10, fs_meta(tc=3, mode=3, tib=2, pk=1),
                          body("body.tile_index.bitset")),
    "mixed_codec_fixed_stride": (0x10, fs_meta(tc=2, sc=1, pk=1),
                                 body("body.tensor_section.mixed_codec_fixed_stride")),
    "result_push_legacy": (0x12, rp_meta(1, 3, 6, 1, 3),
                           body("body.result_push.legacy_tensor")),
}
with open(os.path.join(tmp, "data"), "w") as out:
    for name, (t, meta, b) in data.items():
        out.write(f"{name} {packet(t, meta, b).hex()}\n")
with open(os.path.join(tmp, "list"), "w") as out:
    for v in d.values():
        if v["kind"] == "packet":
            mode = "header" if v["name"].startswith("header.") else "packet"
        elif v["kind"] == "metadata":
            mode = "metadata"
        else:
            continue
        out.write(f'{mode} {v["message_type"]} {v["name"]} {v["hex"]}\n')
PY
. "$TMP/env.sh"

ERR_IS='len(L) == 1 and L[0]["ok"] is False and L[0]["error"]["code"]'

# --- 1. every seed-line packet and metadata vector ---------------------------
while read -r mode type name hex; do
  case $mode in
  header) run decode --json --header "$hex" ;;
  metadata) run decode --json --metadata "$type" "$hex" ;;
  *) run decode --json "$hex" ;;
  esac
  check "decode $name" 0 "len(L) == 1 and L[0][\"ok\"] is True and \
L[0][\"error\"] is None and L[0][\"message_type\"] == \"$type\" and \
L[0][\"reencoded_hex\"] == \"$hex\""
done <"$TMP/list"

while read -r name hex; do
  run decode --json "$hex"
  check "decode data packet around $name" 0 "len(L) == 1 and \
L[0][\"ok\"] is True and L[0][\"reencoded_hex\"] == \"$hex\""
done <"$TMP/data"

# --- 2. invalid single packets: exit 1 and the wire.md §16 mapping -----------
run decode --json "$BADMAGIC"
check "bad magic -> MALFORMED_HEADER CONNECTION fatal" 1 \
  "$ERR_IS == \"MALFORMED_HEADER\" and L[0][\"error\"][\"scope\"] == \
\"CONNECTION\" and L[0][\"error\"][\"fatal\"] is True and \
L[0][\"header\"] is None and L[0][\"reencoded_hex\"] is None"
run decode --json "$BADVERSION"
check "version_major 2 -> UNSUPPORTED_VERSION CONNECTION fatal" 1 \
  "$ERR_IS == \"UNSUPPORTED_VERSION\" and L[0][\"error\"][\"scope\"] == \
\"CONNECTION\" and L[0][\"error\"][\"fatal\"] is True"
run decode --json "$BADTYPE"
check "msg_type 0x07 -> MALFORMED_HEADER" 1 \
  "$ERR_IS == \"MALFORMED_HEADER\" and L[0][\"error\"][\"fatal\"] is True"
run decode --json "$BADFLAGS"
check "reserved header flag -> MALFORMED_HEADER (strict)" 1 \
  "$ERR_IS == \"MALFORMED_HEADER\""
run decode --json --lenient "$BADFLAGS"
check "reserved header flag --lenient -> ok, flag cleared" 0 \
  "len(L) == 1 and L[0][\"ok\"] is True and L[0][\"header\"][\"flags\"] == 0 \
and L[0][\"reencoded_hex\"] == \"$PING\""
run decode --json "$BADRES"
check "FRAME_SUBMIT reserved0 != 0 -> MALFORMED_BODY SESSION not fatal" 1 \
  "$ERR_IS == \"MALFORMED_BODY\" and L[0][\"error\"][\"scope\"] == \
\"SESSION\" and L[0][\"error\"][\"fatal\"] is False and \
\"reserved0\" in L[0][\"error\"][\"detail\"] and \
L[0][\"message_type\"] == \"FRAME_SUBMIT\" and L[0][\"header\"][\"frame_id\"] \
== 101"
run decode --json --lenient "$BADRES"
check "FRAME_SUBMIT reserved0 != 0 --lenient -> ok" 0 \
  "len(L) == 1 and L[0][\"ok\"] is True and L[0][\"error\"] is None and \
L[0][\"metadata\"][\"reserved0\"] == 1 and L[0][\"reencoded_hex\"] == \
\"$BADRES\""
run decode --json "$BADHELLO"
check "CLIENT_HELLO unknown ext_flags bit -> MALFORMED_BODY CONNECTION fatal" 1 \
  "$ERR_IS == \"MALFORMED_BODY\" and L[0][\"error\"][\"scope\"] == \
\"CONNECTION\" and L[0][\"error\"][\"fatal\"] is True"
run decode --json "$HELLOCRIT"
check "CLIENT_HELLO unknown CRITICAL extension -> UNSUPPORTED_CAPABILITY" 1 \
  "$ERR_IS == \"UNSUPPORTED_CAPABILITY\" and L[0][\"error\"][\"scope\"] == \
\"CONNECTION\" and L[0][\"error\"][\"fatal\"] is True"
run decode --json "$HELLOSKIP"
check "CLIENT_HELLO unknown non-critical extension is kept and skipped" 0 \
  "len(L) == 1 and L[0][\"ok\"] and L[0][\"reencoded_hex\"] == \
\"$HELLOSKIP\" and [e[\"ext_type\"] for e in \
L[0][\"body\"][\"control_extension_block\"]] == [1]"
run decode --json "$SHAOPAQUE"
check "SERVER_HELLO_ACK opaque body (D5) -> active_model_name" 0 \
  "len(L) == 1 and L[0][\"ok\"] and L[0][\"body\"][\"active_model_name\"] \
== \"model-x\" and L[0][\"reencoded_hex\"] == \"$SHAOPAQUE\""
run decode --json "$BADFLOW"
check "FLOW_UPDATE flow_flags bit 4 -> MALFORMED_BODY" 1 \
  "$ERR_IS == \"MALFORMED_BODY\" and L[0][\"error\"][\"scope\"] == \"SESSION\""
run decode --json --lenient "$BADFLOW"
check "FLOW_UPDATE flow_flags bit 4 --lenient -> still MALFORMED_BODY" 1 \
  "$ERR_IS == \"MALFORMED_BODY\""
run decode --json "${PING}00"
check "trailing byte -> exit 1, TRAILING_DATA" 1 \
  "len(L) == 1 and L[0][\"ok\"] is False and \
L[0][\"error\"][\"lib_error\"] == \"NNRP_ERR_TRAILING_DATA\""
run decode --json "${SUBMIT%??}" # one byte short
check "short packet -> exit 1, TRUNCATED, nothing to send" 1 \
  "len(L) == 1 and L[0][\"ok\"] is False and L[0][\"error\"][\"code\"] is \
None and L[0][\"error\"][\"lib_error\"] == \"NNRP_ERR_TRUNCATED\""
run decode --json --metadata RESULT_HINT "$BADHINT"
check "--metadata RESULT_HINT reason 99 -> MALFORMED_BODY" 1 \
  "$ERR_IS == \"MALFORMED_BODY\" and L[0][\"metadata\"] is None"
run decode --json --metadata 0x17 "$HINT"
check "--metadata 0x17 with 16 bytes -> MALFORMED_BODY (meta_len)" 1 \
  "$ERR_IS == \"MALFORMED_BODY\""
run decode --json --header "${PING%??}"
check "--header with 39 bytes -> exit 1" 1 \
  "len(L) == 1 and L[0][\"ok\"] is False"
run decode --json --header "${PING}00"
check "--header with 41 bytes -> exit 1, TRAILING_DATA" 1 \
  "len(L) == 1 and L[0][\"error\"][\"lib_error\"] == \"NNRP_ERR_TRAILING_DATA\""
run decode --json "$(echo "$PING" | sed 's/\(..\)/\1 /g')"
check "hex with whitespace" 0 "len(L) == 1 and L[0][\"ok\"] is True"

# --- 3. streams of packets (nnrp_reader_*) -----------------------------------
run decode --json "@$TMP/three.bin"
check "file with three packets -> three JSON lines" 0 \
  "len(L) == 3 and len(OUT.splitlines()) == 3 and all(x[\"ok\"] for x in L) \
and [x[\"message_type\"] for x in L] == [\"CLIENT_HELLO\", \"FRAME_SUBMIT\", \
\"PONG\"] and [x[\"reencoded_hex\"] for x in L] == [\"$HELLO\", \"$SUBMIT\", \
\"$PONG\"]"
run_stdin "$TMP/three.bin" decode --json -
check "stdin with three packets -> three JSON lines" 0 \
  "len(L) == 3 and all(x[\"ok\"] for x in L)"
run decode --json "@$TMP/mid.bin"
check "stream: bad 2nd packet is dropped, reading continues" 1 \
  "len(L) == 3 and L[0][\"ok\"] and L[2][\"ok\"] and not L[1][\"ok\"] and \
L[1][\"error\"][\"code\"] == \"MALFORMED_BODY\" and \
L[1][\"error\"][\"scope\"] == \"SESSION\" and L[1][\"error\"][\"fatal\"] is \
False"
run decode --json "@$TMP/first.bin"
check "stream: bad 1st packet is a handshake-phase failure" 1 \
  "len(L) == 2 and L[0][\"error\"][\"scope\"] == \"CONNECTION\" and \
L[0][\"error\"][\"fatal\"] is True and L[1][\"ok\"]"
run decode --json "@$TMP/magic.bin"
check "stream: header fault ends the stream" 1 \
  "len(L) == 2 and L[0][\"ok\"] and L[1][\"error\"][\"code\"] == \
\"MALFORMED_HEADER\" and L[1][\"error\"][\"fatal\"] is True"
run decode --json "@$TMP/trunc.bin"
check "stream: EOF inside a packet -> TRUNCATED record" 1 \
  "len(L) == 2 and L[0][\"ok\"] and L[1][\"ok\"] is False and \
L[1][\"error\"][\"lib_error\"] == \"NNRP_ERR_TRUNCATED\" and \
L[1][\"header\"][\"msg_type\"] == 16"
run decode --json "@$TMP/big.bin"
check "stream: 2000 packets across 64 KiB reads" 0 \
  "len(L) == 2000 and all(x[\"ok\"] and x[\"reencoded_hex\"] == \"$SUBMIT\" \
for x in L)"
run decode --json "@$TMP/empty.bin"
check "stream: empty file -> no record, exit 0" 0 "OUT == \"\""
run decode --json "@$TMP/does-not-exist.bin"
check "missing file -> exit 1" 1 "ERR != \"\""
run decode --json --metadata RESULT_HINT "@$TMP/meta.bin"
check "--metadata from a file" 0 \
  "len(L) == 1 and L[0][\"ok\"] and L[0][\"metadata\"][\"retry_after_ms\"] \
== 20"

# --- 4. text output ----------------------------------------------------------
run decode "$SUBMIT"
check "text mode: groups, hex flags, identical re-encoding" 0 \
  "\"header:\" in OUT and \"metadata:\" in OUT and \"body:\" in OUT and \
\"payload_kind_bitmap: 0x1\" in OUT and \"msg_type: 0x10 (FRAME_SUBMIT)\" in \
OUT and \"reencoded: identical\" in OUT"
run decode "$BADRES"
check "text mode: error group" 1 \
  "\"error:\" in OUT and \"MALFORMED_BODY\" in OUT and \"INVALID\" in OUT"

# --- 5. usage, help, version -------------------------------------------------
run
check "no command -> exit 2 with usage" 2 "\"usage\" in ERR"
run frobnicate
check "unknown command -> exit 2" 2 "\"usage\" in ERR"
run decode
check "decode without input -> exit 2" 2 "\"usage\" in ERR"
run decode --json --bogus "$PING"
check "unknown option -> exit 2" 2 "\"usage\" in ERR"
run decode --json xyz
check "input not hex -> exit 2" 2 "\"usage\" in ERR"
run decode --json 123
check "odd number of hex digits -> exit 2" 2 "\"usage\" in ERR"
run decode --metadata NOPE "$HINT"
check "unknown --metadata type -> exit 2" 2 "\"usage\" in ERR"
run decode --metadata
check "--metadata without a type -> exit 2" 2 "\"usage\" in ERR"
run decode --header --metadata PING "$PING"
check "--header with --metadata -> exit 2" 2 "\"usage\" in ERR"
run decode "$PING" "$PING"
check "two inputs -> exit 2" 2 "\"usage\" in ERR"
run vectors --bogus
check "vectors with an unknown option -> exit 2" 2 "\"usage\" in ERR"
run --help
check "nnrp --help" 0 "\"usage\" in OUT and \"decode\" in OUT"
run decode --help
check "nnrp decode --help" 0 "\"--metadata\" in OUT and \"--lenient\" in OUT"
run vectors --help
check "nnrp vectors --help" 0 "\"usage\" in OUT"
run --version
check "nnrp --version" 0 "OUT.startswith(\"nnrp \") and \".\" in OUT"

# --- Judge every case (one python3 run) --------------------------------------
python3 - "$TMP" <<'PY'
import json, sys
tmp = sys.argv[1]
passed = failed = 0
for line in open(f"{tmp}/cases"):
    num, rc, want, name, expr = line.rstrip("\n").split("\t", 4)
    OUT = open(f"{tmp}/case{num}.out", errors="replace").read()
    ERR = open(f"{tmp}/case{num}.err", errors="replace").read()
    try:
        L = [json.loads(x) for x in OUT.splitlines() if x.startswith("{")]
        good = rc == want and bool(eval(expr))
    except Exception as e:  # a malformed line or a missing key fails
        good, ERR = False, ERR + f"\n[{type(e).__name__}: {e}]"
    if good:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} (exit {rc}, want {want}; check: {expr})")
        for label, text in (("out", OUT), ("err", ERR)):
            for t in text[:600].splitlines():
                print(f"  {label}: {t}")
print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 and passed > 0 else 1)
PY
