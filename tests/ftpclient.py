"""The plain-FTP client side shared by the raw tests: the ftpt module of
tests/50-data.bats, the atk module of tests/70-attacks.bats and
tests/tlsclient.py (tests/75-tls.bats) build on it.

PORT and ROOT come from the environment.
  connect, recv_all   a TCP connection to 127.0.0.1, and all it sends
  Control             a raw control connection: cmd/reply (the reply lines
                      printed unless show is false), login, EPSV data
                      connections and data commands over them
"""
import hashlib
import os
import re
import socket
import sys

HOST = "127.0.0.1"
PORT = int(os.environ.get("PORT", "0"))
ROOT = os.environ.get("ROOT", "")
TIMEOUT = 20


def out(*args, **kw):
    print(*args, **kw)
    sys.stdout.flush()


def sha(data):
    return hashlib.sha256(data).hexdigest()


def disk(name):
    with open(os.path.join(ROOT, name), "rb") as f:
        return f.read()


def connect(port, src=None, host=HOST, timeout=TIMEOUT):
    s = socket.socket()
    s.settimeout(timeout)
    if src is not None:
        s.bind((src, 0))
    s.connect((host, port))
    return s


def recv_all(s, ends=()):
    """Everything until the peer's end; an exception in ends (a tuple of
    types) ends it too, any other goes to the caller."""
    chunks = []
    try:
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            chunks.append(b)
    except ends:
        pass
    return b"".join(chunks)


class Control:
    """A raw control connection from src (an address) to port (PORT by
    default); the greeting is read at once. Every reply is printed as it
    comes while show is true."""

    # exceptions that read as the end of the connection before a reply
    lost = ()
    # printed before the reply when a login is refused
    login_failed = "LOGIN FAILED: "

    def __init__(self, port=None, src=None, show=True):
        self.show = show
        self.s = connect(port or PORT, src)
        self.opened()
        self.greeting = self.reply()

    def opened(self):
        """Once connected, before the greeting: how lines will be read."""
        self.f = self.s.makefile("rb")

    def line(self):
        """The next line (bytes, its end may be left on), None at the end."""
        return self.f.readline() or None

    def eof(self):
        """What reply() does at the end of the connection."""
        if self.show:
            out("EOF")
        return "EOF"

    def reply(self):
        """One reply, all its lines, joined by newlines ("EOF" at the end)."""
        try:
            first = self.line()
        except self.lost:
            first = None
        if first is None:
            return self.eof()
        lines = [first.decode("utf-8", "replace").rstrip("\r\n")]
        if len(lines[0]) >= 4 and lines[0][3] == "-":
            end = lines[0][:3] + " "
            while True:
                line = self.line()
                if line is None:
                    break
                lines.append(line.decode("utf-8", "replace").rstrip("\r\n"))
                if lines[-1].startswith(end):
                    break
        if self.show:
            for line in lines:
                out(line)
        return "\n".join(lines)

    def send(self, line):
        """One command line, str or bytes; CR LF is added."""
        if isinstance(line, str):
            line = line.encode("utf-8", "surrogateescape")
        self.s.sendall(line + b"\r\n")

    def cmd(self, line):
        self.send(line)
        return self.reply()

    def quiet(self, line):
        """cmd, its reply not printed."""
        show, self.show = self.show, False
        try:
            return self.cmd(line)
        finally:
            self.show = show

    def login(self, user="alice", password="pw"):
        """USER and PASS, not printed; anything but 230 ends the script."""
        self.quiet("USER " + user)
        r = self.quiet("PASS " + password)
        if not r.startswith("230"):
            out(self.login_failed + r)
            raise SystemExit(1)

    def epsv_reply(self, show=False):
        """EPSV (printed only with show): its reply and its port, None if
        the reply names none."""
        r = self.cmd("EPSV") if show else self.quiet("EPSV")
        m = re.search(r"\(\|\|\|(\d+)\|\)", r)
        return r, (int(m.group(1)) if m else None)

    def epsv_port(self):
        """EPSV (not printed): its port; none ends the script."""
        r, port = self.epsv_reply()
        if port is None:
            out("NO EPSV: " + r)
            raise SystemExit(1)
        return port

    def data(self, src=None):
        """EPSV (not printed) and a data connection to its port."""
        return connect(self.epsv_port(), src)

    def data_command(self, line, send=None, d=None, **how):
        """line with a data connection, d or a new one (data()): when the
        reply is 1xx, move() sends send on it or receives everything, then
        the final reply is read. Returns (the reply, the final reply, the
        bytes received); the final reply is None when the command was
        refused (d is closed then, unused)."""
        d = d or self.data()
        r = self.cmd(line)
        if not r.startswith("1"):
            d.close()
            return r, None, b""
        data = self.move(d, send, **how)
        return r, self.reply(), data

    def move(self, d, send=None):
        """Sends send on the data connection d, or (send None) receives
        until its end; closes it: the bytes received."""
        data = b""
        if send is not None:
            d.sendall(send)
        else:
            data = recv_all(d)
        d.close()
        return data
