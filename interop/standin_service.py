"""Self-test only: a stand-in for the example service built on the Python sentry-sdk.

It follows the same contract (LISTEN_ADDR, DOWNSTREAM_URL, SENTRY_* variables, GET /call and
GET /flush) in both lifecycles (SENTRY_TRACE_LIFECYCLE=stream uses the SDK's span streaming),
so `bash interop/run.sh --self-test` shows that a real SDK passes the checks, the stream ones
included. INTEROP_FAULT=<name> makes it misbehave on purpose, to show that checks fail:

    forward-third-party  forwards the incoming third-party baggage members downstream
    no-continue          ignores the incoming trace headers (starts a new trace)
    new-dsc              sends its own DSC downstream instead of the frozen one
"""

import http.client
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import sentry_sdk
from sentry_sdk import traces

FAULT = os.environ.get("INTEROP_FAULT", "")
STREAM = os.environ.get("SENTRY_TRACE_LIFECYCLE") == "stream"
DOWNSTREAM = urlsplit(os.environ["DOWNSTREAM_URL"])

sentry_sdk.init(
    dsn=os.environ["SENTRY_DSN"],
    release=os.environ["SENTRY_RELEASE"],
    environment=os.environ["SENTRY_ENVIRONMENT"],
    traces_sample_rate=float(os.environ["SENTRY_TRACES_SAMPLE_RATE"]),
    trace_lifecycle="stream" if STREAM else "static",
    trace_propagation_targets=[],
)


def call_downstream(incoming_baggage):
    headers = {
        "sentry-trace": sentry_sdk.get_traceparent(),
        "baggage": sentry_sdk.get_baggage() or "",
    }
    if FAULT == "new-dsc":
        headers["baggage"] = "sentry-trace_id=%s,sentry-public_key=other" % (
            headers["sentry-trace"].split("-")[0]
        )
    if FAULT == "forward-third-party":
        third = [m for m in incoming_baggage.split(",") if m and not m.strip().startswith("sentry-")]
        headers["baggage"] = ",".join(third + [headers["baggage"]])
    conn = http.client.HTTPConnection(DOWNSTREAM.hostname, DOWNSTREAM.port, timeout=20)
    try:
        conn.request("GET", DOWNSTREAM.path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/flush"):
            sentry_sdk.flush(5)
            self.answer(200)
            return
        if not self.path.startswith("/call"):
            # No GET /telemetry: the suite skips its log and metric checks for the stand-in.
            self.answer(404)
            return
        incoming = {
            "sentry-trace": ",".join(self.headers.get_all("sentry-trace") or []),
            "baggage": ",".join(self.headers.get_all("baggage") or []),
        }
        if FAULT == "no-continue":
            incoming = {}
        with sentry_sdk.isolation_scope():
            if STREAM:
                traces.continue_trace(incoming) if incoming else traces.new_trace()
                with traces.start_span(name="GET /call", attributes={"sentry.op": "http.server"}):
                    with traces.start_span(
                        name="GET downstream", attributes={"sentry.op": "http.client"}
                    ):
                        status, body = call_downstream(incoming.get("baggage", ""))
            else:
                transaction = sentry_sdk.continue_trace(
                    incoming, op="http.server", name="GET /call"
                )
                with sentry_sdk.start_transaction(transaction):
                    with sentry_sdk.start_span(op="http.client", name="GET downstream"):
                        status, body = call_downstream(incoming.get("baggage", ""))
        self.answer(status, body)


def main():
    watchdog = threading.Timer(float(os.environ.get("INTEROP_MAX_SECONDS", "600")), os._exit, [3])
    watchdog.daemon = True  # never keeps a crashed process alive
    watchdog.start()
    host, _, port = os.environ["LISTEN_ADDR"].rpartition(":")
    server = ThreadingHTTPServer((host, int(port)), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
