#!/usr/bin/env python3
"""A raw FTP dialogue for the tests: prints the greeting, then sends each
argument as one command line and prints the whole reply to it.

  ftpchat.py PORT LINE...

Special arguments:
  raw:BYTES       send BYTES (Python escapes, e.g. \\xff, \\r\\n), no reply read
  replies:N       read and print N replies
  sleep:SECONDS   wait
  close?          wait up to 10 s for the server to close: prints CLOSED or OPEN
The server is 127.0.0.1, or $FTP_HOST; $FTP_SOURCE sets the client's address.
A reply that does not come within 20 s prints TIMEOUT; a closed connection
prints EOF. Replies are printed without CR LF, one line each.
"""
import os
import socket
import sys
import time


def read_reply(f):
    first = f.readline()
    if not first:
        print("EOF")
        return False
    lines = [first]
    text = first.decode("utf-8", "replace").rstrip("\r\n")
    if len(text) >= 4 and text[3] == "-":
        end = text[:3] + " "
        while True:
            line = f.readline()
            if not line:
                break
            lines.append(line)
            if line.decode("utf-8", "replace").startswith(end):
                break
    for line in lines:
        print(line.decode("utf-8", "replace").rstrip("\r\n"))
    sys.stdout.flush()
    return True


def main():
    port = int(sys.argv[1])
    host = os.environ.get("FTP_HOST", "127.0.0.1")
    source = os.environ.get("FTP_SOURCE")
    s = socket.create_connection((host, port), timeout=20,
                                 source_address=(source, 0) if source else None)
    f = s.makefile("rb")
    try:
        if not read_reply(f):
            return
        for arg in sys.argv[2:]:
            if arg.startswith("raw:"):
                s.sendall(arg[4:].encode("latin-1").decode("unicode_escape").encode("latin-1"))
            elif arg.startswith("replies:"):
                for _ in range(int(arg[8:])):
                    if not read_reply(f):
                        return
            elif arg.startswith("sleep:"):
                time.sleep(float(arg[6:]))
            elif arg == "close?":
                s.settimeout(10)
                try:
                    data = f.read(1)
                    print("CLOSED" if not data else "OPEN")
                except socket.timeout:
                    print("OPEN")
            else:
                s.sendall(arg.encode("utf-8", "surrogateescape") + b"\r\n")
                if not read_reply(f):
                    return
    except socket.timeout:
        print("TIMEOUT")
    except (ConnectionResetError, BrokenPipeError):
        print("EOF")


main()
