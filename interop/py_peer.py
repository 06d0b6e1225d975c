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
    python py_peer.py telemetry SENTRY_TRACE
        Telemetry: continues SENTRY_TRACE in a transaction (a segment span in the stream run)
        and, inside it, sends one log through `sentry_sdk.logger.info` and one metric of each
        type through `sentry_sdk.metrics.count/gauge/distribution` (enable_logs=True), the same
        values the service records from `tracing` events; prints one JSON line with the trace
        and span the SDK used.

SENTRY_DSN points at the fake ingest (key `pykey`). SENTRY_TRACE_LIFECYCLE=stream makes the
peer use the SDK's span streaming (`trace_lifecycle="stream"` and the `sentry_sdk.traces` API;
unsampled then means traces_sample_rate=0). Only 127.0.0.1 is used.
"""

import http.client
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import sentry_sdk
from sentry_sdk import traces

THIRD_PARTY = "acme-tenant=t42,vendor-flag=on"
STREAM = os.environ.get("SENTRY_TRACE_LIFECYCLE") == "stream"
LIFECYCLE = "stream" if STREAM else "static"


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
        # Static: a transaction forces its decision below. Stream: the rate decides.
        options["traces_sample_rate"] = 0.0 if STREAM and sampling == "unsampled" else 1.0
    options["trace_lifecycle"] = LIFECYCLE
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
    elif STREAM:
        traces.new_trace()
        with traces.start_span(name="python upstream", attributes={"sentry.op": "task"}):
            if mode == "manual":
                with traces.start_span(
                    name="GET " + url, attributes={"sentry.op": "http.client"}
                ):
                    wire, status, body = call()
            else:
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
    trace_fields = wire_fields(wire, "sentry-trace")
    print(
        json.dumps(
            {
                "sdk": "python",
                "sdk_version": sentry_sdk.VERSION,
                "sentry_trace_sent": ",".join(trace_fields),
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
        trace_lifecycle=LIFECYCLE,
    )
    lock = threading.Lock()

    def continue_and_report(joined, traces_fields, baggage):
        """Continue the incoming trace the SDK's way and say what it continued."""
        if STREAM:
            traces.continue_trace(joined)
            span = traces.start_span(
                name="python downstream", attributes={"sentry.op": "http.server"}
            )
            # The traces API has no public parent id; `_parent_span_id` is what it sends.
            continued = (span.trace_id, getattr(span, "_parent_span_id", None), span.sampled)
        else:
            span = sentry_sdk.continue_trace(
                joined, op="http.server", name="python downstream"
            )
            span = sentry_sdk.start_transaction(span)
            continued = (span.trace_id, span.parent_span_id, span.sampled)
        with span:
            return {
                "sdk": "python",
                "sdk_version": sentry_sdk.VERSION,
                "lifecycle": LIFECYCLE,
                "sentry_trace_fields": traces_fields,
                "baggage_fields": baggage,
                "continued": {
                    "trace_id": continued[0],
                    "parent_span_id": continued[1],
                    "sampled": continued[2],
                },
                # What the SDK would propagate from here: its view of the trace's DSC.
                "outgoing": {
                    "sentry-trace": sentry_sdk.get_traceparent(),
                    "baggage": sentry_sdk.get_baggage(),
                },
            }

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            trace_fields = self.headers.get_all("sentry-trace") or []
            baggage = self.headers.get_all("baggage") or []
            joined = {"sentry-trace": ",".join(trace_fields), "baggage": ",".join(baggage)}
            with sentry_sdk.isolation_scope():
                record = continue_and_report(joined, trace_fields, baggage)
            record["path"] = self.path
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


# The values the service records in GET /telemetry (examples/interop_service.rs).
LOG_ATTRIBUTES = {"interop.count": 3, "interop.ratio": 0.5, "interop.flag": True}
METRIC_ATTRIBUTES = {"interop.route": "/telemetry"}


def telemetry(args):
    sentry_sdk.init(
        dsn=os.environ["SENTRY_DSN"],
        release="interop-python@2",
        environment="interop-python",
        traces_sample_rate=1.0,
        trace_lifecycle=LIFECYCLE,
        enable_logs=True,
    )
    headers = {"sentry-trace": args[0]}

    def record():
        sentry_sdk.logger.info(
            "interop log", attributes=dict(LOG_ATTRIBUTES, **{"interop.name": "python"})
        )
        sentry_sdk.metrics.count("interop.requests", 1, attributes=METRIC_ATTRIBUTES)
        sentry_sdk.metrics.gauge("interop.queue_depth", 42, attributes=METRIC_ATTRIBUTES)
        sentry_sdk.metrics.distribution(
            "interop.duration", 12.5, unit="millisecond", attributes=METRIC_ATTRIBUTES
        )

    if STREAM:
        traces.continue_trace(headers)
        with traces.start_span(
            name="python telemetry", attributes={"sentry.op": "function"}
        ) as span:
            record()
            ids = (span.trace_id, span.span_id)
    else:
        transaction = sentry_sdk.continue_trace(headers, op="function", name="python telemetry")
        with sentry_sdk.start_transaction(transaction) as span:
            record()
            ids = (span.trace_id, span.span_id)
    sentry_sdk.flush(5)
    print(
        json.dumps({"sdk": "python", "sdk_version": sentry_sdk.VERSION, "trace_id": ids[0],
                    "span_id": ids[1]}),
        flush=True,
    )


def main():
    # Never outlive a stuck run.
    limit = float(os.environ.get("INTEROP_MAX_SECONDS", "600"))
    watchdog = threading.Timer(limit, os._exit, [3])
    watchdog.daemon = True
    watchdog.start()
    role, args = sys.argv[1], sys.argv[2:]
    try:
        if role == "client":
            client(args)
        elif role == "server":
            server(args)
        elif role == "telemetry":
            telemetry(args)
        else:
            print("usage: py_peer.py client URL [...] | server PORT_FILE LOG | telemetry SENTRY_TRACE", file=sys.stderr)
            os._exit(2)
    except BaseException:
        # Exit now: the SDK's background threads must not keep a failed peer alive.
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
