#!/usr/bin/env python3
"""The TLS client side of tests/75-tls.bats.

As a module (PORT, ROOT and CERT in the environment):
  Chat            a raw control connection that prints every reply line and
                  can upgrade itself with AUTH TLS (starttls) or start in TLS
                  (implicit); data connections over EPSV, plain or TLS.
                  Its plain FTP parts are tests/ftpclient.py's Control
  ReuseFTP_TLS    ftplib.FTP_TLS whose data connections resume the control
                  connection's TLS session (what RFC 4217 servers that check
                  session reuse need); the stock FTP_TLS does not resume
  final_reply     runs a transfer and returns its last reply, whatever way
                  the client library fails

As a program, a dialogue like tests/ftpchat.py:
  tlsclient.py chat LINE...
each argument is one command line whose reply is printed, except
  starttls        the TLS handshake now (after a 234): prints "TLS <version>"
  raw:BYTES       send BYTES (Python escapes), no reply read
  replies:N       read and print N replies
With IMPLICIT=1 in the environment the connection starts with TLS.
The server's certificate is verified against $CERT (its own CA), for the
name 127.0.0.1.
"""
import ftplib
import os
import socket
import ssl
import sys

import ftpclient
from ftpclient import HOST, PORT, ROOT, TIMEOUT, disk, out, recv_all, sha

CERT = os.environ.get("CERT", "")


def context(maximum=None):
    """A client context that trusts only the test certificate."""
    ctx = ssl.create_default_context(cafile=CERT)
    if maximum is not None:
        ctx.maximum_version = maximum
    return ctx


class Chat(ftpclient.Control):
    """A raw control connection (tests/ftpclient.py) that can turn TLS;
    replies are printed unless show=False. Lines are read through its own
    buffer, as the socket under it changes at the handshake."""

    def __init__(self, implicit=False, ctx=None, show=True, port=None):
        self.implicit = implicit
        self.ctx = ctx or context()
        super().__init__(port, show=show)

    def opened(self):
        self.buf = b""
        if self.implicit:
            self.handshake()

    def handshake(self):
        if self.buf:
            out("PLAINTEXT AFTER THE REPLY: %r" % self.buf)
            self.buf = b""
        self.s = self.ctx.wrap_socket(self.s, server_hostname=HOST)
        if self.show:
            out("TLS " + self.s.version())

    def line(self):
        while b"\n" not in self.buf:
            try:
                b = self.s.recv(4096)
            except (ConnectionResetError, ssl.SSLError):
                b = b""
            if not b:
                rest, self.buf = self.buf, b""
                return rest or None
            self.buf += b
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def raw(self, data):
        self.s.sendall(data)

    def starttls(self):
        r = self.cmd("AUTH TLS")
        if r.startswith("234"):
            self.handshake()
        return r

    def epsv(self):
        """EPSV, not printed, and a data connection to its port."""
        return self.data()

    def transfer(self, line, send=None, tls=False):
        """A data command over EPSV, the data connection plain or (tls)
        resuming this session: (final reply, bytes received).  The replies
        are printed; a failed data handshake is printed as DATA ERROR."""
        r, end, data = self.data_command(line, send, tls=tls)
        return (r if end is None else end), data

    def move(self, d, send=None, tls=False):
        data = b""
        try:
            if tls:
                d = self.ctx.wrap_socket(d, server_hostname=HOST,
                                         session=self.s.session,
                                         suppress_ragged_eofs=False)
            if send is not None:
                d.sendall(send)
                if tls:
                    d = d.unwrap()
            else:
                # a TLS end without close_notify raises here
                data = recv_all(d)
        except (OSError, ssl.SSLError) as e:
            out("DATA ERROR " + type(e).__name__)
        d.close()
        return data


class ReuseFTP_TLS(ftplib.FTP_TLS):
    """FTP_TLS whose PROT P data connections resume a TLS session: the
    control connection's, or data_session when set.  Ragged ends are
    errors, so a download must end with close_notify."""

    data_session = None
    reused = []

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            session = self.data_session or self.sock.session
            conn = self.context.wrap_socket(conn, server_hostname=self.host,
                                            session=session,
                                            suppress_ragged_eofs=False)
            self.reused = self.reused + [conn.session_reused]
        return conn, size


def connect(cls=ReuseFTP_TLS, ctx=None, login=True, prot_p=True,
            user="alice", password="pw"):
    f = cls(context=ctx or context(), timeout=TIMEOUT)
    f.connect(HOST, PORT)
    if login:
        f.login(user, password)     # AUTH TLS first: FTP_TLS.login does it
        if prot_p:
            f.prot_p()
    return f


def final_reply(f, fn):
    """Runs fn (a transfer with f) and returns the transfer's last reply,
    also when the data handshake failed and the library gave up before
    reading it."""
    try:
        return fn()
    except ftplib.Error as e:
        return str(e)
    except (OSError, ssl.SSLError, EOFError):
        pass
    try:
        return f.getresp()
    except ftplib.Error as e:
        return str(e)
    except (OSError, EOFError) as e:
        return "NO REPLY " + type(e).__name__


def chat(args):
    c = Chat(implicit=os.environ.get("IMPLICIT") == "1")
    if c.greeting == "EOF":
        return
    for arg in args:
        if arg == "starttls":
            c.handshake()
        elif arg.startswith("raw:"):
            c.raw(arg[4:].encode("latin-1").decode("unicode_escape").encode("latin-1"))
        elif arg.startswith("replies:"):
            for _ in range(int(arg[8:])):
                if c.reply() == "EOF":
                    return
        elif c.cmd(arg) == "EOF":
            return


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "chat":
        try:
            chat(sys.argv[2:])
        except socket.timeout:
            out("TIMEOUT")
        except ssl.SSLError as e:
            out("TLS ERROR " + (e.reason or type(e).__name__))
    else:
        sys.exit(__doc__)
