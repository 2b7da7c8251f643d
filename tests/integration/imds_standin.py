#!/usr/bin/python3
"""A small AWS IMDSv2 stand-in for the tests (stdlib only), on 127.0.0.1.

  imds_standin.py LOGFILE

Prints "port N" once listening on an ephemeral port of 127.0.0.1. Like
IMDS: PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds
(1..21600) gives a token; every GET must carry a current one in
X-aws-ec2-metadata-token, else 401. The values are FIRST below; the
identity document is sent chunked, the rest with Content-Length.
Signals: SIGUSR1 revokes every token given so far (the next GET with one
gets 401); SIGUSR2 switches to the second set of values (SECOND below).
Every request is logged to LOGFILE as "METHOD PATH STATUS [why]".
"""
import http.server
import json
import secrets
import signal
import sys

MAC = "0e:11:22:33:44:55"
FIRST = {
    "account": "123456789012", "instance": "i-0abc1234def567890", "az": "eu-west-1b",
    "az_id": "euw1-az2", "region": "eu-west-1", "vpc": "vpc-0a1b2c3d", "subnet": "subnet-0f1e2d3c",
    "iface": "eni-0123456789abcdef0",
}
SECOND = dict(FIRST, instance="i-0fff000000000002", subnet="subnet-0second")
state = {"values": FIRST, "tokens": set()}
log = open(sys.argv[1], "a", buffering=1)


def answers():
    v = state["values"]
    doc = json.dumps({"accountId": v["account"], "architecture": "x86_64",
                      "availabilityZone": v["az"], "imageId": "ami-0123", "instanceId": v["instance"],
                      "instanceType": "t3.micro", "pendingTime": "2026-12-06T10:00:00Z",
                      "privateIp": "10.0.0.12", "region": v["region"], "version": "2017-09-30",
                      "devpayProductCodes": None, "marketplaceProductCodes": None}, indent=2)
    base = "/latest/meta-data/network/interfaces/macs/" + MAC + "/"
    return {
        "/latest/dynamic/instance-identity/document": doc,
        "/latest/meta-data/instance-id": v["instance"],
        "/latest/meta-data/placement/availability-zone": v["az"],
        "/latest/meta-data/placement/availability-zone-id": v["az_id"],
        "/latest/meta-data/placement/region": v["region"],
        "/latest/meta-data/mac": MAC,
        base + "vpc-id": v["vpc"],
        base + "subnet-id": v["subnet"],
        base + "interface-id": v["iface"],
    }


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", chunked=False, why=""):
        log.write("%s %s %d%s\n" % (self.command, self.path, status, " " + why if why else ""))
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if chunked:
            for i in range(0, len(body), 64):
                part = body[i:i + 64]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(body)

    def do_PUT(self):
        if self.path != "/latest/api/token":
            return self.reply(403, why="not the token path")
        try:
            ttl = int(self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", ""))
        except ValueError:
            ttl = 0
        if not 1 <= ttl <= 21600:
            return self.reply(400, why="bad ttl")
        token = secrets.token_urlsafe(40)
        state["tokens"].add(token)
        self.reply(200, token.encode())

    def do_GET(self):
        token = self.headers.get("X-aws-ec2-metadata-token")
        if token is None:
            return self.reply(401, why="no token")
        if token not in state["tokens"]:
            return self.reply(401, why="wrong token")
        a = answers()
        if self.path not in a:
            return self.reply(404)
        doc = self.path.endswith("/document")
        self.reply(200, a[self.path].encode(), chunked=doc)


def revoke(*_):
    state["tokens"].clear()
    log.write("REVOKED\n")


def second(*_):
    state["values"] = SECOND
    log.write("SECOND\n")


signal.signal(signal.SIGUSR1, revoke)
signal.signal(signal.SIGUSR2, second)
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print("port", server.server_address[1], flush=True)
server.serve_forever()
