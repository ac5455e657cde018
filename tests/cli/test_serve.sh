#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# test_serve.sh - CTest checks of `nnrp serve`, `submit`, `bench` and
# `ping` over loopback TCP (docs/cli.md): upscale results checked value by
# value, token streaming (several RESULT_PUSH then EOS), bench accounting
# and its JSON line, --auth-token accept/reject, --model echo, --delay-ms,
# --max-concurrent, --lenient, SIGTERM/SIGINT stopping the server with exit
# status 0, usage errors; issue 4: --budget-mode result classes (submit
# --class-check, bench --verify), bench --cache / --cache-flood /
# --deadline-ms, credit window and auto-overload options. Servers listen on --port 0 (the port is read from
# their "listening on" line); every process is started and stopped by PID
# with a time limit.
#
# usage: test_serve.sh <path to the nnrp binary>   (checks use python3)
set -u
NNRP=${1:?usage: test_serve.sh <nnrp binary>}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/nnrp_serve.XXXXXX") || exit 1
pids=""
cleanup() {
  for p in $pids; do
    kill -KILL "$p" 2>/dev/null
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
n=0
rc=0
LIMIT=60 # seconds any client command may take

# run ARGS...: runs nnrp (at most $LIMIT s), keeps stdout/stderr in
# $TMP/out, $TMP/err and the exit status in $rc (124: time limit).
run() {
  timeout -s KILL "$LIMIT" "$NNRP" "$@" >"$TMP/out" 2>"$TMP/err"
  rc=$?
}

# check NAME WANT_RC PY_EXPR: records a case, judged at the end by one
# python3 run where PY_EXPR sees OUT, ERR (texts) and L (JSON lines of OUT).
check() {
  n=$((n + 1))
  mv "$TMP/out" "$TMP/case$n.out"
  mv "$TMP/err" "$TMP/case$n.err"
  printf '%s\t%s\t%s\t%s\t%s\n' "$n" "$rc" "$2" "$1" "$3" >>"$TMP/cases"
}

# start_server NAME ARGS...: `nnrp serve --port 0 ARGS` in the background;
# sets $spid and $sport (waits at most 10 s for the "listening on" line).
start_server() {
  name=$1
  shift
  : >"$TMP/$name.out"
  "$NNRP" serve --port 0 "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  spid=$!
  pids="$pids $spid"
  i=0
  while [ $i -lt 100 ]; do
    sport=$(sed -n 's/^listening on .*:\([0-9][0-9]*\)$/\1/p' \
      "$TMP/$name.out")
    [ -n "$sport" ] && return 0
    i=$((i + 1))
    sleep 0.1
  done
  echo "FAIL server $name did not print its port"
  cat "$TMP/$name.err"
  exit 1
}

# alive PID: 0 while the process runs (a zombie has exited).
alive() {
  st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}

# stop_server PID SIGNAL: sends the signal, waits at most 10 s, then KILL;
# $rc = the exit status (124 when it had to be killed).
stop_server() {
  kill "-$2" "$1"
  i=0
  while alive "$1" && [ $i -lt 100 ]; do
    i=$((i + 1))
    sleep 0.1
  done
  if alive "$1"; then
    kill -KILL "$1"
    wait "$1"
    rc=124
  else
    wait "$1"
    rc=$?
  fi
}

# server_log NAME: the server's stderr as the case's output.
server_log() {
  cp "$TMP/$1.err" "$TMP/out"
  : >"$TMP/err"
}

JSON_KEYS='["sent", "completed", "dropped", "errors", "p50_us", "p99_us", "p999_us", "frames_per_s", "bytes_per_s"]'
JSON_KEYS4='["hints", "pauses", "result_classes", "cache_puts"]'

# --- Server 1: defaults (upscale) -------------------------------------------
start_server s1
P=$sport

run ping --port "$P" --count 3 --interval-ms 10
check "ping --count 3" 0 "OUT.count(\"pong from\") == 3 and \"3 sent, 3 received\" in OUT"

run submit --port "$P" --frames 3 --verify
check "submit --frames 3 --verify (upscale)" 0 "OUT.count(\"verify=ok\") == 3 and OUT.count(\"upscaled=32x16->64x32\") == 3 and \"model \\\"upscale\\\"\" in OUT"

# A 2x2 FP16 tile [[0, 1], [2, 3]]: the bilinear 2x upscale (half-pixel
# centres, clamped edges) is exact in FP16.
run submit --port "$P" --tile 0000003c00400042 --tile-size 2x2 --dump --verify
check "upscale of a known 2x2 tile" 0 "\"0000 3400 3a00 3c00\n    3800 3a00 3d00 3e00\n    3e00 3f00 4080 4100\n    4000 4080 4180 4200\n\" in OUT and \"upscaled=2x2->4x4\" in OUT and \"verify=ok\" in OUT"

run submit --port "$P" --tile 00000000000000000000 --tile-size 5x1 --dump
check "upscale of a 5x1 tile: 10x2 zeros" 0 "OUT.count(\"0000\") == 20 and \"bytes=40\" in OUT"

run submit --port "$P" --kind token --text "one two three four five" --verify
check "token streaming: 5 chunks in 5 pushes, EOS on the last" 0 "\"chunks=5 pushes=5\" in OUT and 'tokens=\"one two three four five\"' in OUT and \"verify=ok\" in OUT"

run submit --port "$P" --kind token --payload 3000 --verify
check "token streaming: at most 16 chunks" 0 "\"chunks=16 pushes=16\" in OUT and \"verify=ok\" in OUT"

run submit --port "$P" --kind mixed --verify
check "mixed frame: tensor upscaled + tokens streamed" 0 "\"sections=1 tiles=1\" in OUT and \"verify=ok\" in OUT and \"chunks=11\" in OUT"

for k in audio video event tool opaque; do
  run submit --port "$P" --kind "$k" --payload 100 --verify
  check "submit --kind $k: typed payload echoed" 0 "\"typed=1\" in OUT and \"verify=ok\" in OUT"
done

run bench --port "$P" --frames 600 --window 16 --sessions 3 --payload 2048 --json
check "bench --json (tensor)" 0 "list(L[-1])[:9] == $JSON_KEYS and list(L[-1])[9:13] == $JSON_KEYS4 and L[-1][\"result_classes\"][\"complete\"] == 600 and L[-1][\"sent\"] == L[-1][\"completed\"] == 600 and L[-1][\"dropped\"] == 0 and L[-1][\"errors\"] == 0 and 0 < L[-1][\"p50_us\"] <= L[-1][\"p99_us\"] <= L[-1][\"p999_us\"] and L[-1][\"frames_per_s\"] > 0 and OUT.splitlines()[-1].startswith(\"{\") and \"latency histogram\" in OUT"

run bench --port "$P" --frames 300 --window 8 --sessions 2 --payload 256 --kind token --json
check "bench --kind token (streamed)" 0 "L[-1][\"sent\"] == L[-1][\"completed\"] == 300 and int(OUT.split(\"result pushes: \")[1].split()[0]) == 300 * 16"

run bench --port "$P" --frames 200 --window 4 --payload 1024 --kind mixed --json
check "bench --kind mixed" 0 "L[-1][\"sent\"] == L[-1][\"completed\"] == 200"

stop_server "$spid" TERM
server_log s1
check "SIGTERM: server 1 exits 0 and logged its sessions" 0 "\"accepted, handshake complete\" in OUT and \"closed, clean\" in OUT and \"signal 15\" in OUT and \"stopped:\" in OUT"

run ping --port "$P" --count 1 --timeout-ms 2000
check "ping a stopped server: connection refused" 1 "\"CONNECTION_LOST\" in ERR"

# --- Server 2: echo model, auth token, delay ---------------------------------
start_server s2 --model echo --auth-token s3cret --delay-ms 30 --max-concurrent 8
P=$sport

run submit --port "$P"
check "no auth token: AUTH_FAILED, exit 1" 1 "\"AUTH_FAILED\" in ERR"

run ping --port "$P" --auth-token wrong
check "wrong auth token: AUTH_FAILED, exit 1" 1 "\"AUTH_FAILED\" in ERR"

run ping --port "$P" --auth-token s3cret --count 2 --interval-ms 0
check "right auth token: ping" 0 "\"2 sent, 2 received\" in OUT"

run submit --port "$P" --auth-token s3cret --frames 2 --dump --verify
check "echo: tile unchanged, answered after --delay-ms" 0 "OUT.count(\"verify=ok\") == 2 and \"model \\\"echo\\\"\" in OUT and all(float(x.split(\"rtt=\")[1].split(\"ms\")[0]) >= 29 for x in OUT.splitlines() if x.startswith(\"frame \"))"

run submit --port "$P" --auth-token s3cret --kind token --text "echo keeps this whole" --verify
check "echo: token payload unchanged in one final push" 0 "\"chunks=1 pushes=1\" in OUT and 'tokens=\"echo keeps this whole\"' in OUT and \"verify=ok\" in OUT"

run submit --port "$P" --auth-token s3cret --kind opaque --payload 5000 --verify
check "echo: opaque payload unchanged" 0 "\"verify=ok\" in OUT and \"bytes=5000\" in OUT"

run bench --port "$P" --auth-token s3cret --frames 64 --window 16 --payload 512 --json
check "bench against --delay-ms 30, window 8 (server)" 0 "L[-1][\"completed\"] == 64 and L[-1][\"p50_us\"] >= 29000 and \"server window 8\" in OUT"

run bench --port "$P" --auth-token s3cret --frames 24 --window 8 --payload 512 --deadline-ms 5 --json
check "bench --deadline-ms 5 against --delay-ms 30: every frame expires or is dropped, exit 0" 0 "L[-1][\"sent\"] == 24 and L[-1][\"expired\"] + L[-1][\"dropped\"] == 24 and L[-1][\"errors\"] == L[-1][\"expired\"] and \"expired\" in OUT"

# SIGINT while a bench keeps frames in flight: the server drains and exits 0;
# the bench accounts every frame it sent (exit 1: not all frames were sent).
timeout -s KILL "$LIMIT" "$NNRP" bench --port "$P" --auth-token s3cret \
  --frames 100000 --window 8 --payload 512 --json >"$TMP/bench.out" \
  2>"$TMP/bench.err" &
bpid=$!
pids="$pids $bpid"
sleep 1
stop_server "$spid" INT
srv_rc=$rc
wait "$bpid"
rc=$?
mv "$TMP/bench.out" "$TMP/out"
mv "$TMP/bench.err" "$TMP/err"
check "bench interrupted by the server's shutdown: every sent frame ended" 1 "L[-1][\"sent\"] == L[-1][\"completed\"] + L[-1][\"dropped\"] + L[-1][\"errors\"] and 0 < L[-1][\"sent\"] < 100000"
rc=$srv_rc
server_log s2
check "SIGINT with frames in flight: server 2 exits 0" 0 "\"handshake rejected\" in OUT and \"signal 2\" in OUT and \"stopped:\" in OUT"

# --- Server 3: lenient, window 2 ----------------------------------------------
start_server s3 --lenient --max-concurrent 2
P=$sport
run bench --port "$P" --lenient --frames 200 --window 16 --sessions 2 --payload 1000 --json
check "--lenient both sides, server window 2" 0 "L[-1][\"completed\"] == 200 and \"server window 2\" in OUT"
stop_server "$spid" TERM
: >"$TMP/out"
: >"$TMP/err"
check "server 3 exits 0 on SIGTERM" 0 "True"

# --- Server 4: issue 4 (budget mode, cache quota, credit, overload) ----------
start_server s4 --budget-mode --budget-depth 1 --cache-entries 8 \
  --credit-window 4 --auto-overload --patch-rate 3/500
P=$sport

run submit --port "$P" --frames 6 --tiles 4 --budget-policy any --class-check --verify
check "budget-mode, policy any: PARTIAL, COMPLETE, DEGRADED, PARTIAL, STALE_REUSE, DEGRADED" 0 "[x.split()[2] for x in OUT.splitlines() if x.startswith(\"frame \")] == [\"PARTIAL\", \"COMPLETE\", \"DEGRADED\", \"PARTIAL\", \"STALE_REUSE\", \"DEGRADED\"] and OUT.count(\"class-check=ok verify=ok\") == 6 and \"covered=2 dropped=2\" in OUT and \"flags=0x1 applied=0x2 covered=4 dropped=0 reused=2\" in OUT and \"flags=0x2 applied=0x4\" in OUT"

run submit --port "$P" --frames 3 --budget-policy stale --class-check --verify
check "budget-mode, policy stale: COMPLETE, then STALE_REUSE of frame 1" 0 "OUT.count(\"STALE_REUSE\") == 2 and OUT.count(\"reused=1 class-check=ok verify=ok\") == 2 and \"frame 1: COMPLETE\" in OUT"

run submit --port "$P" --frames 2 --budget-policy drop
check "budget-mode, policy drop: early RESULT_DROP (exit 1)" 1 "OUT.count(\"DROPPED\") == 2"

run submit --port "$P" --frames 2 --class-check --verify
check "budget-mode, policy none: COMPLETE only" 0 "OUT.count(\"COMPLETE\") == 2 and OUT.count(\"class-check=ok\") == 2"

run bench --port "$P" --frames 300 --window 8 --tiles 2 --budget-policy any --verify --json
check "bench --budget-policy any --verify: classes counted and verified" 0 "L[-1][\"verify_failed\"] == 0 and sum(L[-1][\"result_classes\"].values()) == L[-1][\"completed\"] == 300 and min(L[-1][\"result_classes\"].values()) > 0 and \"result classes: complete\" in OUT"

run bench --port "$P" --frames 200 --window 4 --tiles 3 --cache --verify --json
check "bench --cache: objects put once, frames by reference, verified" 0 "L[-1][\"cache_puts\"] == 3 and L[-1][\"ref_frames\"] == 200 and L[-1][\"completed\"] == 200 and L[-1][\"verify_failed\"] == 0"

run bench --port "$P" --frames 100 --cache --cache-mode mixed --kind mixed --verify --json
check "bench --cache --cache-mode mixed --kind mixed" 0 "L[-1][\"cache_puts\"] == 2 and L[-1][\"ref_frames\"] == 100 and L[-1][\"verify_failed\"] == 0"

run bench --port "$P" --frames 50 --cache-flood 20 --payload 512 --json
check "bench --cache-flood 20 against --cache-entries 8: 12 REJECTED" 0 "L[-1][\"cache_puts\"] == 20 and L[-1][\"cache_rejected\"] == 12 and L[-1][\"completed\"] == 50"

run bench --port "$P" --frames 400 --window 64 --sessions 2 --auto-pause --json
check "bench --auto-pause with a credit window of 4" 0 "L[-1][\"completed\"] == 400 and L[-1][\"hints\"] > 0"

stop_server "$spid" TERM
server_log s4
check "server 4: class counts and cache stats in the log, exit 0" 0 "\"result classes: complete\" in OUT and \"; early drops 2\" in OUT and \"put(s) accepted, 12 rejected\" in OUT and \"resolved frame(s)\" in OUT"

# --- Usage ---------------------------------------------------------------------
run serve --bogus
check "serve --bogus: usage error" 2 "\"unknown argument\" in ERR"
run serve --model nope
check "serve --model nope: usage error" 2 "\"--model\" in ERR"
run submit --frames 1
check "submit without --port: usage error" 2 "\"--port is required\" in ERR"
run bench --port 1 --kind audio
check "bench --kind audio: usage error" 2 "\"--kind\" in ERR"
run ping --port 70000
check "ping --port 70000: usage error" 2 "\"--port\" in ERR"
run bench --port 1 --budget-policy sometimes
check "bench --budget-policy sometimes: usage error" 2 "\"--budget-policy\" in ERR"
run bench --port 1 --cache --kind token
check "bench --cache --kind token: usage error" 2 "\"--cache\" in ERR"
run serve --patch-rate 5
check "serve --patch-rate 5: usage error" 2 "\"--patch-rate\" in ERR"
run serve --budget-depth 0
check "serve --budget-depth 0: usage error" 2 "\"--budget-depth\" in ERR"
for c in serve submit bench ping; do
  run "$c" --help
  check "nnrp $c --help" 0 "OUT.startswith(\"usage: nnrp $c\")"
done

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
            for t in text[:1500].splitlines():
                print(f"  {label}: {t}")
print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 and passed > 0 else 1)
PY
