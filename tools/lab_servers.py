#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's traffic endpoints: HTTP and UDP echo servers that name their host and echo the client
address they saw, and a bounded UDP client. Run inside a lab namespace by tools/lab.py."""

import argparse
import http.server
import os
import socket
import sys
import threading


def clientText(address):
    # A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; the tests compare plain IPv4.
    host = address[0]
    return host[7:] if host.startswith("::ffff:") else host


def portList(specs):
    ports = []
    for spec in specs:
        first, _, last = spec.partition("-")
        ports.extend(range(int(first), int(last or first) + 1))
    return ports


class DualStackHttpServer(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def makeHandler(hostName, port):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = f"{hostName} port={port} client={clientText(self.client_address)}\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


def serveUdp(hostName, port):
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("::", port))

    def loop():
        while True:
            data, peer = sock.recvfrom(2048)
            reply = f"{hostName} port={port} client={clientText(peer)} ".encode() + data
            sock.sendto(reply, peer)

    threading.Thread(target=loop, daemon=True).start()


def serve(args):
    for port in portList(args.http):
        server = DualStackHttpServer(("::", port), makeHandler(args.name, port))
        threading.Thread(target=server.serve_forever, daemon=True).start()
    for port in portList(args.udp):
        serveUdp(args.name, port)
    # The lab waits for this file, so no test races a server that is still binding.
    if args.ready:
        with open(args.ready + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename(args.ready + ".tmp", args.ready)
    threading.Event().wait()


def udpClient(args):
    family = socket.AF_INET6 if ":" in args.address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    if args.source:
        sock.bind((args.source, 0))
    sock.settimeout(args.timeout)
    for _ in range(args.tries):
        sock.sendto(args.payload.encode(), (args.address, args.port))
        try:
            data, _ = sock.recvfrom(2048)
        except (socket.timeout, ConnectionRefusedError):
            continue
        sys.stdout.write(data.decode())
        return 0
    sys.stderr.write(f"no UDP reply from {args.address} port {args.port}\n")
    return 1


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--name", required=True)
    s.add_argument("--http", nargs="*", default=[])
    s.add_argument("--udp", nargs="*", default=[])
    s.add_argument("--ready")
    c = sub.add_parser("udp")
    c.add_argument("address")
    c.add_argument("port", type=int)
    c.add_argument("payload")
    c.add_argument("--source")
    c.add_argument("--timeout", type=float, default=1.0)
    c.add_argument("--tries", type=int, default=2)
    args = parser.parse_args()
    if args.command == "serve":
        serve(args)
        return 0
    return udpClient(args)


if __name__ == "__main__":
    sys.exit(main())
