"""A peer of the service built on the real Python `sentry-sdk` (pinned in requirements.txt).

    python py_peer.py client URL --mode manual|auto --sampling sampled|unsampled|deferred
        Upstream: starts a trace and GETs URL with the SDK's trace headers plus third-party
        baggage (acme-tenant=t42,vendor-flag=on); prints one JSON line describing what was
        sent (read back from the bytes written to the socket) and what came back.
        manual: trace_propagation_targets=[] and the headers come from
                sentry_sdk.get_traceparent()/get_baggage() inside an http.client span (the SDK's
                documented custom-instrumentation path), third-party members first in one field.
        auto:   the SDK's stdlib (http.client) integration injects the headers into a request
                that already carries the third-party `baggage`: Sentry's members then arrive
                in a second `baggage` field.
        sampled/unsampled: a transaction started with sampled=True/False; deferred: no
        traces_sample_rate (tracing without performance: no sampled flag).
    python py_peer.py server PORT_FILE LOG_JSONL
        Downstream: for each request, sentry_sdk.continue_trace() on the headers (repeated
        fields joined with ",", as WSGI does) and a transaction; appends one JSON line with the
        raw trace headers and what the SDK continued.

SENTRY_DSN points at the fake ingest (key `pykey`). Only 127.0.0.1 is used.
"""

import http.client
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import sentry_sdk

THIRD_PARTY = "acme-tenant=t42,vendor-flag=on"


def opt(args, name, default):
    flag = "--" + name
    return args[args.index(flag) + 1] if flag in args else default


class RecordingConnection(http.client.HTTPConnection):
    """An HTTPConnection that keeps the bytes it wrote, to report the headers on the wire."""

    def send(self, data):
        self.__dict__.setdefault("wire", bytearray()).extend(
            data if isinstance(data, (bytes, bytearray)) else data.encode()
        )
        super().send(data)


def wire_fields(wire, name):
    head = bytes(wire).split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
    out = []
    for line in head:
        key, _, value = line.partition(":")
        if key.strip().lower() == name:
            out.append(value.strip())
    return out


def get(url, headers):
    parts = urlsplit(url)
    conn = RecordingConnection(parts.hostname, parts.port, timeout=20)
    try:
        conn.request("GET", parts.path or "/", headers=headers)
        response = conn.getresponse()
        body = response.read().decode("utf-8", "replace")
        return conn.wire, response.status, body
    finally:
        conn.close()


def client(args):
    url = args[0]
    mode = opt(args, "mode", "manual")
    sampling = opt(args, "sampling", "sampled")
    options = dict(
        dsn=os.environ["SENTRY_DSN"],
        release="interop-python@2",
        environment="interop-python",
    )
    if sampling != "deferred":
        options["traces_sample_rate"] = 1.0
    if mode == "manual":
        options["trace_propagation_targets"] = []
    sentry_sdk.init(**options)

    def call():
        if mode == "manual":
            baggage = ",".join(b for b in (THIRD_PARTY, sentry_sdk.get_baggage()) if b)
            headers = {"sentry-trace": sentry_sdk.get_traceparent(), "baggage": baggage}
            return get(url, headers)
        return get(url, {"baggage": THIRD_PARTY})

    if sampling == "deferred":
        wire, status, body = call()
    else:
        with sentry_sdk.start_transaction(
            name="python upstream", op="task", sampled=sampling == "sampled"
        ):
            if mode == "manual":
                with sentry_sdk.start_span(op="http.client", name="GET " + url):
                    wire, status, body = call()
            else:
                wire, status, body = call()
    sentry_sdk.flush(5)
    traces = wire_fields(wire, "sentry-trace")
    print(
        json.dumps(
            {
                "sdk": "python",
                "sdk_version": sentry_sdk.VERSION,
                "sentry_trace_sent": ",".join(traces),
                "baggage_fields_sent": wire_fields(wire, "baggage"),
                "status": status,
                "body": body,
            }
        ),
        flush=True,
    )


def server(args):
    port_file, log_path = args[0], args[1]
    sentry_sdk.init(
        dsn=os.environ["SENTRY_DSN"],
        release="interop-python@2",
        environment="interop-python",
        traces_sample_rate=1.0,
    )
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            traces = self.headers.get_all("sentry-trace") or []
            baggage = self.headers.get_all("baggage") or []
            joined = {"sentry-trace": ",".join(traces), "baggage": ",".join(baggage)}
            transaction = sentry_sdk.continue_trace(
                joined, op="http.server", name="python downstream"
            )
            with sentry_sdk.start_transaction(transaction):
                record = {
                    "sdk": "python",
                    "sdk_version": sentry_sdk.VERSION,
                    "path": self.path,
                    "sentry_trace_fields": traces,
                    "baggage_fields": baggage,
                    "continued": {
                        "trace_id": transaction.trace_id,
                        "parent_span_id": transaction.parent_span_id,
                        "sampled": transaction.sampled,
                    },
                    # What the SDK would propagate from here: its view of the trace's DSC.
                    "outgoing": {
                        "sentry-trace": sentry_sdk.get_traceparent(),
                        "baggage": sentry_sdk.get_baggage(),
                    },
                }
            with lock, open(log_path, "a", encoding="utf-8") as log:
                log.write(json.dumps(record) + "\n")
            body = json.dumps({"ok": True, "by": "python"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(port_file + ".tmp", port_file)
    srv.serve_forever()


def main():
    # Never outlive a stuck run.
    limit = float(os.environ.get("INTEROP_MAX_SECONDS", "600"))
    threading.Timer(limit, os._exit, [3]).start()
    role, args = sys.argv[1], sys.argv[2:]
    if role == "client":
        client(args)
    elif role == "server":
        server(args)
    else:
        print("usage: py_peer.py client URL [...] | server PORT_FILE LOG", file=sys.stderr)
        os._exit(2)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
