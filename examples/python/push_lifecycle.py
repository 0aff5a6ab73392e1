#!/usr/bin/env python3
"""Push one dossier's lifecycle to lgsp-hub with Python's standard library only.

Run: LGSP_URL=http://127.0.0.1:3000 LGSP_TOKEN=lgsp_… python3 examples/python/push_lifecycle.py

What it does, in the order a commune's one-stop shop would:
  1. binary mode: dossier.submitted at expected version 0 (the dossier must be new), then the same
     event again, as a retry after a timeout would (the hub answers 200, duplicate: true);
  2. binary mode: status-changed 2 (received) at expected version 1;
  3. a stale expected version (another desk moved the dossier meanwhile): 409; the client reads the
     stream's version and sends the change again at that version;
  4. batch mode: fee due, payment completed, processing finished, result returned, all or nothing;
  5. a batch with an invalid event: 422, nothing appended; prints the problem's errors.
Prints one line per answer, then a JSON summary line.
Optional: DOSSIER_CODE (default: a new code), LGSP_COMMUNE (21040), LGSP_PROVINCE (51),
LGSP_AGENCY (000.00.51.H56), LGSP_ACCEPT_LANGUAGE (vi: the problems in Vietnamese).
"""
import datetime
import json
import os
import random
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid

URL = os.environ.get("LGSP_URL", "http://127.0.0.1:3000").rstrip("/")
TOKEN = os.environ.get("LGSP_TOKEN")
COMMUNE = os.environ.get("LGSP_COMMUNE", "21040")
PROVINCE = os.environ.get("LGSP_PROVINCE", "51")
AGENCY = os.environ.get("LGSP_AGENCY", "000.00.51.H56")
SOURCE = "/communes/%s/one-stop-shop" % COMMUNE
ICT = datetime.timezone(datetime.timedelta(hours=7))  # Vietnam, UTC+07:00
TYPE = "vn.gov.lgsp.%s.v1"

if not TOKEN:
    sys.exit("LGSP_TOKEN is required (the commune client's token that `lgsp clients create` printed)")

today = datetime.datetime.now(ICT)
CODE = os.environ.get("DOSSIER_CODE") or "%s-%s-%04d" % (AGENCY, today.strftime("%y%m%d"), random.randrange(10000))
STREAM = "dossier-" + CODE


class Problem(Exception):
    """An RFC 9457 problem the hub answered (4xx or 5xx)."""

    def __init__(self, status, body):
        super().__init__("%s %s" % (status, body.get("title")))
        self.status = status
        self.body = body


def request(method, path, body=None, headers=None):
    """Sends one request; returns (status, parsed JSON body), raises Problem on 4xx/5xx."""
    all_headers = {"Authorization": "Bearer " + TOKEN, "Accept": "application/json"}
    if os.environ.get("LGSP_ACCEPT_LANGUAGE"):
        all_headers["Accept-Language"] = os.environ["LGSP_ACCEPT_LANGUAGE"]
    all_headers.update(headers or {})
    req = urllib.request.Request(URL + path, data=body, headers=all_headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, json.loads(res.read() or b"{}")
    except urllib.error.HTTPError as e:  # 4xx/5xx: the body is a problem document
        text = e.read()
        raise Problem(e.code, json.loads(text) if text else {"title": e.reason}) from None


def now():
    return datetime.datetime.now(ICT).isoformat(timespec="seconds")


def event(kind, data, expected_version=None):
    """A structured CloudEvent; `expectedversion` makes the append conditional on the stream's version."""
    ev = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": SOURCE,
        "type": TYPE % kind,
        "time": now(),
        "datacontenttype": "application/json",
        "data": dict({"dossierCode": CODE, "provinceCode": PROVINCE, "communeCode": COMMUNE}, **data),
    }
    if expected_version is not None:
        ev["expectedversion"] = expected_version
    return ev


def status(code, **more):
    return dict({"status": code, "changedAt": now()}, **more)


