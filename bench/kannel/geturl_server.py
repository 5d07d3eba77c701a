#!/usr/bin/env python3
"""geturl_server.py -- the trivial HTTP backend of Kannel's get-url variant in
bench/kannel_bench.py: every GET is answered 200 with the same text (read
once from TEXT_FILE), as text/plain; charset=utf-8 with X-Kannel-Coding: 2
(UCS-2), HTTP/1.1 keep-alive, so Kannel's HTTP client can reuse its
connections. Writes its port to PORT_FILE
once it listens.

Usage: geturl_server.py TEXT_FILE PORT_FILE
"""
import http.server
import os
import sys


def main():
    with open(sys.argv[1], "rb") as f:
        body = f.read()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # http.server writes the headers and the body in two send()s. With
        # Nagle on, the body waits for the ACK of the headers, which the
        # client delays (up to 40 ms on Linux) on a kept-alive connection:
        # every call after the first took 40 ms (curl -w %{time_total}).
        disable_nagle_algorithm = True

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            # Without this header (and accept-x-kannel-headers = true in the
            # sms-service) Kannel sends the reply as 7-bit GSM: every Chinese
            # character becomes "?". With it, smsbox converts the body from
            # the charset of the Content-Type to UCS-2.
            self.send_header("X-Kannel-Coding", "2")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        # Kannel opens many connections at once (smsbox max-pending-requests,
        # default 512): the default listen backlog of 5 loses some of them.
        request_queue_size = 1024

    srv = Server(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, sys.argv[2])
    srv.serve_forever()


if __name__ == "__main__":
    main()
