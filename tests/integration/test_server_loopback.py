#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# test_server_loopback.py - integration tests of `nnrp serve` over real
# loopback TCP sockets (issue 3 §4; session.md §2.1, §3.3, §4, §6, §7.1,
# wire.md §15-§16). The server is the CLI binary of the preset under test,
# started and stopped by PID with timeouts; under the asan preset its
# LeakSanitizer report at exit (SIGTERM -> exit 0) is the leak check.
#
# usage: test_server_loopback.py <nnrp binary> load|peers
#   load   200 concurrent connections x 8 frames in flight: `nnrp bench`,
#          then the same with raw sockets (every frame answered exactly once)
#   peers  misbehaving peers (garbage, truncated header, oversize body_len,
#          body over max_body_bytes, unknown msg_type, wrong session id,
#          duplicate frame id, FRAME_SUBMIT first, second CLIENT_HELLO, peer
#          dying mid-packet) -> the exact ERROR of wire.md §16 or a clean
#          close, while a bystander connection keeps being served; then
#          `nnrp submit` / `nnrp ping` against the same server
# Python 3 stdlib only. NNRP_VECTORS_DIR names the shared vectors directory.
import json
import os
import re
import resource
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

# ---------------------------------------------------------------- constants

HDR = struct.Struct("<4sBBBBIIIIIHHQ")  # wire.md §2.2, 40 bytes
assert HDR.size == 40

CLIENT_HELLO, SERVER_HELLO_ACK, CLOSE, ERROR = 0x01, 0x02, 0x05, 0x06
FRAME_SUBMIT, FRAME_CANCEL, RESULT_PUSH, RESULT_DROP = 0x10, 0x11, 0x12, 0x13
FLOW_UPDATE, RESULT_HINT, PING, PONG = 0x17, 0x18, 0x20, 0x21
FLAG_EOS = 0x08
MAX_PACKET = 64 << 20  # wire.md §2.1, D19

CODES = {1: "UNSUPPORTED_VERSION", 2: "AUTH_FAILED", 3: "INVALID_STATE",
         4: "MALFORMED_HEADER", 5: "MALFORMED_BODY",
         6: "UNSUPPORTED_CAPABILITY", 7: "LIMIT_EXCEEDED",
         8: "FRAME_EXPIRED", 9: "FRAME_CANCELLED", 10: "CACHE_MISS",
         11: "SERVER_BUSY", 12: "INTERNAL_ERROR"}
CODE = {v: k for k, v in CODES.items()}
SCOPES = {0: "CONNECTION", 1: "SESSION", 2: "FRAME"}
SCOPE = {v: k for k, v in SCOPES.items()}

IO_TIMEOUT = 5.0       # one expected packet or close
SERVER_START = 15.0    # until "listening on" (ASan start-up included)
SERVER_STOP = 15.0     # SIGTERM -> exit
# Markers of a sanitizer report in the server's stderr.
SANITIZER_MARKS = ("LeakSanitizer", "AddressSanitizer", "runtime error:",
                   "UndefinedBehaviorSanitizer")


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def u16(b, off):
    return struct.unpack_from("<H", b, off)[0]


def u32(b, off):
    return struct.unpack_from("<I", b, off)[0]


def fmt_err(code, scope, fatal):
    return "%s/%s/fatal=%d" % (CODES.get(code, hex(code)),
                               SCOPES.get(scope, str(scope)), fatal)


# ------------------------------------------------------------------ vectors

def load_vectors():
    d = os.environ.get("NNRP_VECTORS_DIR")
    if not d:
        d = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "..", "..", "..", "shared", "vectors")
    with open(os.path.join(d, "seed-line.json"), encoding="utf-8") as f:
        doc = json.load(f)
    return {v["name"]: bytes.fromhex(v["hex"]) for v in doc["vectors"]}


VEC = {}


def header(msg_type, meta_len=0, body_len=0, session_id=0, frame_id=0,
           view_id=0, route_id=0, trace_id=0, flags=0, magic=b"NNRP",
           version=1, wire_format=0, header_len=40):
    return HDR.pack(magic, version, wire_format, msg_type, header_len, flags,
                    meta_len, body_len, session_id, frame_id, view_id,
                    route_id, trace_id)


def patch_header(pkt, **kw):
    """pkt with header fields replaced (names of header())."""
    f = list(HDR.unpack_from(pkt, 0))
    names = ["magic", "version", "wire_format", "msg_type", "header_len",
             "flags", "meta_len", "body_len", "session_id", "frame_id",
             "view_id", "route_id", "trace_id"]
    for k, v in kw.items():
        f[names.index(k)] = v
    return HDR.pack(*f) + pkt[40:]


def hello(route_id=0, trace_id=0):
    """packet.client_hello.defaults_prefer_quic_auth (PREFER_QUIC is accepted
    over TCP; FORCE_x would not be), ids of our choice in the header."""
    return patch_header(VEC["packet.client_hello.defaults_prefer_quic_auth"],
                        route_id=route_id, trace_id=trace_id)


