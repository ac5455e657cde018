#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# test_issue4.py - integration tests of issue 4 (flow control,
# backpressure, budget classes, cache, session patch) over real loopback
# TCP: `nnrp serve` of the preset under test, started and stopped by PID
# with timeouts (SIGTERM -> exit 0, no sanitizer report, no descriptor
# left), driven by `nnrp bench` and by raw sockets (session.md §7.7, §8,
# §9, §10; wire.md §4.3-§4.4, §6.1, §9, §10).
#
# usage: test_issue4.py <nnrp binary> overload|budget|cache|wire
#   overload  --delay-ms 10 --max-concurrent 8 --auto-overload against a
#             bench pushing window 256 x 4 sessions for 10 s: every frame
#             exactly one terminal, hints and pauses seen, the server's
#             VmRSS (sampled every 0.5 s) bounded and flat
#   budget    --budget-mode under load with --budget-policy any: PARTIAL,
#             STALE_REUSE and DEGRADED results appear, the client counts and
#             verifies them (class vs policy, tiles vs model); ALLOW_DROP
#             gives early drops with hints
#   cache     bench --cache (REFERENCE and MIXED): every frame by reference,
#             resolved by the server, output verified; --cache-flood far
#             beyond the quota: REJECTED acks, server RSS bounded
#   wire      raw sockets: 11 SESSION_PATCH in a burst -> the 11th is
#             RATE_LIMITED with retry_after_ms; a REFERENCE submit naming
#             missing objects -> ERROR CACHE_MISS (FRAME, not fatal) +
#             RESULT_DROP, connection still usable; CACHE_PUT of the objects
#             over the wire, then the same submit is answered and its
#             upscaled tile checked byte for byte
# Python 3 stdlib only; reuses the peer/server helpers of
# test_server_loopback.py (same directory).
import json
import os
import re
import selectors
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_server_loopback as base  # noqa: E402

from test_server_loopback import (  # noqa: E402
    TestFailure, check, header, u16, u32, Peer, Server, FRAME_SUBMIT,
    RESULT_PUSH, RESULT_DROP, ERROR, FLAG_EOS, FLOW_UPDATE, RESULT_HINT,
    PING, PONG, CODE, SCOPE)

SESSION_PATCH, SESSION_PATCH_ACK = 0x03, 0x04
CACHE_PUT, CACHE_ACK = 0x14, 0x15
RSS_BOUND_KB = 200 * 1024   # the server's VmRSS must stay below this
RSS_GROWTH = 0.20           # between the 3rd second and the end of the load


