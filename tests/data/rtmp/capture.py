#!/usr/bin/env python3
"""Recording TCP proxy for the RTMP capture (see capture.sh).

Listens on 127.0.0.1:<listen_port>, forwards one connection to 127.0.0.1:<upstream_port>, and
writes everything the client sent to <out_prefix>.c2s.bin and everything the server sent to
<out_prefix>.s2c.bin. Exits when the connection closes. Prints "ready" once it listens.
"""
import selectors
import socket
import sys


def main() -> int:
    listen_port, upstream_port, out_prefix = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(1)
    print("ready", flush=True)
    client, _ = srv.accept()
    upstream = socket.create_connection(("127.0.0.1", upstream_port))
    c2s = open(out_prefix + ".c2s.bin", "wb")
    s2c = open(out_prefix + ".s2c.bin", "wb")
    sel = selectors.DefaultSelector()
    sel.register(client, selectors.EVENT_READ, (upstream, c2s))
    sel.register(upstream, selectors.EVENT_READ, (client, s2c))
    open_sides = 2
    while open_sides:
        for key, _ in sel.select():
            src = key.fileobj
            dst, log = key.data
            data = src.recv(65536)
            if not data:
                sel.unregister(src)
                open_sides -= 1
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                continue
            log.write(data)
            dst.sendall(data)
    c2s.close()
    s2c.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
