#!/usr/bin/env python3
"""A receiver of lgsp-hub webhooks with Python's standard library only.

Run: LGSP_WEBHOOK_SECRET=whsec_… PORT=8088 python3 examples/python/webhook_receiver.py

Verifies each delivery's Standard Webhooks signature (401 when it does not hold or is older than five
minutes, 204 otherwise), drops repeats by webhook-id, checks each dossier's order by lgspstream and
lgspstreamversion, and prints one JSON line per request with the counts so far. Stops on Ctrl-C or
SIGTERM, printing the counts.
"""
import base64
import hashlib
import hmac
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ.get("LGSP_WEBHOOK_SECRET", "")
PORT = int(os.environ.get("PORT", "8088"))
TOLERANCE_SECONDS = 5 * 60

if not SECRET.startswith("whsec_"):
    sys.exit("LGSP_WEBHOOK_SECRET is required (the whsec_... that `lgsp webhooks create` printed)")
# The key is the base64 after whsec_. After `lgsp webhooks rotate-secret`, restart with the new secret:
# while the previous one still signs, the hub sends both signatures, and one matching is enough.
KEY = base64.b64decode(SECRET[len("whsec_"):])

# In memory for the example; a real receiver keeps both in its database, in the transaction that
# applies the event, so a restart neither applies an event twice nor forgets where a dossier was.
handled = set()  # webhook-id of every event applied
versions = {}  # lgspstream -> the last lgspstreamversion applied
counts = {"verified": 0, "refused": 0, "repeats": 0}
lock = threading.Lock()


def verify(headers, body):
    """Returns None when the delivery is the hub's, else why not."""
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not msg_id or not timestamp or not signatures:
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    try:
        sent = int(timestamp)
    except ValueError:
        return "webhook-timestamp is not a number"
    if abs(time.time() - sent) > TOLERANCE_SECONDS:
        return "webhook-timestamp is more than five minutes away"
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body  # the exact bytes received
    expected = "v1," + base64.b64encode(hmac.new(KEY, signed, hashlib.sha256).digest()).decode()
    # One signature per secret in force, separated by spaces; one that matches is enough.
    if any(hmac.compare_digest(given, expected) for given in signatures.split(" ")):
        return None
    return "no signature matches"


def receive(headers, body):
    """Handles one delivery; returns the HTTP status and the line to print."""
    reason = verify(headers, body)
    with lock:
        if reason:
            counts["refused"] += 1
            return 401, dict({"outcome": "refused", "reason": reason}, **counts)
        event = json.loads(body)
        msg_id = headers["webhook-id"]
        line = {
            "webhookId": msg_id,
            "position": event.get("lgspposition"),
            "stream": event.get("lgspstream"),
            "streamVersion": event.get("lgspstreamversion"),
            "type": event.get("type"),
        }
        if event.get("lgspreplay"):
            line["replay"] = event["lgspreplay"]
        if msg_id in handled:
            counts["repeats"] += 1
            return 204, dict({"outcome": "repeat"}, **line, **counts)  # acknowledge, or it comes again
        # A filter on types skips versions, so a gap is normal; going back is not.
        last = versions.get(line["stream"], 0)
        handled.add(msg_id)
        versions[line["stream"]] = max(last, line["streamVersion"])
        counts["verified"] += 1
        outcome = "ok" if line["streamVersion"] > last else "out-of-order"
        return 204, dict({"outcome": outcome}, **line, **counts)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the hub reuses its connections

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)  # verify the raw bytes, never a re-serialised object
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, line = receive(headers, body)
        print(json.dumps(line, ensure_ascii=False), flush=True)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):  # one JSON line per request is enough
        pass


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
server.daemon_threads = True


def stop(signum, frame):
    threading.Thread(target=server.shutdown).start()


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
print("listening on http://127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()
print(json.dumps(dict({"outcome": "stopped"}, **counts)), flush=True)
