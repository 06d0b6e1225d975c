"""A fake Sentry ingest that records every envelope item it receives.

Accepts `POST /api/<project>/envelope/` with a body that is uncompressed, gzip, deflate
(zlib or raw) or br (when the `brotli` module is importable), sent with a length or chunked.
Each item becomes one JSON line in the output file:

    {"project": "1", "sentry_key": "...", "content_encoding": "gzip",
     "envelope_header": {...}, "envelope_header_raw": "<the header line as sent>",
     "item_header": {...}, "payload": <parsed JSON or null>, "payload_raw": "<text>"}

An envelope that cannot be parsed is recorded as {"error": "..."}; the checks count those.
Standard library only. Usage: python ingest.py PORT_FILE OUT_JSONL
(binds 127.0.0.1 on a free port and writes the port to PORT_FILE once it listens).
"""

import gzip
import json
import os
import re
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ENVELOPE_PATH = re.compile(r"^/api/(?P<project>[^/]+)/envelope/?$")
MAX_BODY = 20 * 1024 * 1024


def decode_body(body, encoding):
    """Undo the Content-Encoding of a request body."""
    encoding = (encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "x-gzip"):
        return gzip.decompress(body)
    if encoding == "deflate":
        try:
            return zlib.decompress(body)
        except zlib.error:
            return zlib.decompress(body, -zlib.MAX_WBITS)
    if encoding == "br":
        import brotli  # optional; an error here is recorded

        return brotli.decompress(body)
    raise ValueError("unknown content-encoding %r" % encoding)


def parse_envelope(data):
    """Split an envelope into (header_raw, header, [(item_header, payload_bytes)])."""
    newline = data.find(b"\n")
    header_raw = data if newline < 0 else data[:newline]
    header = json.loads(header_raw)
    pos = len(data) if newline < 0 else newline + 1
    items = []
    while pos < len(data):
        end = data.find(b"\n", pos)
        line = data[pos:] if end < 0 else data[pos:end]
        pos = len(data) if end < 0 else end + 1
        if not line.strip():
            continue
        item_header = json.loads(line)
        length = item_header.get("length")
        if length is not None:
            payload = data[pos : pos + length]
            if len(payload) != length:
                raise ValueError("item shorter than its length")
            pos += length
            if data[pos : pos + 1] == b"\n":
                pos += 1
        else:
            end = data.find(b"\n", pos)
            payload = data[pos:] if end < 0 else data[pos:end]
            pos = len(data) if end < 0 else end + 1
        items.append((item_header, payload))
    return header_raw.decode("utf-8"), header, items


def sentry_key(handler):
    """The public key from X-Sentry-Auth or ?sentry_key=."""
    auth = handler.headers.get("X-Sentry-Auth", "")
    match = re.search(r"sentry_key=([^,\s]+)", auth)
    if match:
        return match.group(1)
    query = parse_qs(urlsplit(handler.path).query)
    return (query.get("sentry_key") or [None])[0]


class Recorder:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def write(self, record):
        with self.lock, open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record, sort_keys=True) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    recorder = None

    def log_message(self, *args):
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length)

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        match = ENVELOPE_PATH.match(urlsplit(self.path).path)
        if not match:
            self.reply(404, {"detail": "not an envelope endpoint"})
            return
        base = {
            "project": match.group("project"),
            "sentry_key": sentry_key(self),
            "content_encoding": self.headers.get("Content-Encoding", "identity"),
        }
        try:
            body = decode_body(self.read_body(), self.headers.get("Content-Encoding"))
            header_raw, header, items = parse_envelope(body)
        except Exception as err:  # recorded and counted by the checks
            self.recorder.write(dict(base, error="%s: %s" % (type(err).__name__, err)))
            self.reply(400, {"detail": "bad envelope"})
            return
        for item_header, payload in items:
            text = payload.decode("utf-8", "replace")
            try:
                parsed = json.loads(payload) if payload.strip() else None
            except ValueError:
                parsed = None
            self.recorder.write(
                dict(
                    base,
                    envelope_header=header,
                    envelope_header_raw=header_raw,
                    item_header=item_header,
                    payload=parsed,
                    payload_raw=text if parsed is None else None,
                )
            )
        self.reply(200, {"id": header.get("event_id") or "0" * 32})


def main():
    port_file, out_path = sys.argv[1], sys.argv[2]
    Handler.recorder = Recorder(out_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    # Never outlive a stuck run.
    watchdog = threading.Timer(float(os.environ.get("INTEROP_MAX_SECONDS", "600")), os._exit, [3])
    watchdog.daemon = True  # never keeps a crashed process alive
    watchdog.start()
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