def is_asan(nnrp):
    try:
        with open(nnrp, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def rss_kb(pid):
    """VmRSS of a process (kB), or None without /proc."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def bench_json(out, what):
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    check(lines, "%s printed no JSON line:\n%s" % (what, out[-2000:]))
    j = json.loads(lines[-1])
    keys = list(j)
    want = ["sent", "completed", "dropped", "errors", "p50_us", "p99_us",
            "p999_us", "frames_per_s", "bytes_per_s", "hints", "pauses",
            "result_classes", "cache_puts"]
    check(keys[:len(want)] == want, "%s JSON keys %s, want %s first" %
          (what, keys, want))
    check(j["sent"] == j["completed"] + j["dropped"] + j["errors"],
          "%s: sent %d != completed %d + dropped %d + errors %d" %
          (what, j["sent"], j["completed"], j["dropped"], j["errors"]))
    return j


def bench(nnrp, srv, args, timeout):
    return base.run_cli(nnrp, ["bench", "--host", srv.host, "--port",
                               str(srv.port), "--json"] + args, timeout)


def server_log_counts(log):
    """The server's 'result classes:' line as a dict."""
    m = re.search(r"result classes: complete (\d+), partial (\d+), "
                  r"stale_reuse (\d+), degraded (\d+); early drops (\d+)",
                  log)
    check(m, "server log lacks the result classes line:\n%s" % log[-2000:])
    return dict(zip(("complete", "partial", "stale_reuse", "degraded",
                     "early_drops"), map(int, m.groups())))


# ---------------------------------------------------------------- overload

def overload_run(nnrp, srv, res):
    """bench window 256 x 4 sessions for 10 s against a server that keeps 8
    frames per session for 10 ms each: the client wants 32x what the server
    takes. VmRSS of the server sampled every 0.5 s meanwhile."""
    argv = [nnrp, "bench", "--host", srv.host, "--port", str(srv.port),
            "--window", "256", "--sessions", "4", "--duration-s", "10",
            "--payload", "2048", "--json"]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         preexec_fn=base.die_with_parent)
    samples = []
    try:
        while p.poll() is None and time.monotonic() - t0 < 60:
            r = rss_kb(srv.proc.pid)
            if r is not None:
                samples.append((time.monotonic() - t0, r))
            srv.require_alive("during the overload bench")
            time.sleep(0.5)
        out, err = p.communicate(timeout=max(1, 70 - (time.monotonic() - t0)))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    out = out.decode("utf-8", "replace")
    err = err.decode("utf-8", "replace")
    marks = [m for m in base.SANITIZER_MARKS if m in err]
    check(p.returncode == 0 and not marks, "bench exit %s%s\nstdout: %s\n"
          "stderr: %s" % (p.returncode, " (sanitizer)" if marks else "",
                          out[-2000:], err[-2000:]))
    j = bench_json(out, "overload bench")
    res["json"], res["samples"] = j, samples
    check(j["sent"] > 0 and j["errors"] == 0, "overload: %s" % j)
    return "%d frames in %.1f s: %d completed, %d dropped, %d errors" % (
        j["sent"], time.monotonic() - t0, j["completed"], j["dropped"],
        j["errors"])


def overload_signals(res):
    j = res["json"]
    check(j["hints"] > 0, "no RESULT_HINT counted under overload: %s" % j)
    check(j["pauses"] > 0, "no pause (FLOW_UPDATE PAUSE) observed under "
          "overload: %s" % j)
    return "%d hints, %d pauses, classes %s" % (j["hints"], j["pauses"],
                                                 j["result_classes"])


def overload_rss(res):
    s = res["samples"]
    if not s:
        return "skipped: no /proc"
    peak = max(r for _, r in s)
    check(peak < RSS_BOUND_KB, "server VmRSS peaked at %d kB (bound %d kB)"
          % (peak, RSS_BOUND_KB))
    at3 = [r for t, r in s if t >= 3.0]
    check(len(at3) >= 2, "too few RSS samples after 3 s: %s" % s)
    growth = (at3[-1] - at3[0]) / float(at3[0])
    check(growth < RSS_GROWTH, "server VmRSS grew %.1f%% between 3 s (%d kB) "
          "and the end (%d kB); samples %s" % (100 * growth, at3[0], at3[-1],
                                              s))
    return "VmRSS %d kB at start, %d kB at 3 s, %d kB at the end, peak %d " \
        "kB (%d samples, growth %.1f%%)" % (s[0][1], at3[0], at3[-1], peak,
                                            len(s), 100 * growth)