def send_binary(ev):
    """Binary mode: the attributes in ce-* headers, the data as the body."""
    headers = {"Content-Type": "application/json; charset=utf-8"}
    for name, value in ev.items():
        if name not in ("data", "datacontenttype"):
            # The binding percent-encodes (as UTF-8) a space, '"', '%' and all but printable ASCII.
            headers["ce-" + name] = urllib.parse.quote(str(value), safe="!#$&'()*+,/:;<=>?@[\\]^`{|}")
    body = json.dumps(ev["data"], ensure_ascii=False).encode("utf-8")
    return request("POST", "/v1/events", body, headers)


def send_batch(events):
    """Batch mode: a JSON array of structured events, appended all or nothing."""
    body = json.dumps(events, ensure_ascii=False).encode("utf-8")
    return request("POST", "/v1/events", body, {"Content-Type": "application/cloudevents-batch+json"})


def stream_version():
    _, body = request("GET", "/v1/streams/%s?limit=1" % urllib.parse.quote(STREAM, safe=""))
    return body["version"]


summary = {"example": "python", "dossierCode": CODE, "accepted": 0, "duplicates": 0, "conflicts": 0, "problems": 0}


def count(status_code, body, what):
    for r in body["results"]:
        summary["duplicates" if r["duplicate"] else "accepted"] += 1
        print("%d %s: %s v%s at %s%s" % (status_code, what, r.get("stream"), r.get("streamVersion"),
                                         r.get("position"), " (duplicate)" if r["duplicate"] else ""))


# 1. The dossier is received at the one-stop shop: it must not exist yet (expected version 0).
submitted = event("dossier.submitted", {
    "procedureCode": "1.001193",
    "procedureName": "Đăng ký khai sinh",
    "agencyCode": AGENCY,
    "channel": "in-person",
    "applicant": {"fullName": "Nguyễn Thị Hoà", "idNumber": "051190001234"},
    "receivedAt": now(),
    "fees": [{"name": "Lệ phí", "amount": 50000}],
}, 0)
count(*send_binary(submitted), "submitted")
# A retry of the same event (same source and id), as after a timeout: stored once, answered 200.
count(*send_binary(submitted), "submitted again")

# 2. Received (status 2) at version 1.
count(*send_binary(event("dossier.status-changed", status(2), 1)), "status 2")

# 3. In processing (status 4), but sent at a stale version: 409. Read the stream's version and decide
# again; here the change still applies, so it is sent at the version the stream is at.
in_processing = event("dossier.status-changed", status(4, previousStatus=2), 1)
try:
    send_binary(in_processing)
except Problem as p:
    if p.status != 409:
        raise
    summary["conflicts"] += 1
    print("409 %s" % p.body.get("detail"))
    in_processing["expectedversion"] = stream_version()
    count(*send_binary(in_processing), "status 4 after the conflict")

# 4. Fee due, paid, finished, returned: one batch, each event at the version its predecessor leaves.
version = in_processing["expectedversion"] + 1
steps = [
    ("dossier.status-changed", status(6, previousStatus=4)),
    ("payment.completed", {"paymentRef": "PR-" + CODE, "transactionId": "TX-" + uuid.uuid4().hex[:8],
                           "amount": 50000, "paidAt": now()}),
    ("dossier.status-changed", status(9, previousStatus=6)),
    ("dossier.status-changed", status(10, previousStatus=9)),
]
count(*send_batch([event(kind, data, version + i) for i, (kind, data) in enumerate(steps)]), "batch")

# 5. A batch whose second event is invalid (no such status, a time without offset): 422, nothing stored.
bad = event("dossier.status-changed", {"status": 11, "changedAt": "2025-11-23T09:20:00"})
try:
    send_batch([event("dossier.status-changed", status(10)), bad])
except Problem as p:
    if p.status != 422:
        raise
    summary["problems"] += 1
    print("422 %s: %s" % (p.body.get("title"), p.body.get("detail")))
    for error in p.body.get("errors", []):
        print("  %s: %s" % (error["pointer"], error["message"]))

summary["streamVersion"] = stream_version()
print(json.dumps(summary, ensure_ascii=False))