def submit(session_id, frame_id, route_id=0, trace_id=0):
    """packet.frame_submit.legacy_inline_tensor (two 2-byte tiles) with our
    ids, lane 0 (the hello asks for one lane) and latency_budget_ms 0
    (unlimited: no budget RESULT_DROP under load or ASan)."""
    p = bytearray(patch_header(VEC["packet.frame_submit.legacy_inline_tensor"],
                               session_id=session_id, frame_id=frame_id,
                               view_id=0, route_id=route_id,
                               trace_id=trace_id))
    struct.pack_into("<H", p, 40 + 16, 0)  # metadata latency_budget_ms
    return bytes(p)


def ping(session_id=0, trace_id=0, route_id=0):
    return header(PING, session_id=session_id, route_id=route_id,
                  trace_id=trace_id)


# ------------------------------------------------------------------- server

def die_with_parent():
    """In the child before exec: SIGKILL it when this script dies (CTest
    kills the script on timeout; the server must not outlive it). Linux
    prctl(PR_SET_PDEATHSIG); elsewhere nothing."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass


class Server:
    """`nnrp serve --port 0 ...` as a child process, stopped by PID."""

    def __init__(self, nnrp, extra=()):
        self.nnrp = nnrp
        self.out = tempfile.TemporaryFile()
        self.err = tempfile.TemporaryFile()
        self.argv = [nnrp, "serve", "--port", "0", "--max-concurrent", "8"]
        self.argv += list(extra)
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=self.err,
                                     preexec_fn=die_with_parent)
        self.port = None
        deadline = time.monotonic() + SERVER_START
        while time.monotonic() < deadline:
            m = re.search(r"listening on (\S+?):(\d+)", self.stdout())
            if m:
                self.host, self.port = m.group(1), int(m.group(2))
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        if self.port is None:
            self.kill()
            raise TestFailure("%s did not print 'listening on HOST:PORT' "
                              "within %.0f s (exit %s)\nstdout: %s\nstderr: "
                              "%s" % (" ".join(self.argv), SERVER_START,
                                      self.proc.returncode, self.stdout(),
                                      self.stderr()))
        if self.host in ("0.0.0.0", "::", "*"):
            self.host = "127.0.0.1"

    def _read(self, f):
        f.flush()
        f.seek(0)
        return f.read().decode("utf-8", "replace")

    def stdout(self):
        return self._read(self.out)

    def stderr(self):
        return self._read(self.err)

    def alive(self):
        return self.proc.poll() is None

    def require_alive(self, what):
        if not self.alive():
            raise TestFailure("server died (exit %s) %s\nstderr:\n%s" % (
                self.proc.returncode, what, self.stderr()[-4000:]))

    def fd_count(self):
        """Open descriptors of the server (Linux /proc), or None."""
        try:
            return len(os.listdir("/proc/%d/fd" % self.proc.pid))
        except OSError:
            return None

    def wait_fds(self, limit, timeout=5.0):
        """Waits until the server holds at most `limit` descriptors;
        returns the last count (None without /proc)."""
        deadline = time.monotonic() + timeout
        n = self.fd_count()
        while n is not None and n > limit and time.monotonic() < deadline:
            time.sleep(0.05)
            n = self.fd_count()
        return n

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass

    def stop(self):
        """SIGTERM; requires exit status 0 and no sanitizer report."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=SERVER_STOP)
            except subprocess.TimeoutExpired:
                self.kill()
                raise TestFailure("server did not exit within %.0f s of "
                                  "SIGTERM (killed)" % SERVER_STOP)
        rc = self.proc.returncode
        err = self.stderr()
        marks = [m for m in SANITIZER_MARKS if m in err]
        check(rc == 0 and not marks,
              "server exit status %s after SIGTERM (want 0)%s\nstderr:\n%s" %
              (rc, ", sanitizer report: " + ", ".join(marks) if marks else "",
               err[-6000:]))
        return err


# -------------------------------------------------------------------- peers

class Packet:
    def __init__(self, raw_hdr, meta, body):
        (self.magic, self.version, self.wire_format, self.msg_type,
         self.header_len, self.flags, self.meta_len, self.body_len,
         self.session_id, self.frame_id, self.view_id, self.route_id,
         self.trace_id) = HDR.unpack(raw_hdr)
        self.meta = meta
        self.body = body

    def __repr__(self):
        s = "type=0x%02x sid=%u fid=%u route=%u trace=%u flags=0x%x" % (
            self.msg_type, self.session_id, self.frame_id, self.route_id,
            self.trace_id, self.flags)
        if self.msg_type == ERROR and len(self.meta) >= 12:
            s += " " + fmt_err(*self.error()) + " %r" % self.body[:120]
        return "<" + s + ">"

    def error(self):
        return u32(self.meta, 0), u32(self.meta, 4), u32(self.meta, 8)


class PeerClosed(Exception):
    pass