def flood_conn(srv, i):
    s = socket.create_connection((srv.host, srv.port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c = {"i": i, "sock": s, "rx": b"", "sid": 0, "next": 1, "term": {},
         "pauses": 0, "hints": 0, "out": b""}
    s.sendall(base.hello(route_id=i, trace_id=0xF100 + i))
    p = None
    while p is None or p.msg_type != base.SERVER_HELLO_ACK:
        p = read_one(c, time.monotonic() + 5)
        check(p is not None, "flood %d: no SERVER_HELLO_ACK" % i)
    c["sid"] = p.session_id
    s.setblocking(False)
    return c


def read_one(c, deadline):
    """Blocking read of one packet (handshake only)."""
    while True:
        if len(c["rx"]) >= 40:
            h = base.Packet(c["rx"][:40], b"", b"")
            need = 40 + h.meta_len + h.body_len
            if len(c["rx"]) >= need:
                raw, c["rx"] = c["rx"][:need], c["rx"][need:]
                return base.Packet(raw[:40], raw[40:40 + h.meta_len],
                                   raw[40 + h.meta_len:])
        c["sock"].settimeout(max(0.01, deadline - time.monotonic()))
        b = c["sock"].recv(65536)
        if not b:
            return None
        c["rx"] += b


def flood_parse(c):
    """Results, drops, hints and pauses in the bytes read so far."""
    rx = c["rx"]
    off = 0
    while len(rx) - off >= 40:
        mt = rx[off + 6]
        ml, bl = struct.unpack_from("<II", rx, off + 12)
        need = 40 + ml + bl
        if len(rx) - off < need:
            break
        flags, = struct.unpack_from("<I", rx, off + 8)
        fid, = struct.unpack_from("<I", rx, off + 24)
        if mt == RESULT_DROP or (mt == RESULT_PUSH and flags & FLAG_EOS):
            c["term"][fid] = c["term"].get(fid, 0) + 1
        elif mt == RESULT_HINT:
            c["hints"] += 1
        elif mt == FLOW_UPDATE and rx[off + 41] == 2:  # update_reason PAUSE
            c["pauses"] += 1
        elif mt == PING:
            c["out"] += header(PONG, session_id=c["sid"], trace_id=struct.
                               unpack_from("<Q", rx, off + 32)[0])
        elif mt not in (RESULT_PUSH, FLOW_UPDATE):
            raise TestFailure("flood %d: unexpected %r" % (c["i"], base.Packet(
                rx[off:off + 40], rx[off + 40:off + 40 + ml],
                rx[off + 40 + ml:off + need])))
        off += need
    c["rx"] = rx[off:]


FLOOD_RATE = 8000   # submits/s per connection: 10x the 8 frames per 10 ms
FLOOD_SECONDS = 3.0  # the server serves a session under flow control


def overload_raw_flood(srv):
    """Two raw connections push FRAME_SUBMITs at 10x the rate the server
    serves a well-behaved session (8 frames per 10 ms) for 3 s, ignoring
    max_concurrent_frames, PAUSE and hints. The server must stay bounded
    (held-submit bound + TCP backpressure), keep answering, and end every
    frame exactly once after the push stops."""
    conns = [flood_conn(srv, i) for i in range(2)]
    sel = selectors.DefaultSelector()
    tmpl = bytearray(base.submit(conns[0]["sid"], 1))
    t0 = time.monotonic()
    samples = []
    try:
        for c in conns:
            sel.register(c["sock"], selectors.EVENT_READ, c)
        next_sample = t0
        while True:
            now = time.monotonic()
            pushing = now - t0 < FLOOD_SECONDS
            if now >= next_sample:
                samples.append((now - t0, rss_kb(srv.proc.pid)))
                next_sample += 0.5
            open_frames = sum(c["next"] - 1 - len(c["term"]) for c in conns)
            if not pushing and open_frames == 0:
                break
            check(now - t0 < 30, "flood: %d frames still open after 30 s" %
                  open_frames)
            for key, _ in sel.select(timeout=0.002):
                c = key.data
                try:
                    b = c["sock"].recv(1 << 20)
                except (BlockingIOError, InterruptedError):
                    continue
                check(b != b"", "flood %d: the server closed the connection"
                      % c["i"])
                c["rx"] += b
                flood_parse(c)
            for c in conns:  # paced pushing, whatever the server says
                due = int(FLOOD_RATE * (now - t0)) - (c["next"] - 1)
                if pushing and due > 0 and len(c["out"]) < 65536:
                    batch = []
                    for _ in range(min(due, 256)):
                        struct.pack_into("<II", tmpl, 20, c["sid"],
                                         c["next"])
                        batch.append(bytes(tmpl))
                        c["next"] += 1
                    c["out"] += b"".join(batch)
                if c["out"]:
                    try:
                        n = c["sock"].send(c["out"])
                        c["out"] = c["out"][n:]
                    except (BlockingIOError, InterruptedError):
                        pass
        srv.require_alive("after the raw flood")
        sent = sum(c["next"] - 1 for c in conns)
        twice = sum(1 for c in conns for n in c["term"].values() if n != 1)
        check(twice == 0, "flood: %d frames with more than one terminal" %
              twice)
        good = [r for _, r in samples if r is not None]
        if good:
            check(max(good) < RSS_BOUND_KB, "flood: server VmRSS peaked at %d "
                  "kB: %s" % (max(good), samples))
        return "%d frames pushed (%d/s), each ended once; %d pauses and %d " \
            "hints ignored; VmRSS peak %s kB" % (
                sent, sent / FLOOD_SECONDS, sum(c["pauses"] for c in conns),
                sum(c["hints"] for c in conns),
                max(good) if good else "?")
    finally:
        sel.close()
        for c in conns:
            c["sock"].close()


def main_overload(nnrp, r):
    srv = Server(nnrp, ["--delay-ms", "10", "--auto-overload"])
    base_fds = srv.fd_count()
    res = {}
    try:
        if r.run("overload.bench_10s_exactly_once", overload_run, nnrp, srv,
                 res):
            r.run("overload.hints_and_pauses", overload_signals, res)
            r.run("overload.server_rss_bounded", overload_rss, res)
        r.run("overload.raw_flood_ignoring_flow_control", overload_raw_flood,
              srv)
        r.run("overload.no_descriptor_left", base.check_fds, srv, base_fds)
    finally:
        r.run("overload.sigterm_exit0_no_leak", base.stop_server, srv,
              always=True)
    if "json" in res:
        m = re.search(r"pause\(s\)", srv.stderr())
        print("figures: %s; server pauses logged: %s" %
              (json.dumps(res["json"]), "yes" if m else "no"), flush=True)


# ------------------------------------------------------------------ budget

def budget_any(nnrp, srv, res):
    out, dt = bench(nnrp, srv, ["--window", "64", "--sessions", "2",
                                "--frames", "3000", "--tiles", "4",
                                "--payload", "2048", "--budget-policy", "any",
                                "--verify"], timeout=60)
    j = bench_json(out, "budget bench")
    c = j["result_classes"]
    check(j["completed"] == j["sent"] == 3000 and j["errors"] == 0,
          "budget bench: %s" % j)
    check(sum(c.values()) == j["completed"], "classes %s do not add up to "
          "%d completed" % (c, j["completed"]))
    check(c["partial"] > 0 and c["stale_reuse"] > 0 and c["degraded"] > 0,
          "not every degraded class appeared under load: %s" % c)
    check(j["verify_failed"] == 0, "%d results failed --verify" %
          j["verify_failed"])
    res["any"] = c
    return "classes %s in %.2f s, all verified" % (c, dt)


def budget_drop(nnrp, srv, res):
    out, dt = bench(nnrp, srv, ["--window", "64", "--frames", "1500",
                                "--budget-policy", "drop"], timeout=60)
    j = bench_json(out, "drop bench")
    check(j["dropped"] > 0 and j["errors"] == 0, "ALLOW_DROP under load: "
          "no early drop: %s" % j)
    check(j["result_classes"]["complete"] == j["completed"],
          "ALLOW_DROP only: non-COMPLETE classes %s" % j["result_classes"])
    check(j["hints"] > 0, "no RESULT_HINT with the drops: %s" % j)
    res["drop"] = j["dropped"]
    return "%d of %d frames dropped early, %d hints" % (j["dropped"],
                                                        j["sent"], j["hints"])


def budget_none(nnrp, srv):
    out, dt = bench(nnrp, srv, ["--window", "64", "--frames", "800",
                                "--verify"], timeout=60)
    j = bench_json(out, "strict-policy bench")
    c = j["result_classes"]
    check(c["complete"] == j["completed"] == 800 and j["dropped"] == 0,
          "budget_policy NONE must get COMPLETE results only: %s" % j)
    return "800 COMPLETE"


def budget_server_counts(srv, res):
    err = base.stop_server(srv)
    n = server_log_counts(srv.stderr())
    a = res.get("any")
    check(a is not None, "the budget bench did not run")
    for k in ("partial", "stale_reuse", "degraded"):
        check(n[k] == a[k], "server sent %d %s results, the client counted "
              "%d" % (n[k], k, a[k]))
    check(n["early_drops"] == res.get("drop", -1), "server early drops %d, "
          "client drops %s" % (n["early_drops"], res.get("drop")))
    return err + "; server log %s" % n


def main_budget(nnrp, r):
    srv = Server(nnrp, ["--delay-ms", "5", "--budget-mode"])
    base_fds = srv.fd_count()
    res = {}
    stopped = False
    try:
        r.run("budget.any_classes_under_load", budget_any, nnrp, srv, res)
        r.run("budget.allow_drop_early_drops", budget_drop, nnrp, srv, res)
        r.run("budget.policy_none_complete", budget_none, nnrp, srv)
        r.run("budget.no_descriptor_left", base.check_fds, srv, base_fds)
        stopped = True
        r.run("budget.server_counts_match_sigterm_exit0",
              budget_server_counts, srv, res, always=True)
    finally:
        if not stopped:
            r.run("budget.sigterm_exit0_no_leak", base.stop_server, srv,
                  always=True)


# ------------------------------------------------------------------- cache

def cache_reference(nnrp, srv, mode, extra):
    out, dt = bench(nnrp, srv, ["--cache", "--cache-mode", mode, "--verify",
                                "--sessions", "2", "--window", "16",
                                "--frames", "1000", "--tiles", "2"] + extra,
                    timeout=60)
    j = bench_json(out, "cache bench")
    check(j["completed"] == j["sent"] == 1000, "cache bench: %s" % j)
    check(j["ref_frames"] == 1000, "only %d of 1000 frames went by reference "
          "(puts %d, rejected %d)" % (j["ref_frames"], j["cache_puts"],
                                      j["cache_rejected"]))
    check(j["verify_failed"] == 0 and j["cache_rejected"] == 0,
          "cache bench: %s" % j)
    return "%s: %d puts, 1000 frames by reference, results verified" % (
        mode, j["cache_puts"])


def cache_flood(nnrp, srv):
    before = rss_kb(srv.proc.pid)
    flood = 20000
    out, dt = bench(nnrp, srv, ["--cache", "--cache-flood", str(flood),
                                "--payload", "4096", "--frames", "300",
                                "--verify"], timeout=90)
    after = rss_kb(srv.proc.pid)
    j = bench_json(out, "flood bench")
    # Quota 64 entries / 1 MiB: the 3 frame objects + 61 flood objects fit.
    check(j["cache_puts"] == flood + 3, "puts %d, want %d" %
          (j["cache_puts"], flood + 3))
    check(j["cache_rejected"] == flood - 61, "REJECTED acks %d, want %d "
          "(quota 64 entries)" % (j["cache_rejected"], flood - 61))
    check(j["completed"] == 300 and j["ref_frames"] == 300 and
          j["verify_failed"] == 0, "frames after the flood: %s" % j)
    note = "%d puts, %d REJECTED, %.2f s" % (j["cache_puts"],
                                             j["cache_rejected"], dt)
    if before is not None and after is not None:
        check(after < RSS_BOUND_KB and after - before < 64 * 1024,
              "server VmRSS %d kB -> %d kB across a flood of %d x 4 KiB "
              "puts (quota 1 MiB)" % (before, after, flood))
        note += ", VmRSS %d -> %d kB" % (before, after)
    return note


def cache_server_log(srv):
    err = base.stop_server(srv)
    log = srv.stderr()
    check(re.search(r"cache: \d+ put\(s\) accepted, \d+ rejected, [1-9]\d* "
                    r"resolved frame", log),
          "server log shows no resolved frames:\n%s" % log[-2000:])
    check(re.search(r"cache: 64 put\(s\) accepted, 19939 rejected", log),
          "server log lacks the flood's 64 accepted / 19939 rejected:\n%s"
          % log[-3000:])
    return err


def main_cache(nnrp, r):
    srv = Server(nnrp, ["--cache-entries", "64", "--cache-bytes", "1048576"])
    base_fds = srv.fd_count()
    stopped = False
    try:
        r.run("cache.reference_resolved_verified", cache_reference, nnrp, srv,
              "reference", [])
        r.run("cache.mixed_with_tokens_verified", cache_reference, nnrp, srv,
              "mixed", ["--kind", "mixed"])
        r.run("cache.put_flood_rejected_rss_bounded", cache_flood, nnrp, srv)
        r.run("cache.no_descriptor_left", base.check_fds, srv, base_fds)
        stopped = True
        r.run("cache.server_log_sigterm_exit0", cache_server_log, srv,
              always=True)
    finally:
        if not stopped:
            r.run("cache.sigterm_exit0_no_leak", base.stop_server, srv,
                  always=True)


# -------------------------------------------------------------------- wire

def session_patch(sid, quality, trace):
    """SESSION_PATCH (wire.md §4.3) setting QUALITY_TIER (0x02)."""
    meta = struct.pack("<HHIIHHQIII", 0, 0, 0x02, 0, quality, 0, 0, 0, 0, 0)
    assert len(meta) == 36
    return header(SESSION_PATCH, 36, 0, session_id=sid, trace_id=trace) + meta


def read_patch_ack(p):
    q = p.read_control()
    check(q is not None and q.msg_type == SESSION_PATCH_ACK and
          len(q.meta) == 48, "%s: expected SESSION_PATCH_ACK, got %r" %
          (p.name, q))
    return {"status": u16(q.meta, 0), "reason": u16(q.meta, 2),
            "applied": u32(q.meta, 4), "rejected": u32(q.meta, 8),
            "retry_after_ms": u32(q.meta, 12), "quality": u16(q.meta, 24),
            "trace": q.trace_id}


def w_patch_rate(ctx):
    """--patch-rate 10/1000: 11 SESSION_PATCH in one write -> 10 ACCEPTED,
    the 11th REJECTED / RATE_LIMITED (5), applied 0, rejected = the mask,
    retry_after_ms > 0 (session.md §10.1 step 2); after retry_after_ms a
    patch is accepted again."""
    p = Peer(ctx.srv, "patch-burst")
    try:
        p.handshake()
        p.send(b"".join(session_patch(p.sid, 3 + i % 2, 0x7A00 + i)
                        for i in range(11)))
        acks = [read_patch_ack(p) for _ in range(11)]
        for i, a in enumerate(acks[:10]):
            check(a["status"] == 0 and a["applied"] == 0x02 and
                  a["rejected"] == 0, "patch %d: %s, want ACCEPTED" % (i, a))
        last = acks[10]
        check(last["status"] == 2 and last["reason"] == 5 and
              last["applied"] == 0 and last["rejected"] == 0x02 and
              0 < last["retry_after_ms"] <= 1000,
              "11th patch: %s, want REJECTED / RATE_LIMITED (5) with "
              "0 < retry_after_ms <= 1000" % last)
        check(last["quality"] == 4, "rate-limited patch changed the state: "
              "%s (tier in force must be the 10th patch's 4)" % last)
        time.sleep(last["retry_after_ms"] / 1000.0 + 0.05)
        p.send(session_patch(p.sid, 7, 0x7B00))
        again = read_patch_ack(p)
        check(again["status"] == 0 and again["quality"] == 7,
              "patch after retry_after_ms: %s, want ACCEPTED" % again)
        p.expect_pong(0x7C00)
        return "11th: RATE_LIMITED, retry_after_ms %d; accepted again after " \
            "it" % last["retry_after_ms"]
    finally:
        p.close()


# The objects of the REFERENCE submit (wire.md §9.6, §11.9): a camera block,
# a RAW_U16 tile index (tile id 0) and a one-section table with one 2x1 FP16
# tile [1.0, 2.0] (TensorSectionDesc + length table + payload, §8.5).
CAMERA = bytes(range(0xA0, 0xA8))
TILE_INDEX = struct.pack("<H", 0)
SECTIONS = struct.pack("<HBBBBHIIIIII", 1, 0, 0, 1, 0, 0, 2, 0, 4, 4, 0, 0) \
    + struct.pack("<I", 4) + struct.pack("<HH", 0x3C00, 0x4000)
# Its bilinear 2x upscale (docs/cli.md): rows [1, 1.25, 1.75, 2] twice.
UPSCALED = struct.pack("<8H", 0x3C00, 0x3D00, 0x3F00, 0x4000,
                       0x3C00, 0x3D00, 0x3F00, 0x4000)
KEYS = {1: (0x51, 0x10, 0x11), 2: (0x51, 0x20, 0x21), 3: (0x51, 0x30, 0x31)}


def reference_submit(sid, frame_id, trace):
    """FRAME_SUBMIT (wire.md §6.1) in REFERENCE mode: camera, tile index and
    section table all referenced (object_ref_mask 0x07), composed body of a
    prelude and three reference blocks in slot order (§9.1, §9.3)."""
    meta = struct.pack("<HHHHHHBBBBHHIIIIQQBBBBIIIHH",
                       2, 1, 2, 1, 1, 1,       # src w/h, tile w/h, tiles, secs
                       0, 2, 1, 0,             # class, DENSE_LUMA, RAW_U16
                       0, 0, 0, 0,             # budget, fps, retry, base id
                       0, 0,                   # camera / tile-index bytes (F8,
                       0, 0,                   # F11), reserved1/2
                       1, 0, 0xFF, 0,          # REFERENCE, policy, INHERIT
                       0x07, 0, 0x01, 0, 0)    # ref mask, dep, TENSOR, typed
    assert len(meta) == 72
    refs = b"".join(struct.pack("<HHIII", k, 0, *KEYS[k]) for k in (1, 2, 3))
    prelude = struct.pack("<8I", 0, len(refs), 0, 0, 0, 0, 0, 0)
    body = prelude + refs
    return header(FRAME_SUBMIT, 72, len(body), session_id=sid,
                  frame_id=frame_id, trace_id=trace) + meta + body


def cache_put(sid, kind, data):
    ns, hi, lo = KEYS[kind]
    meta = struct.pack("<8I", ns, hi, lo, kind, 0, len(data), 0, 0)
    return header(CACHE_PUT, 32, len(data), session_id=sid) + meta + data


def w_cache_miss(ctx):
    """A REFERENCE submit naming objects never put -> ERROR CACHE_MISS
    (0x000A, FRAME scope, not fatal, related_frame_id) and RESULT_DROP for
    that frame (session.md §9.5 rule 2); the connection stays usable. Then
    the objects are put (CACHE_ACK ACCEPTED) and the same submit is
    resolved and answered: the upscaled tile of the cached section table."""
    p = Peer(ctx.srv, "cache-miss")
    try:
        p.handshake()
        p.send(reference_submit(p.sid, 1, 0xCA01))
        got = {}
        while len(got) < 2:
            q = p.read_control()
            check(q is not None, "cache-miss: closed after the submit")
            check(q.msg_type in (ERROR, RESULT_DROP) and q.frame_id == 1 and
                  q.msg_type not in got, "cache-miss: unexpected %r (have %s)"
                  % (q, sorted(got)))
            got[q.msg_type] = q
        e = got[ERROR]
        check(e.error() == (CODE["CACHE_MISS"], SCOPE["FRAME"], 0) and
              u32(e.meta, 20) == 1 and u32(e.meta, 16) == p.sid,
              "cache-miss: ERROR %s related %u/%u, want CACHE_MISS/FRAME/"
              "not fatal for frame 1" % (base.fmt_err(*e.error()),
                                         u32(e.meta, 16), u32(e.meta, 20)))
        p.expect_pong(0xCA02)
        r = p.roundtrip(frame_id=2)  # an inline frame on the same connection
        for kind, data in ((1, CAMERA), (2, TILE_INDEX), (3, SECTIONS)):
            p.send(cache_put(p.sid, kind, data))
            a = p.read_control()
            check(a is not None and a.msg_type == CACHE_ACK and
                  (u32(a.meta, 0), u32(a.meta, 4), u32(a.meta, 8)) ==
                  KEYS[kind] and u32(a.meta, 12) == 0,
                  "cache-miss: CACHE_PUT kind %d: %r, want ACCEPTED" %
                  (kind, a))
        p.send(reference_submit(p.sid, 3, 0xCA03))
        r = p.expect_result(3, trace_id=0xCA03)
        check(r.msg_type == RESULT_PUSH and r.flags & FLAG_EOS,
              "resolved submit: %r, want a final RESULT_PUSH" % r)
        check(u16(r.meta, 0) == 0 and r.body.endswith(UPSCALED),
              "resolved submit: status %u, body %s does not end with the "
              "upscaled tile %s" % (u16(r.meta, 0), r.body.hex(),
                                    UPSCALED.hex()))
        return "CACHE_MISS + RESULT_DROP, then PUT x3 and the same submit " \
            "answered with the 4x2 upscale"
    finally:
        p.close()


def main_wire(nnrp, r):
    srv = Server(nnrp, ["--patch-rate", "10/1000"])
    ctx = base.Ctx(nnrp, srv)
    base_fds = srv.fd_count()
    try:
        r.run("wire.patch_burst_rate_limited", w_patch_rate, ctx)
        r.run("wire.reference_to_missing_object", w_cache_miss, ctx)
        r.run("wire.no_descriptor_left", base.check_fds, srv, base_fds)
    finally:
        r.run("wire.sigterm_exit0_no_leak", base.stop_server, srv,
              always=True)


PARTS = {"overload": main_overload, "budget": main_budget,
         "cache": main_cache, "wire": main_wire}


def main(argv):
    if len(argv) != 3 or argv[2] not in PARTS:
        print("usage: %s <nnrp binary> %s" % (argv[0], "|".join(PARTS)),
              file=sys.stderr)
        return 2
    nnrp = argv[1]
    base.VEC.update(base.load_vectors())
    if is_asan(nnrp):
        # ASan's quarantine keeps up to 256 MiB of freed memory resident by
        # default, which would hide (or fake) growth of the server itself.
        opts = os.environ.get("ASAN_OPTIONS", "")
        os.environ["ASAN_OPTIONS"] = (opts + ":" if opts else "") + \
            "quarantine_size_mb=16"
    r = base.Runner()
    r.deadline = time.monotonic() + 100.0
    t0 = time.monotonic()
    try:
        PARTS[argv[2]](nnrp, r)
    except TestFailure as e:
        r.failed += 1
        print("FAIL setup: %s" % e, flush=True)
    print("total %.2f s" % (time.monotonic() - t0))
    return r.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
