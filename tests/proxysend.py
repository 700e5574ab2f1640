#!/usr/bin/env python3
"""The load balancer's side of tests/68-proxy.bats: PROXY protocol headers
(HAProxy's proxy-protocol.txt, v1 and v2) sent first on a connection, as a
balancer does for the client it names.

As a module (PORT, ROOT and, for TLS, CERT in the environment):
  v1, v2, v2_local    the bytes of a header
  header(spec)        the bytes of a header spec (below)
  Proxied             tests/ftpclient.py's Control, the header sent first
  ProxiedTLS          tests/tlsclient.py's Chat, the header sent first (then,
                      implicit, the TLS handshake)
  data(port, spec)    a data connection to 127.0.0.1:port, its header sent

As a program, a dialogue like tests/ftpchat.py:
  proxysend.py PORT SPEC LINE...
sends the header SPEC (from $FTP_SOURCE when set), prints the greeting (EOF when the server closes
without one), then each LINE as ftpchat.py does (raw:, replies:, sleep:,
close?, or a command line whose reply is printed).

A SPEC is
  v1,SRC,DST[,SPORT,DPORT]   "PROXY TCP4|TCP6 ..." (TCP6 for IPv6 addresses)
  v2,SRC,DST[,SPORT,DPORT]   a v2 PROXY command, TCP over IPv4 or IPv6
  v2tlv,SRC,DST              the same with an ALPN and a NOOP TLV
  v1unknown | v2local        what health checks send
  none                       nothing
  raw:BYTES                  BYTES (Python escapes)
any of them followed by +BYTES: more bytes in the same write (Python
escapes), e.g. "v2,127.0.0.21,127.0.0.1+USER alice\\r\\n"; and prefixed by
pieces:N: the whole written in N pieces, 0.2 s apart, each its own segment.
"""
import ipaddress
import os
import socket
import struct
import sys
import time

import ftpclient
from ftpclient import HOST, PORT, connect, out

V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"
PP2_TYPE_ALPN = 0x01
PP2_TYPE_NOOP = 0x04


def v1(src, dst, sport=40021, dport=21):
    proto = "TCP6" if ":" in src else "TCP4"
    return ("PROXY %s %s %s %d %d\r\n" % (proto, src, dst, sport, dport)).encode()


def v2(src, dst, sport=40021, dport=21, tlvs=b""):
    a, b = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    fam = 0x21 if a.version == 6 else 0x11
    body = a.packed + b.packed + struct.pack("!HH", sport, dport) + tlvs
    return V2_SIG + bytes([0x21, fam]) + struct.pack("!H", len(body)) + body


def tlv(kind, value):
    return bytes([kind]) + struct.pack("!H", len(value)) + value


def v2_local():
    return V2_SIG + bytes([0x20, 0x00, 0x00, 0x00])


def unescape(s):
    return s.encode("latin-1").decode("unicode_escape").encode("latin-1")


def header(spec):
    """The bytes of a SPEC and how many pieces to send them in."""
    pieces = 1
    if spec.startswith("pieces:"):
        n, spec = spec[7:].split(":", 1)
        pieces = int(n)
    more = b""
    if spec.startswith("raw:"):
        return unescape(spec[4:]), pieces
    if "+" in spec:
        spec, rest = spec.split("+", 1)
        more = unescape(rest)
    f = spec.split(",")
    ports = [int(p) for p in f[3:5]]
    if f[0] == "v1":
        h = v1(f[1], f[2], *ports)
    elif f[0] == "v2":
        h = v2(f[1], f[2], *ports)
    elif f[0] == "v2tlv":
        h = v2(f[1], f[2], *ports, tlvs=tlv(PP2_TYPE_ALPN, b"ftp") +
               tlv(PP2_TYPE_NOOP, b"\0" * 5))
    elif f[0] == "v1unknown":
        h = b"PROXY UNKNOWN\r\n"
    elif f[0] == "v2local":
        h = v2_local()
    elif f[0] == "none":
        h = b""
    else:
        raise SystemExit("unknown header spec " + spec)
    return h + more, pieces


def send_header(s, spec):
    data, pieces = header(spec)
    if not data:
        return
    if pieces > 1:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    step = -(-len(data) // pieces)
    for i in range(0, len(data), step):
        if i:
            time.sleep(0.2)
        s.sendall(data[i:i + step])


class Proxied(ftpclient.Control):
    """A control connection that begins with the header of spec."""

    def __init__(self, spec, port=None, src=None, show=True):
        self.spec = spec
        super().__init__(port, src=src, show=show)

    def opened(self):
        send_header(self.s, self.spec)
        super().opened()

    def data(self, src=None, spec=None):
        """EPSV and a data connection to its port from src, the header
        of spec (none by default) first."""
        port = self.epsv_port()
        d = connect(port, src)
        if spec:
            send_header(d, spec)
        return d


def data(port, spec, src=None):
    d = connect(port, src)
    send_header(d, spec)
    return d


def ProxiedTLS(spec, implicit=False, port=None, show=True):
    import tlsclient

    class _ProxiedTLS(tlsclient.Chat):
        def opened(self):
            send_header(self.s, spec)
            super().opened()

    return _ProxiedTLS(implicit=implicit, port=port, show=show)


def chat(port, spec, args):
    s = connect(port, os.environ.get("FTP_SOURCE"))
    send_header(s, spec)
    c = ftpclient.Control.__new__(ftpclient.Control)
    c.show, c.s = True, s
    c.opened()
    if c.reply() == "EOF":
        return
    for arg in args:
        if arg.startswith("raw:"):
            c.raw(unescape(arg[4:]))
        elif arg.startswith("replies:"):
            for _ in range(int(arg[8:])):
                if c.reply() == "EOF":
                    return
        elif arg.startswith("sleep:"):
            time.sleep(float(arg[6:]))
        elif arg == "close?":
            s.settimeout(10)
            try:
                out("CLOSED" if not c.f.read(1) else "OPEN")
            except socket.timeout:
                out("OPEN")
            except ConnectionResetError:
                out("CLOSED")
        elif c.cmd(arg) == "EOF":
            return


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    try:
        chat(int(sys.argv[1]), sys.argv[2], sys.argv[3:])
    except socket.timeout:
        out("TIMEOUT")
    except (ConnectionResetError, BrokenPipeError):
        out("EOF")