class Peer:
    """One raw TCP connection to the server."""

    def __init__(self, server, name):
        self.name = name
        self.server = server
        self.sock = socket.create_connection((server.host, server.port),
                                             timeout=IO_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rx = b""
        self.sid = 0
        self.ack = None
        self.next_frame = 1

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        self.sock.settimeout(IO_TIMEOUT * 4)
        self.sock.sendall(data)

    def _fill(self, deadline):
        """Reads more bytes; returns False on EOF."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise TestFailure("%s: timed out waiting for the server" %
                              self.name)
        self.sock.settimeout(left)
        try:
            b = self.sock.recv(65536)
        except socket.timeout:
            raise TestFailure("%s: timed out waiting for the server" %
                              self.name) from None
        if not b:
            return False
        self.rx += b
        return True

    def read_packet(self, timeout=IO_TIMEOUT):
        """The next packet; None on EOF at a packet boundary. A reset is
        reported as PeerClosed('reset')."""
        deadline = time.monotonic() + timeout
        try:
            while len(self.rx) < 40:
                if not self._fill(deadline):
                    if self.rx:
                        raise TestFailure("%s: EOF inside a header from the "
                                          "server (%s)" % (self.name,
                                                           self.rx.hex()))
                    return None
            h = Packet(self.rx[:40], b"", b"")
            check(h.magic == b"NNRP" and h.header_len == 40,
                  "%s: server sent a bad header %s" % (self.name,
                                                       self.rx[:40].hex()))
            need = 40 + h.meta_len + h.body_len
            while len(self.rx) < need:
                if not self._fill(deadline):
                    raise TestFailure("%s: EOF inside a server packet" %
                                      self.name)
        except ConnectionResetError:
            raise PeerClosed("reset") from None
        raw, self.rx = self.rx[:need], self.rx[need:]
        return Packet(raw[:40], raw[40:40 + h.meta_len], raw[40 + h.meta_len:])

    def read_control(self, timeout=IO_TIMEOUT):
        """Next packet other than flow-control chatter (FLOW_UPDATE,
        RESULT_HINT) and keep-alive PINGs (answered)."""
        while True:
            p = self.read_packet(timeout)
            if p is None or p.msg_type not in (FLOW_UPDATE, RESULT_HINT, PING):
                return p
            if p.msg_type == PING:
                self.send(header(PONG, session_id=p.session_id,
                                 route_id=p.route_id, trace_id=p.trace_id))

    def handshake(self, trace_id=0x1111):
        self.send(hello(route_id=0x77, trace_id=trace_id))
        p = self.read_control()
        check(p is not None, "%s: server closed instead of SERVER_HELLO_ACK"
              % self.name)
        check(p.msg_type == SERVER_HELLO_ACK,
              "%s: expected SERVER_HELLO_ACK, got %r" % (self.name, p))
        check(len(p.meta) == 80, "%s: ack meta_len %d" % (self.name,
                                                          len(p.meta)))
        sid = u32(p.meta, 4)
        check(sid != 0 and p.session_id == sid,
              "%s: ack session ids header %u metadata %u" %
              (self.name, p.session_id, sid))
        check(p.meta[2] == 0, "%s: auth_status %d" % (self.name, p.meta[2]))
        check(p.route_id == 0x77 and p.trace_id == trace_id,
              "%s: ack does not echo route/trace: %r" % (self.name, p))
        self.sid = sid
        self.ack = p
        return p

    def max_body_bytes(self):
        return u32(self.ack.meta, 60)

    def max_concurrent_frames(self):
        return u16(self.ack.meta, 50)

    def expect_error(self, code, scope, fatal, related_frame=None,
                     echo=None, timeout=IO_TIMEOUT):
        """The next packet must be ERROR code/scope/fatal (wire.md §4.6)."""
        want = fmt_err(CODE[code], SCOPE[scope], fatal)
        try:
            p = self.read_control(timeout)
        except PeerClosed:
            raise TestFailure("%s: connection reset, expected ERROR %s" %
                              (self.name, want)) from None
        check(p is not None, "%s: server closed without ERROR, expected %s"
              % (self.name, want))
        check(p.msg_type == ERROR, "%s: expected ERROR %s, got %r" %
              (self.name, want, p))
        check(len(p.meta) == 32 and u32(p.meta, 28) == len(p.body),
              "%s: malformed ERROR %r" % (self.name, p))
        got = fmt_err(*p.error())
        check(got == want, "%s: ERROR %s, want %s (diagnostic %r)" %
              (self.name, got, want, p.body[:200]))
        # Header ids = related ids (wire.md §4.6).
        check(p.session_id == u32(p.meta, 16) and
              p.frame_id == u32(p.meta, 20),
              "%s: ERROR header ids differ from related_*: %r" % (self.name,
                                                                  p))
        if related_frame is not None:
            check(u32(p.meta, 20) == related_frame,
                  "%s: related_frame_id %u, want %u" %
                  (self.name, u32(p.meta, 20), related_frame))
        if echo is not None:
            check((p.route_id, p.trace_id) == echo,
                  "%s: ERROR route/trace %u/%u, want the offending packet's "
                  "%u/%u" % (self.name, p.route_id, p.trace_id, *echo))
        return p

    def expect_eof(self, timeout=IO_TIMEOUT, what="close"):
        """Nothing more from the server, then FIN (a reset fails)."""
        try:
            p = self.read_packet(timeout)
        except PeerClosed:
            raise TestFailure("%s: connection reset (RST) instead of a "
                              "clean close after %s" % (self.name,
                                                        what)) from None
        check(p is None, "%s: expected the server to close after %s, got %r"
              % (self.name, what, p))

    def expect_result(self, frame_id, trace_id=None, timeout=IO_TIMEOUT):
        """The frame's terminal packet (final RESULT_PUSH or RESULT_DROP)."""
        while True:
            p = self.read_control(timeout)
            check(p is not None, "%s: server closed while frame %u was in "
                  "flight" % (self.name, frame_id))
            check(p.msg_type in (RESULT_PUSH, RESULT_DROP),
                  "%s: expected the result of frame %u, got %r" %
                  (self.name, frame_id, p))
            check(p.frame_id == frame_id and p.session_id == self.sid,
                  "%s: result for frame %u session %u, want %u/%u" %
                  (self.name, p.frame_id, p.session_id, frame_id, self.sid))
            if trace_id is not None:
                check(p.trace_id == trace_id, "%s: result trace %u, want %u"
                      % (self.name, p.trace_id, trace_id))
            if p.msg_type == RESULT_DROP or p.flags & FLAG_EOS:
                return p

    def roundtrip(self, frame_id=None):
        """One valid submit answered, then PING -> PONG."""
        if frame_id is None:
            frame_id = self.next_frame
        self.next_frame = frame_id + 1
        tr = 0xABC000 + frame_id
        self.send(submit(self.sid, frame_id, route_id=3, trace_id=tr))
        r = self.expect_result(frame_id, trace_id=tr)
        check(r.msg_type == RESULT_PUSH, "%s: frame %u dropped: %r" %
              (self.name, frame_id, r))
        self.expect_pong(0x5151 + frame_id)
        return r

    def expect_pong(self, trace_id):
        self.send(ping(self.sid, trace_id=trace_id, route_id=9))
        p = self.read_control()
        check(p is not None and p.msg_type == PONG and
              p.trace_id == trace_id and p.session_id == self.sid and
              p.route_id == 9,
              "%s: expected PONG echoing sid %u trace %u, got %r" %
              (self.name, self.sid, trace_id, p))


# ------------------------------------------------------------ test runner

class Runner:
    """Runs the cases in order; a case that raises fails (and is reported)
    without stopping the others. Once BUDGET seconds are used up, the
    remaining cases fail without running (except those marked always, such
    as stopping the server), so the script ends before CTest's timeout."""

    BUDGET = 45.0

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.deadline = time.monotonic() + self.BUDGET

    def run(self, name, fn, *args, always=False):
        t0 = time.monotonic()
        if not always and t0 > self.deadline:
            self.failed += 1
            print("FAIL %-34s not run: the %.0f s budget is used up" %
                  (name, self.BUDGET), flush=True)
            return False
        try:
            note = fn(*args)
        except Exception as e:  # every failure is reported, never fatal
            self.failed += 1
            kind = "" if isinstance(e, TestFailure) else \
                type(e).__name__ + ": "
            print("FAIL %-34s %6.2fs  %s%s" % (name, time.monotonic() - t0,
                                               kind, e), flush=True)
            return False
        self.passed += 1
        print("ok   %-34s %6.2fs%s" % (name, time.monotonic() - t0,
                                       "  " + note if note else ""),
              flush=True)
        return True

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        return 0 if self.failed == 0 else 1


def raise_nofile(want):
    """Raises RLIMIT_NOFILE (inherited by the children) to `want` if
    possible; returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return soft
    new = want if hard == resource.RLIM_INFINITY else min(want, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    except (ValueError, OSError):
        return soft
    return new


def run_cli(nnrp, args, timeout):
    t0 = time.monotonic()
    try:
        cp = subprocess.run([nnrp] + args, stdin=subprocess.DEVNULL,
                            capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise TestFailure("`nnrp %s` did not finish within %d s\nstdout: %s"
                          "\nstderr: %s" % (" ".join(args), timeout,
                                            (e.stdout or b"")[-2000:],
                                            (e.stderr or b"")[-2000:]))
    out = cp.stdout.decode("utf-8", "replace")
    err = cp.stderr.decode("utf-8", "replace")
    marks = [m for m in SANITIZER_MARKS if m in err]
    check(cp.returncode == 0 and not marks,
          "`nnrp %s` exit %d%s\nstdout: %s\nstderr: %s" %
          (" ".join(args), cp.returncode,
           " (sanitizer report)" if marks else "", out[-2000:], err[-3000:]))
    return out, time.monotonic() - t0


# --------------------------------------------------------------- load test

N_SESSIONS = 200
WINDOW = 8


def load_bench(nnrp, srv):
    frames = N_SESSIONS * WINDOW * 2
    out, dt = run_cli(nnrp, ["bench", "--host", srv.host, "--port",
                             str(srv.port), "--sessions", str(N_SESSIONS),
                             "--window", str(WINDOW), "--frames",
                             str(frames), "--json"], timeout=40)
    lines = [ln for ln in out.splitlines() if ln.strip()]
    check(lines, "`nnrp bench` printed nothing")
    try:
        j = json.loads(lines[-1])
    except ValueError:
        raise TestFailure("`nnrp bench --json` last line is not JSON: %r" %
                          lines[-1]) from None
    for k in ("sent", "completed", "dropped", "errors", "p50_us", "p99_us",
              "p999_us", "frames_per_s", "bytes_per_s"):
        check(k in j, "bench JSON lacks %r: %s" % (k, lines[-1]))
    check(j["sent"] == frames and j["completed"] == frames and
          j["dropped"] == 0 and j["errors"] == 0,
          "bench: sent %s completed %s dropped %s errors %s (want %d, %d, 0, "
          "0)" % (j["sent"], j["completed"], j["dropped"], j["errors"],
                  frames, frames))
    srv.require_alive("during the bench")
    return "%d frames in %.2f s, p50 %s us, p99 %s us, %.0f frames/s" % (
        frames, dt, j["p50_us"], j["p99_us"], float(j["frames_per_s"]))


def load_raw(srv, out):
    """200 raw connections, handshakes in parallel, then 8 submits each
    written back to back (8 in flight per connection, 1600 at once); every
    frame must get exactly one terminal packet echoing its ids. The session
    ids granted go to out["sids"]."""
    sel = selectors.DefaultSelector()
    conns = []
    t0 = time.monotonic()
    try:
        for i in range(N_SESSIONS):
            s = socket.create_connection((srv.host, srv.port),
                                         timeout=IO_TIMEOUT)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            c = {"i": i, "sock": s, "rx": b"", "sid": 0, "term": {},
                 "pushes": 0, "closed": False}
            conns.append(c)
            s.sendall(hello(route_id=i, trace_id=1000 + i))
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, c)
        deadline = time.monotonic() + 30
        pending_ack = N_SESSIONS
        open_frames = 0
        while (pending_ack or open_frames) and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.5):
                c = key.data
                try:
                    b = c["sock"].recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except ConnectionResetError:
                    b = b""
                if not b:
                    sel.unregister(c["sock"])
                    c["closed"] = True
                    raise TestFailure("connection %d: server closed it (sid "
                                      "%u, %d frames answered)" %
                                      (c["i"], c["sid"], len(c["term"])))
                c["rx"] += b
                while len(c["rx"]) >= 40:
                    h = Packet(c["rx"][:40], b"", b"")
                    need = 40 + h.meta_len + h.body_len
                    if len(c["rx"]) < need:
                        break
                    raw, c["rx"] = c["rx"][:need], c["rx"][need:]
                    p = Packet(raw[:40], raw[40:40 + h.meta_len],
                               raw[40 + h.meta_len:])
                    if p.msg_type == SERVER_HELLO_ACK:
                        check(c["sid"] == 0, "connection %d: second ack" %
                              c["i"])
                        c["sid"] = p.session_id
                        check(c["sid"] != 0 and p.trace_id == 1000 + c["i"],
                              "connection %d: bad ack %r" % (c["i"], p))
                        pending_ack -= 1
                        batch = b"".join(
                            submit(c["sid"], f, route_id=c["i"],
                                   trace_id=(c["i"] << 16) | f)
                            for f in range(1, WINDOW + 1))
                        c["sock"].setblocking(True)
                        c["sock"].sendall(batch)
                        c["sock"].setblocking(False)
                        open_frames += WINDOW
                    elif p.msg_type in (RESULT_PUSH, RESULT_DROP):
                        check(p.session_id == c["sid"] and
                              p.route_id == c["i"] and
                              p.trace_id == (c["i"] << 16) | p.frame_id and
                              1 <= p.frame_id <= WINDOW,
                              "connection %d: result with wrong ids %r" %
                              (c["i"], p))
                        final = p.msg_type == RESULT_DROP or \
                            p.flags & FLAG_EOS
                        if not final:
                            c["pushes"] += 1
                            continue
                        check(p.frame_id not in c["term"],
                              "connection %d: frame %u answered twice (%r)" %
                              (c["i"], p.frame_id, p))
                        c["term"][p.frame_id] = p.msg_type
                        open_frames -= 1
                    elif p.msg_type in (FLOW_UPDATE, RESULT_HINT, PING):
                        continue
                    else:
                        raise TestFailure("connection %d: unexpected %r" %
                                          (c["i"], p))
        srv.require_alive("during the raw load")
        check(pending_ack == 0, "%d handshakes not answered within 30 s" %
              pending_ack)
        check(open_frames == 0, "%d frames not answered within 30 s" %
              open_frames)
        out["sids"] = [c["sid"] for c in conns]
        drops = sum(1 for c in conns for t in c["term"].values()
                    if t == RESULT_DROP)
        check(drops == 0, "%d frames dropped" % drops)
        # Nothing more may arrive for any frame (exactly once).
        time.sleep(0.2)
        for key, _ in sel.select(timeout=0):
            c = key.data
            try:
                b = c["sock"].recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            c["rx"] += b
        for c in conns:
            while len(c["rx"]) >= 40:
                h = Packet(c["rx"][:40], b"", b"")
                check(h.msg_type in (FLOW_UPDATE, RESULT_HINT, PING),
                      "connection %d: extra packet after all results: %r" %
                      (c["i"], h))
                c["rx"] = c["rx"][40 + h.meta_len + h.body_len:]
    finally:
        sel.close()
        for c in conns:
            c["sock"].close()
    return "%d sessions x %d frames, exactly once, in %.2f s" % (
        N_SESSIONS, WINDOW, time.monotonic() - t0)


def sids_distinct(sids):
    """All 200 hellos request session id 1 while the others are live: one
    gets it, every other one a fresh id not in use (session.md §3.4)."""
    dup = len(sids) - len(set(sids))
    check(dup == 0, "%d of %d concurrent sessions got an id already in use "
          "(%d distinct ids; every hello requested id 1; session.md §3.4)" %
          (dup, len(sids), len(set(sids))))
    check(sids.count(1) == 1, "requested id 1 granted %d times" %
          sids.count(1))


def main_load(nnrp, r):
    need = 2 * N_SESSIONS + 64
    lim = raise_nofile(need)
    if lim < need:
        print("SKIP load: RLIMIT_NOFILE is %d and cannot be raised to %d "
              "(200 connections on both ends need it)" % (lim, need))
        return 0
    srv = Server(nnrp)
    base = srv.fd_count()
    try:
        r.run("load.bench_200x8", load_bench, nnrp, srv)
        raw = {}
        if r.run("load.raw_200x8_exactly_once", load_raw, srv, raw):
            r.run("load.session_ids_distinct", sids_distinct, raw["sids"])
        r.run("load.no_descriptor_left", check_fds, srv, base)
    finally:
        r.run("load.sigterm_exit0_no_leak", stop_server, srv, always=True)
    return 0


def check_fds(srv, base):
    if base is None:
        return "skipped: no /proc"
    n = srv.wait_fds(base)
    check(n <= base, "server holds %d descriptors after every peer closed, "
          "%d before the first connection" % (n, base))
    return "%d descriptors, as before the first connection" % n


def stop_server(srv):
    srv.stop()
    return "exit 0, no sanitizer report"


# ---------------------------------------------------------- peer tests

class Ctx:
    def __init__(self, nnrp, srv):
        self.nnrp = nnrp
        self.srv = srv
        self.bystander = None


def p_garbage(ctx):
    """40 bytes that are no header, first packet -> MALFORMED_HEADER,
    CONNECTION, fatal, then close (D18)."""
    p = Peer(ctx.srv, "garbage")
    try:
        p.send(bytes(range(0xC0, 0xE8)))
        p.expect_error("MALFORMED_HEADER", "CONNECTION", 1)
        p.expect_eof(what="the fatal ERROR")
    finally:
        p.close()


def p_garbage_after_handshake(ctx):
    """Bad magic inside an ACTIVE session: the same (D18)."""
    p = Peer(ctx.srv, "garbage-active")
    try:
        p.handshake()
        p.send(b"GARBAGE!" * 5)
        p.expect_error("MALFORMED_HEADER", "CONNECTION", 1)
        p.expect_eof(what="the fatal ERROR")
    finally:
        p.close()


def p_truncated_header_first(ctx):
    """20 header bytes, then FIN: EOF inside a packet -> close, no ERROR
    (session.md §2.1 rule 5)."""
    p = Peer(ctx.srv, "truncated-header")
    try:
        p.send(ping()[:20])
        p.sock.shutdown(socket.SHUT_WR)
        p.expect_eof(what="EOF inside a header")
    finally:
        p.close()


def p_truncated_header_active(ctx):
    p = Peer(ctx.srv, "truncated-header-active")
    try:
        p.handshake()
        p.send(ping(p.sid)[:39])
        p.sock.shutdown(socket.SHUT_WR)
        p.expect_eof(what="EOF inside a header")
    finally:
        p.close()


def p_oversize_body_len(ctx):
    """body_len 64 MiB on a FRAME_SUBMIT: 40 + 72 + 64 MiB > max_packet_bytes
    -> LIMIT_EXCEEDED, CONNECTION, fatal, without waiting for the body
    (D19): only the 40 header bytes are ever sent."""
    p = Peer(ctx.srv, "oversize")
    try:
        p.handshake()
        p.send(header(FRAME_SUBMIT, 72, MAX_PACKET, session_id=p.sid,
                      frame_id=1, route_id=5, trace_id=0x0515E))
        p.expect_error("LIMIT_EXCEEDED", "CONNECTION", 1)
        p.expect_eof(what="the fatal ERROR")
    finally:
        p.close()


def p_oversize_overflow(ctx):
    """meta_len + body_len overflowing 32 bits, as the first packet."""
    p = Peer(ctx.srv, "oversize-overflow")
    try:
        p.send(header(FRAME_SUBMIT, 0xFFFFFFFF, 0xFFFFFFF0))
        p.expect_error("LIMIT_EXCEEDED", "CONNECTION", 1)
        p.expect_eof(what="the fatal ERROR")
    finally:
        p.close()


def p_body_over_max_body(ctx):
    """body_len over the advertised max_body_bytes but under the 64 MiB cap:
    LIMIT_EXCEEDED, SESSION, not fatal; the packet is read and discarded and
    the session goes on. The discarded submit never reached step 14, so its
    frame id is still free (wire.md §15)."""
    p = Peer(ctx.srv, "body-over-max")
    try:
        p.handshake()
        mb = p.max_body_bytes()
        body = mb + 8
        if 40 + 72 + body > MAX_PACKET:
            return "skipped: max_body_bytes %u leaves no room under the cap" \
                % mb
        p.send(header(FRAME_SUBMIT, 72, body, session_id=p.sid, frame_id=1,
                      route_id=6, trace_id=0xB0D1))
        chunk = bytes(1 << 20)
        left = 72 + body
        while left:
            n = min(left, len(chunk))
            p.send(chunk[:n])
            left -= n
        p.expect_error("LIMIT_EXCEEDED", "SESSION", 0, echo=(6, 0xB0D1))
        p.roundtrip(frame_id=1)
        return "max_body_bytes %u, body_len %u discarded" % (mb, body)
    finally:
        p.close()


def p_unknown_msg_type(ctx):
    """msg_type 0x07 (a later revision) and 0xFF in an ACTIVE session ->
    MALFORMED_HEADER, CONNECTION, fatal, close."""
    for mt in (0x07, 0xFF):
        p = Peer(ctx.srv, "unknown-type-0x%02x" % mt)
        try:
            p.handshake()
            p.send(header(mt, session_id=p.sid))
            p.expect_error("MALFORMED_HEADER", "CONNECTION", 1)
            p.expect_eof(what="the fatal ERROR")
        finally:
            p.close()


def p_wrong_session_id(ctx):
    """FRAME_SUBMIT with a foreign session id -> INVALID_STATE, SESSION, not
    fatal (session.md §4.4); the connection stays usable, and the frame id
    was not consumed (step 12 precedes step 14)."""
    p = Peer(ctx.srv, "wrong-session")
    try:
        p.handshake()
        bad = (p.sid + 1) & 0xFFFFFFFF or 1
        p.send(submit(bad, 1, route_id=4, trace_id=0x5E55))
        p.expect_error("INVALID_STATE", "SESSION", 0, echo=(4, 0x5E55))
        p.expect_pong(0x9001)
        p.roundtrip(frame_id=1)
    finally:
        p.close()


def p_duplicate_frame_id(ctx):
    """A frame id already used, a smaller one and 0 -> INVALID_STATE, FRAME,
    not fatal, related_frame_id = the id, no RESULT_DROP (session.md §7.1
    rules 2 and 4); later ids still work."""
    p = Peer(ctx.srv, "duplicate-frame")
    try:
        p.handshake()
        p.roundtrip(frame_id=5)
        for fid in (5, 3, 0):
            p.send(submit(p.sid, fid, route_id=2, trace_id=0xD0 + fid))
            p.expect_error("INVALID_STATE", "FRAME", 0, related_frame=fid,
                           echo=(2, 0xD0 + fid))
        p.roundtrip(frame_id=6)  # also: no RESULT_DROP came for 5/3/0
    finally:
        p.close()


def p_submit_first(ctx):
    """FRAME_SUBMIT as the first packet -> INVALID_STATE, CONNECTION, fatal,
    close (session.md §3.3 step 2)."""
    p = Peer(ctx.srv, "submit-first")
    try:
        p.send(submit(7, 1, route_id=1, trace_id=0xF1))
        p.expect_error("INVALID_STATE", "CONNECTION", 1)
        p.expect_eof(what="the fatal ERROR")
    finally:
        p.close()


def p_second_hello(ctx):
    """CLIENT_HELLO in ACTIVE -> INVALID_STATE, CONNECTION, fatal (§4.2)."""
    p = Peer(ctx.srv, "second-hello")
    try:
        p.handshake()
        p.send(hello(route_id=8, trace_id=0x4E))
        p.expect_error("INVALID_STATE", "CONNECTION", 1)
        p.expect_eof(what="the fatal ERROR")
    finally:
        p.close()


def p_ping_before_hello(ctx):
    """PING before the handshake -> PONG, then the handshake still works
    (session.md §3.3 step 2)."""
    p = Peer(ctx.srv, "ping-first")
    try:
        p.send(ping(0, trace_id=0x1234, route_id=9))
        q = p.read_control()
        check(q is not None and q.msg_type == PONG and q.trace_id == 0x1234,
              "ping-first: expected PONG, got %r" % q)
        p.handshake()
        p.roundtrip()
    finally:
        p.close()


def half_submit(p):
    s = submit(p.sid, 1)
    return s[:40 + 30]  # header + part of the metadata


def p_dies_mid_packet_fin(ctx):
    """Half a FRAME_SUBMIT, then FIN: the server closes without ERROR."""
    p = Peer(ctx.srv, "mid-packet-fin")
    try:
        p.handshake()
        p.send(half_submit(p))
        p.sock.shutdown(socket.SHUT_WR)
        p.expect_eof(what="EOF inside a FRAME_SUBMIT")
    finally:
        p.close()


def p_dies_mid_packet_close(ctx):
    """Half a FRAME_SUBMIT, then close(); and the same with a reset
    (SO_LINGER 0). Nothing to observe on that socket: the bystander check
    and the descriptor count after the run cover the server side."""
    p = Peer(ctx.srv, "mid-packet-close")
    p.handshake()
    p.send(half_submit(p))
    p.close()
    q = Peer(ctx.srv, "mid-packet-reset")
    q.handshake()
    q.send(half_submit(q))
    q.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                      struct.pack("ii", 1, 0))
    q.close()
    # A connection that dies with a frame in flight: the late result must
    # not hurt the server.
    r = Peer(ctx.srv, "dies-in-flight")
    r.handshake()
    r.send(submit(r.sid, 1) + submit(r.sid, 2))
    r.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                      struct.pack("ii", 1, 0))
    r.close()
    time.sleep(0.1)


def p_cli_submit(ctx):
    """`nnrp submit --frames 5 --verify` against the same server still
    succeeds: five COMPLETE results, checked against the server's model."""
    out, dt = run_cli(ctx.nnrp, ["submit", "--host", ctx.srv.host, "--port",
                                 str(ctx.srv.port), "--frames", "5",
                                 "--verify"], timeout=20)
    done = [ln for ln in out.splitlines()
            if re.match(r"frame \d+: COMPLETE\b", ln)]
    check(len(done) == 5, "`nnrp submit` printed %d COMPLETE frame lines, "
          "want 5:\n%s" % (len(done), out[-2000:]))
    return "%.2f s" % dt


def p_cli_ping(ctx):
    """`nnrp ping` against the same server: every PONG comes back."""
    out, dt = run_cli(ctx.nnrp, ["ping", "--host", ctx.srv.host, "--port",
                                 str(ctx.srv.port), "--count", "2",
                                 "--interval-ms", "10"], timeout=20)
    check("2 received" in out, "`nnrp ping` summary lacks '2 received':\n"
          "%s" % out[-1000:])
    return "%.2f s" % dt


PEER_CASES = [
    ("peers.garbage_first_packet", p_garbage),
    ("peers.garbage_after_handshake", p_garbage_after_handshake),
    ("peers.truncated_header_then_fin", p_truncated_header_first),
    ("peers.truncated_header_active", p_truncated_header_active),
    ("peers.oversize_body_len", p_oversize_body_len),
    ("peers.oversize_length_overflow", p_oversize_overflow),
    ("peers.body_over_max_body_bytes", p_body_over_max_body),
    ("peers.unknown_msg_type", p_unknown_msg_type),
    ("peers.wrong_session_id", p_wrong_session_id),
    ("peers.duplicate_frame_id", p_duplicate_frame_id),
    ("peers.frame_submit_first", p_submit_first),
    ("peers.second_client_hello", p_second_hello),
    ("peers.ping_before_hello", p_ping_before_hello),
    ("peers.dies_mid_packet_fin", p_dies_mid_packet_fin),
    ("peers.dies_mid_packet_close_reset", p_dies_mid_packet_close),
]


def bystander_ok(ctx, after):
    """The connection opened before the first bad peer is still served."""
    try:
        ctx.bystander.roundtrip()
    except (TestFailure, OSError, PeerClosed) as e:
        ctx.srv.require_alive("after " + after)
        raise TestFailure("bystander connection not served after %s: %s" %
                          (after, e)) from None


def bystander_start(ctx):
    b = ctx.bystander
    b.handshake()
    check(b.max_concurrent_frames() == 8, "ack max_concurrent_frames %u, "
          "want 8 (--max-concurrent 8)" % b.max_concurrent_frames())
    b.roundtrip()
    return "session %u, max_body_bytes %u" % (b.sid, b.max_body_bytes())


def main_peers(nnrp, r):
    srv = Server(nnrp)
    ctx = Ctx(nnrp, srv)
    base = srv.fd_count()
    try:
        ctx.bystander = Peer(srv, "bystander")
        if not r.run("peers.bystander_handshake", bystander_start, ctx):
            return 1
        for name, fn in PEER_CASES:
            r.run(name, fn, ctx)
            if not r.run(name + ".bystander_served", bystander_ok, ctx,
                         name):
                break  # the server stopped serving: the rest would hang
        r.run("peers.cli_submit_after_all", p_cli_submit, ctx)
        r.run("peers.cli_ping_after_all", p_cli_ping, ctx)
        ctx.bystander.close()
        r.run("peers.no_descriptor_left", check_fds, srv, base)
    finally:
        if ctx.bystander:
            ctx.bystander.close()
        r.run("peers.sigterm_exit0_no_leak", stop_server, srv, always=True)
    return 0


def main(argv):
    if len(argv) != 3 or argv[2] not in ("load", "peers"):
        print("usage: %s <nnrp binary> load|peers" % argv[0], file=sys.stderr)
        return 2
    nnrp = argv[1]
    VEC.update(load_vectors())
    r = Runner()
    t0 = time.monotonic()
    try:
        if argv[2] == "load":
            main_load(nnrp, r)
        else:
            main_peers(nnrp, r)
    except TestFailure as e:
        r.failed += 1
        print("FAIL setup: %s" % e, flush=True)
    print("total %.2f s" % (time.monotonic() - t0))
    return r.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
