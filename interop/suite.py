"""The interop suite: the example service between the real Python and JavaScript Sentry SDKs.

Run it through `bash interop/run.sh` (which installs the pinned SDKs and builds the service);
`interop/README.md` lists the scenarios and checks. Standard library only; the peers it
starts import the SDKs.
"""

import argparse
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
RELEASE = "interop-service@1.0.0+rust"
ENVIRONMENT = "interop-service"
SERVICE_KEY = "servicekey"
SPAN_CONTENT_TYPE = "application/vnd.sentry.items.span.v2+json"
# Every span item carries these attributes (the span streaming protocol's common attributes).
COMMON_ATTRIBUTES = (
    "sentry.segment.id",
    "sentry.segment.name",
    "sentry.release",
    "sentry.environment",
    "sentry.sdk.name",
    "sentry.sdk.version",
    "sentry.origin",
    "sentry.trace_lifecycle",
)
SEGMENT_ATTRIBUTES = ("sentry.op", "sentry.segment.name.source")
LOG_CONTENT_TYPE = "application/vnd.sentry.items.log+json"
METRIC_CONTENT_TYPE = "application/vnd.sentry.items.trace-metric+json"
# Who sends the telemetry that GET /telemetry and the peers' `telemetry` role record, by DSN key.
TELEMETRY_SENDERS = (("rust", SERVICE_KEY), ("python", "pykey"), ("node", "nodekey"))
SDK_LABEL = {"python": "sentry-sdk", "node": "@sentry/node"}
# The log and the metrics all three send (examples/interop_service.rs, py_peer.py, node_peer.js).
TELEMETRY_LOG_ATTRIBUTES = {"interop.count": "integer", "interop.ratio": "double",
                            "interop.flag": "boolean", "interop.name": "string"}
TELEMETRY_METRICS = {"interop.requests": ("counter", 1.0, None),
                     "interop.queue_depth": ("gauge", 42.0, None),
                     "interop.duration": ("distribution", 12.5, "millisecond")}
# Where our log or metric may differ from a pinned SDK's, and why. Keys: (what, sdk, name);
# `what` is `log-key`/`metric-key` (a top-level key) or `log-attr`/`metric-attr` (an
# attribute); the sign says who has it: "+" only we send it, "-" only the SDK does. Any other
# difference in key sets fails the check.
INTENDED = {
    ("log-key", "node", "-severity_number"):
        "@sentry/node sends the severity number top-level; the crate writes it as the attribute "
        "sentry.severity_number, as sentry-sdk does (Relay's log schema has no top-level "
        "severity_number: it keeps it as an unknown extra)",
    ("log-key", "node", "+span_id"):
        "@sentry/node names the span in the attribute sentry.trace.parent_span_id (the older "
        "convention); the crate sends the top-level span_id, as sentry-sdk does and Relay's log "
        "schema reads",
    ("log-attr", "node", "-sentry.trace.parent_span_id"): "see span_id",
    ("log-attr", "node", "+sentry.severity_number"):
        "the severity as sentry-sdk sends it (node: top-level severity_number)",
    ("log-attr", "node", "+sentry.severity_text"): "as sentry-sdk sends it",
    ("log-attr", "*", "+sentry.origin"):
        "auto.log.tracing: the spec's origin for logs captured from a logging library; the "
        "SDKs' manual logger API sends none",
    ("log-attr", "*", "+code.file.path"): "the event's callsite (relative path)",
    ("log-attr", "*", "+code.line.number"): "the event's callsite",
    ("log-attr", "*", "+code.module.name"): "the event's callsite",
    ("*-attr", "node", "+process.runtime.name"):
        "the runtime (rustc), as sentry-sdk sends its own on logs and metrics; @sentry/node "
        "sends none there",
    ("*-attr", "node", "+process.runtime.version"): "see process.runtime.name",
    ("*-attr", "node", "-sentry.timestamp.sequence"):
        "@sentry/node orders items that share a millisecond timestamp; the crate's timestamps "
        "have microseconds",
}
RELAY_SKIP = ("the sentry-relay Python package (0.10.1, the newest on PyPI; the suite pins none) "
              "exposes only event normalisation (StoreNormalizer.normalize_event): its library "
              "has no log or trace_metric processing and knows those only as data categories "
              "(log_item, trace_metric), so Relay's normaliser cannot be run on these items")


def env_float(name, default):
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return float(default)


# ---------------------------------------------------------------------------------------------
# Processes: each in its own process group, stopped by PID at the end.


class Processes:
    def __init__(self, out):
        self.out = out
        self.children = []

    def start(self, name, argv, env=None, cwd=None):
        log = open(os.path.join(self.out, name + ".log"), "wb")
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        self.children.append((name, proc))
        return proc

    def stop(self, proc):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=5)

    def stop_all(self):
        for _, proc in reversed(self.children):
            self.stop(proc)


def wait_for(predicate, timeout, interval=0.05):
    """Poll `predicate` until it returns a truthy value or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
        interval = min(interval * 1.5, 0.5)


def read_port(path, proc, timeout):
    def ready():
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %s" % (path, proc.returncode))
        try:
            with open(path) as f:
                return int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0

    port = wait_for(ready, timeout)
    if not port:
        raise RuntimeError("no port in %s after %ss" % (path, timeout))
    return port


def wait_listening(port, proc, timeout):
    def ready():
        if proc.poll() is not None:
            raise RuntimeError("service exited with %s" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    if not wait_for(ready, timeout):
        raise RuntimeError("service not listening on %d after %ss" % (port, timeout))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=15, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, ""


def read_jsonl(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


# ---------------------------------------------------------------------------------------------
# Trace headers.


def parse_sentry_trace(value):
    """(trace_id, span_id, sampled) where sampled is True, False or None (deferred)."""
    parts = (value or "").strip().split("-")
    if len(parts) < 2:
        return None, None, None
    sampled = None
    if len(parts) > 2:
        sampled = {"1": True, "0": False}.get(parts[2])
    return parts[0], parts[1], sampled


def baggage_members(fields):
    """All list members of the `baggage` fields, raw, in order."""
    out = []
    for field in fields:
        for member in field.split(","):
            member = member.strip()
            if member:
                out.append(member)
    return out


def sentry_members(fields):
    return [m for m in baggage_members(fields) if m.startswith("sentry-")]


def third_party_members(fields):
    return [m for m in baggage_members(fields) if not m.startswith("sentry-")]


def decoded_dsc(members):
    """The DSC as a dict of percent-decoded strings."""
    dsc = {}
    for member in members:
        key, _, value = member.partition("=")
        dsc[urllib.parse.unquote(key.strip()[len("sentry-") :])] = urllib.parse.unquote(
            value.split(";")[0].strip()
        )
    return dsc


def same_value(key, a, b):
    """DSC values as an SDK re-serializes them: @sentry/node writes numbers its own way
    (`0.465380` becomes `0.46538`, `1.0` becomes `1`)."""
    if a == b:
        return True
    if key in ("sample_rand", "sample_rate") and a is not None and b is not None:
        try:
            return float(a) == float(b)
        except ValueError:
            return False
    return False


def valid_rand(value):
    try:
        return 0.0 <= float(value) < 1.0
    except ValueError:
        return False


def dsc_as_strings(trace):
    """An envelope header `trace` with every value as the string it stands for."""
    if not isinstance(trace, dict):
        return None
    out = {}
    for key, value in trace.items():
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = value if isinstance(value, str) else json.dumps(value)
    return out


# ---------------------------------------------------------------------------------------------
# What the ingest recorded.


def item_trace_ids(record):
    ids = set()
    header = record.get("envelope_header") or {}
    if isinstance(header.get("trace"), dict) and header["trace"].get("trace_id"):
        ids.add(header["trace"]["trace_id"])
    payload = record.get("payload")
    if isinstance(payload, dict):
        trace = (payload.get("contexts") or {}).get("trace") or {}
        if trace.get("trace_id"):
            ids.add(trace["trace_id"])
        for span in payload.get("spans") or []:
            if isinstance(span, dict) and span.get("trace_id"):
                ids.add(span["trace_id"])
        for span in payload.get("items") or []:
            if isinstance(span, dict) and span.get("trace_id"):
                ids.add(span["trace_id"])
    return ids


def strip_record(record):
    """A recorded item without its raw text (kept in ingest.jsonl)."""
    return {k: v for k, v in record.items() if k not in ("payload_raw", "envelope_header_raw")}


def item_type(record):
    return (record.get("item_header") or {}).get("type")


class Ingest:
    def __init__(self, path):
        self.path = path

    def records(self, key=None):
        rows = read_jsonl(self.path)
        return [r for r in rows if key is None or r.get("sentry_key") == key]

    def for_trace(self, trace_id, key=SERVICE_KEY):
        return [r for r in self.records(key) if trace_id in item_trace_ids(r)]

    def transactions(self, trace_id):
        return [r for r in self.for_trace(trace_id) if item_type(r) == "transaction"]

    def span_items(self, trace_id):
        return [r for r in self.for_trace(trace_id) if item_type(r) == "span"]


def json_type(value):
    """The JSON type of a value, numbers as `integer` or `double` as Python parsed them."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def as_dict(value):
    """`value` if it is a JSON object, else an empty one (a malformed item is reported, not
    a crash)."""
    return value if isinstance(value, dict) else {}


def attribute_problems(item):
    """What is wrong with an item's typed attributes: each must be {"type", "value"} with a
    value of that type (an integer may stand for a double)."""
    problems = []
    attributes = item.get("attributes")
    if not isinstance(attributes, dict):
        return ["attributes %r" % (attributes,)]
    for key, attr in attributes.items():
        if not isinstance(attr, dict) or set(attr) != {"type", "value"}:
            problems.append("%s is %r" % (key, attr))
            continue
        have, want = json_type(attr["value"]), attr["type"]
        if not (have == want or (want == "double" and have == "integer")):
            problems.append("%s: type %r, value %r" % (key, want, attr["value"]))
    return problems


def key_differences(kind, sdk, ours, theirs):
    """(unexpected, intended) differences between two key sets, per INTENDED."""
    unexpected, intended = [], []
    for sign, keys in (("+", set(ours) - set(theirs)), ("-", set(theirs) - set(ours))):
        for key in sorted(keys):
            reason = None
            for what in (kind, "*-" + kind.split("-")[1]):
                for who in (sdk, "*"):
                    reason = reason or INTENDED.get((what, who, sign + key))
            if reason:
                intended.append("%s%s (%s): %s" % (sign, key, SDK_LABEL[sdk], reason))
            else:
                unexpected.append("%s%s vs %s" % (sign, key, SDK_LABEL[sdk]))
    return unexpected, intended


# ---------------------------------------------------------------------------------------------
# Results.


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print("PASS %s" % name, flush=True)
        else:
            self.failed += 1
            print("FAIL %s%s" % (name, (": " + detail) if detail else ""), flush=True)
        return ok

    def note(self, lines):
        """Indented lines under the last check (not counted)."""
        for line in lines:
            print("    %s" % line, flush=True)

    def skip(self, name, why):
        self.skipped += 1
        print("SKIP %s: %s" % (name, why), flush=True)


# ---------------------------------------------------------------------------------------------
# Scenarios.

# (id, upstream SDK, upstream mode, sampling); None as SDK means a bare GET (the service is head).
SCENARIOS = {
    "python": [
        ("py-sampled", "python", "manual", "sampled"),
        ("py-sampled-two-fields", "python", "auto", "sampled"),
        ("py-unsampled", "python", "manual", "unsampled"),
        ("py-deferred", "python", "manual", "deferred"),
        ("head-to-node", None, None, "head"),
    ],
    "node": [
        ("node-sampled", "node", "manual", "sampled"),
        ("node-sampled-auto", "node", "auto", "sampled"),
        ("node-unsampled", "node", "manual", "unsampled"),
        ("node-deferred", "node", "manual", "deferred"),
        ("head-to-python", None, None, "head"),
    ],
}
DESCRIPTION = {
    "python": "python -> rust -> node",
    "node": "node -> rust -> python",
}


class Suite:
    def __init__(self, args):
        self.args = args
        self.out = args.out or tempfile.mkdtemp(prefix="tracing-sentry-interop-")
        os.makedirs(self.out, exist_ok=True)
        self.procs = Processes(self.out)
        self.report = Report()
        self.ingest = Ingest(os.path.join(self.out, "ingest.jsonl"))
        self.python = args.python
        self.node = args.node
        self.wait = env_float("INTEROP_WAIT", "10")
        self.quiet = env_float("INTEROP_QUIET_WAIT", "1.0")

    # -- infrastructure --------------------------------------------------------------------

    def base_env(self, key):
        env = dict(os.environ)
        env["SENTRY_DSN"] = "http://%s@127.0.0.1:%d/1" % (key, self.ingest_port)
        for name in ("SENTRY_TRACE_LIFECYCLE", "SENTRY_RELEASE", "SENTRY_ENVIRONMENT",
                     "SENTRY_TRACES_SAMPLE_RATE", "SENTRY_TRACE", "SENTRY_BAGGAGE",
                     "SENTRY_ENABLE_LOGS"):
            env.pop(name, None)
        return env

    def start_infrastructure(self):
        port_file = os.path.join(self.out, "ingest.port")
        proc = self.procs.start(
            "ingest", [self.python, os.path.join(HERE, "ingest.py"), port_file, self.ingest.path]
        )
        self.ingest_port = read_port(port_file, proc, 20)
        self.downstream_logs = {}
        self.downstream_urls = {}

    def start_downstreams(self, lifecycle):
        """Both peers' servers, in the lifecycle of this run; returns their processes."""
        procs = []
        for sdk, argv in (
            ("node", [self.node, os.path.join(HERE, "node_peer.js"), "server"]),
            ("python", [self.python, os.path.join(HERE, "py_peer.py"), "server"]),
        ):
            name = "downstream-%s-%s" % (lifecycle, sdk)
            port_file = os.path.join(self.out, name + ".port")
            log = os.path.join(self.out, name + ".jsonl")
            env = self.base_env("nodekey" if sdk == "node" else "pykey")
            env["SENTRY_TRACE_LIFECYCLE"] = lifecycle
            proc = self.procs.start(name, argv + [port_file, log], env=env)
            procs.append(proc)
            port = read_port(port_file, proc, 30)
            self.downstream_logs[sdk] = log
            self.downstream_urls[sdk] = "http://127.0.0.1:%d/downstream" % port
        return procs

    def start_service(self, lifecycle, downstream_sdk, name=None, extra=None):
        port = free_port()
        env = self.base_env(SERVICE_KEY)
        env.update(
            LISTEN_ADDR="127.0.0.1:%d" % port,
            DOWNSTREAM_URL=self.downstream_urls[downstream_sdk],
            SENTRY_RELEASE=RELEASE,
            SENTRY_ENVIRONMENT=ENVIRONMENT,
            SENTRY_TRACES_SAMPLE_RATE="1.0",
        )
        if lifecycle == "stream":
            env["SENTRY_TRACE_LIFECYCLE"] = "stream"
        env.update(extra or {})
        argv = shlex.split(self.args.service)
        proc = self.procs.start("service-%s-%s" % (lifecycle, name or "to-" + downstream_sdk),
                                argv, env=env)
        wait_listening(port, proc, env_float("SERVICE_START_TIMEOUT", "60"))
        return proc, "http://127.0.0.1:%d" % port

    def run_upstream(self, sdk, mode, sampling, url, lifecycle):
        env = self.base_env("nodekey" if sdk == "node" else "pykey")
        # The peers follow the service's lifecycle (@sentry/node reads the variable itself).
        env["SENTRY_TRACE_LIFECYCLE"] = lifecycle
        if sdk == "node":
            argv = [self.node, os.path.join(HERE, "node_peer.js")]
        else:
            argv = [self.python, os.path.join(HERE, "py_peer.py")]
        argv += ["client", url, "--mode", mode, "--sampling", sampling]
        done = subprocess.run(argv, env=env, capture_output=True, timeout=30, text=True)
        if done.returncode != 0:
            raise RuntimeError("upstream %s failed: %s" % (sdk, done.stderr[-2000:]))
        return json.loads(done.stdout.strip().splitlines()[-1])

    # -- one direction ---------------------------------------------------------------------

    def run_direction(self, lifecycle, upstream_sdk):
        downstream_sdk = "node" if upstream_sdk == "python" else "python"
        proc, base = self.start_service(lifecycle, downstream_sdk)
        results = []
        try:
            for scenario in SCENARIOS[upstream_sdk]:
                sid, sdk, mode, sampling = scenario
                before = len(read_jsonl(self.downstream_logs[downstream_sdk]))
                if sdk is None:
                    status, body = http_get(base + "/call")
                    upstream = {"sentry_trace_sent": "", "baggage_fields_sent": [],
                                "status": status, "body": body}
                else:
                    try:
                        upstream = self.run_upstream(sdk, mode, sampling, base + "/call",
                                                     lifecycle)
                    except Exception as err:  # reported by this scenario's checks
                        upstream = {"error": "%s: %s" % (type(err).__name__, err),
                                    "sentry_trace_sent": "", "baggage_fields_sent": [],
                                    "status": None}
                flush_status, _ = http_get(base + "/flush", timeout=10)
                new = read_jsonl(self.downstream_logs[downstream_sdk])[before:]
                results.append(dict(scenario=scenario, upstream=upstream, new_downstream=new,
                                    flush_status=flush_status))
                with open(os.path.join(self.out, "scenario-%s-%s.json" % (lifecycle, sid)),
                          "w") as f:
                    json.dump(results[-1], f, indent=2)
            self.wait_for_ingest(lifecycle, results)
        finally:
            self.procs.stop(proc)
        return results, downstream_sdk

    def expected_trace(self, result):
        upstream_trace, _, _ = parse_sentry_trace(result["upstream"]["sentry_trace_sent"])
        if upstream_trace:
            return upstream_trace
        new = result["new_downstream"]
        if len(new) == 1 and new[0]["sentry_trace_fields"]:
            return parse_sentry_trace(new[0]["sentry_trace_fields"][0])[0]
        return None

    def wait_for_ingest(self, lifecycle, results):
        """Poll until every sampled trace's telemetry arrived, then wait briefly for strays."""
        wanted = [self.expected_trace(r) for r in results
                  if r["scenario"][3] != "unsampled"]
        wanted = [t for t in wanted if t]

        def arrived():
            for trace_id in wanted:
                items = self.ingest.for_trace(trace_id)
                if lifecycle == "static" and not any(item_type(r) == "transaction"
                                                     for r in items):
                    return False
                if lifecycle == "stream":
                    if any(item_type(r) == "transaction" for r in items):
                        continue  # an unsupported stream lifecycle; judged later
                    spans = [s for r in items if item_type(r) == "span"
                             for s in (r.get("payload") or {}).get("items") or []]
                    if not any(s.get("is_segment") for s in spans):
                        return False
            return True

        wait_for(arrived, self.wait)
        # Absence can't be polled for: give a late unsampled envelope a moment to show up.
        time.sleep(self.quiet)

    # -- checks ------------------------------------------------------------------------------

    def check_direction(self, lifecycle, upstream_sdk, results, downstream_sdk):
        for result in results:
            sid, sdk, mode, sampling = result["scenario"]
            name = "[%s] %s (%s)" % (lifecycle, sid, DESCRIPTION[upstream_sdk]
                                     if sdk else "rust -> %s, service is head" % downstream_sdk)
            try:
                self.check_scenario(lifecycle, name, result, downstream_sdk)
            except Exception as err:  # a crash in a check is a failure, not a traceback
                self.report.check(name + " checks ran", False, "%s: %s" % (type(err).__name__, err))

    def check_scenario(self, lifecycle, name, result, downstream_sdk):
        check = self.report.check
        sid, sdk, mode, sampling = result["scenario"]
        upstream = result["upstream"]
        if "error" in upstream:
            check(name + ": the upstream peer ran", False, upstream["error"][-500:])
            return
        up_trace, up_span, up_sampled = parse_sentry_trace(upstream["sentry_trace_sent"])
        up_members = sentry_members(upstream["baggage_fields_sent"])
        head = sdk is None

        trace_id = self.expected_trace(result)
        # The downstream requests that arrived while this scenario ran (scenarios run one by one).
        downs = result["new_downstream"]
        ok = upstream["status"] == 200 and len(downs) == 1
        check(name + ": /call answers 200 after exactly one downstream request", ok,
              "status %s, %d downstream requests" % (upstream["status"], len(downs)))
        if not ok:
            return
        down = downs[0]
        if not head:
            check(name + ": upstream sent what the scenario needs",
                  bool(up_trace and up_span and up_members)
                  and up_sampled == {"sampled": True, "unsampled": False,
                                     "deferred": None}[sampling]
                  and (mode != "auto" or sdk != "python"
                       or len(upstream["baggage_fields_sent"]) == 2),
                  json.dumps(upstream))
        fields = down["sentry_trace_fields"]
        d_trace, d_parent, d_sampled = parse_sentry_trace(fields[0] if fields else "")
        d_members = sentry_members(down["baggage_fields"])
        continued = down["continued"]
        sampled_expected = sampling != "unsampled"  # deferred and head: the rate (1.0) decides

        # Trace id and sampling, as seen by the downstream SDK.
        check(name + ": one trace id at upstream, downstream header and downstream SDK",
              len(fields) == 1 and d_trace == trace_id and continued["trace_id"] == trace_id,
              "upstream %s, downstream %s, SDK %s" % (up_trace, fields, continued["trace_id"]))
        check(name + ": sampling decision %s reaches the downstream SDK"
              % ("1" if sampled_expected else "0"),
              d_sampled is sampled_expected and continued["sampled"] is sampled_expected,
              "flag %s, SDK sampled %s" % (d_sampled, continued["sampled"]))
        check(name + ": downstream SDK continues the span named in sentry-trace",
              continued["parent_span_id"] == d_parent and d_parent != up_span,
              "header parent %s, SDK parent %s, upstream span %s"
              % (d_parent, continued["parent_span_id"], up_span))

        # Baggage.
        check(name + ": third-party baggage not forwarded downstream",
              third_party_members(down["baggage_fields"]) == [],
              repr(down["baggage_fields"]))
        if head:
            dsc = decoded_dsc(d_members)
            problems = self.head_dsc_problems(dsc, trace_id)
            check(name + ": the service's new DSC is complete and valid", not problems,
                  "; ".join(problems) + " in " + repr(d_members))
            expected_dsc = dsc
        elif sampling == "deferred":
            # The DSC is frozen, but the service decided the sampling: like sentry-sdk and
            # @sentry/node it may add the rate it applied and a backfilled sample_rand, nothing
            # else; what arrived stays byte for byte (spec section 2.6 / 3.4).
            extra = decoded_dsc(d_members[len(up_members):])
            problems = [k for k in extra if k not in ("sample_rate", "sample_rand")]
            if "sample_rate" in extra and extra["sample_rate"] not in ("1", "1.0"):
                problems.append("sample_rate=%s" % extra["sample_rate"])
            if "sample_rand" in extra and not valid_rand(extra["sample_rand"]):
                problems.append("sample_rand=%s" % extra["sample_rand"])
            check(name + ": frozen DSC reaches downstream byte for byte (plus the backfilled "
                  "sample_rate/sample_rand a deciding SDK adds)",
                  d_members[:len(up_members)] == up_members and not problems,
                  "sent %r, received %r %s" % (up_members, d_members, problems))
            # The service's envelope must carry what it propagated.
            expected_dsc = decoded_dsc(d_members)
        else:
            check(name + ": frozen DSC reaches downstream byte for byte",
                  d_members == up_members,
                  "sent %r, received %r" % (up_members, d_members))
            expected_dsc = decoded_dsc(up_members)
        sdk_view = decoded_dsc(sentry_members([down["outgoing"].get("baggage") or ""]))
        # An SDK backfills sample_rand/sample_rate into a DSC that lacks them (deferred
        # sampling); every member that arrived must be kept as it was.
        received = decoded_dsc(d_members)
        check(name + ": downstream SDK keeps the received DSC",
              all(same_value(k, sdk_view.get(k), v) for k, v in received.items())
              and (sampling == "deferred" or sdk_view.keys() == received.keys()),
              "received %r, SDK propagates %r" % (received, sdk_view))

        # What the service sent to Sentry.
        items = self.ingest.for_trace(trace_id)
        if sampling == "unsampled":
            check(name + ": the service sends nothing for an unsampled trace", not items,
                  "%d items: %s" % (len(items), sorted({item_type(r) for r in items})))
            return
        if lifecycle == "static":
            self.check_transaction(name, items, trace_id, up_span, head, d_parent, expected_dsc)
        else:
            self.check_stream(name, items, trace_id, up_span, head, d_parent, expected_dsc)

    def head_dsc_problems(self, dsc, trace_id):
        problems = []
        for key, want in (("trace_id", trace_id), ("public_key", SERVICE_KEY),
                          ("release", RELEASE), ("environment", ENVIRONMENT)):
            if dsc.get(key) != want:
                problems.append("%s=%r (want %r)" % (key, dsc.get(key), want))
        try:
            if float(dsc.get("sample_rate")) != 1.0:
                problems.append("sample_rate=%r" % dsc.get("sample_rate"))
        except (TypeError, ValueError):
            problems.append("sample_rate=%r" % dsc.get("sample_rate"))
        if "sampled" in dsc and dsc["sampled"] != "true":
            problems.append("sampled=%r" % dsc["sampled"])
        if "sample_rand" in dsc and not valid_rand(dsc["sample_rand"]):
            problems.append("sample_rand=%r" % dsc["sample_rand"])
        return problems

    def check_envelope_dsc(self, name, items, expected_dsc):
        headers = [dsc_as_strings((r.get("envelope_header") or {}).get("trace")) for r in items]
        raw_ok = all(isinstance(v, str) for r in items
                     for v in ((r.get("envelope_header") or {}).get("trace") or {}).values())
        self.report.check(
            name + ": envelope header `trace` is the frozen DSC, value for value",
            bool(headers) and all(h == expected_dsc for h in headers) and raw_ok,
            "expected %r, got %r" % (expected_dsc, [(r.get("envelope_header") or {}).get("trace")
                                                   for r in items]))

    def check_transaction(self, name, items, trace_id, up_span, head, d_parent, expected_dsc):
        check = self.report.check
        tx = [r for r in items if item_type(r) == "transaction"]
        ok = check(name + ": one transaction item for the trace", len(tx) == 1,
                   "%d items: %s" % (len(items), [item_type(r) for r in items]))
        if not ok:
            return
        payload = tx[0]["payload"] or {}
        ctx = (payload.get("contexts") or {}).get("trace") or {}
        if head:
            check(name + ": the transaction is a new root (no parent)",
                  not ctx.get("parent_span_id") and ctx.get("trace_id") == trace_id,
                  json.dumps(ctx))
        else:
            check(name + ": the transaction continues the upstream span",
                  ctx.get("trace_id") == trace_id and ctx.get("parent_span_id") == up_span,
                  "trace %s parent %s, upstream span %s"
                  % (ctx.get("trace_id"), ctx.get("parent_span_id"), up_span))
        spans = {ctx.get("span_id")} | {s.get("span_id") for s in payload.get("spans") or []}
        check(name + ": downstream's parent is a span of the service's transaction",
              d_parent in spans, "%s not in %s" % (d_parent, sorted(filter(None, spans))))
        self.check_envelope_dsc(name, tx, expected_dsc)

    def check_stream(self, name, items, trace_id, up_span, head, d_parent, expected_dsc):
        check = self.report.check
        tx = [r for r in items if item_type(r) == "transaction"]
        span_records = [r for r in items if item_type(r) == "span"]
        check(name + ": span items only, no transaction", span_records and not tx,
              "%d span items, %d transactions" % (len(span_records), len(tx)))
        if not span_records:
            return
        shape = []
        spans = []
        for r in span_records:
            header, payload = r["item_header"], r.get("payload") or {}
            listed = payload.get("items") if isinstance(payload, dict) else None
            if header.get("content_type") != SPAN_CONTENT_TYPE:
                shape.append("content_type %r" % header.get("content_type"))
            if payload.get("version") != 2 or not isinstance(listed, list) or not listed:
                shape.append("payload version/items %r" % payload.get("version"))
                continue
            if header.get("item_count") != len(listed):
                shape.append("item_count %r for %d spans" % (header.get("item_count"), len(listed)))
            spans.extend(listed)
        per_envelope = {}
        for r in self.ingest.records(SERVICE_KEY):
            if item_type(r) == "span" and r in span_records:
                per_envelope[r.get("envelope_header_raw")] = per_envelope.get(
                    r.get("envelope_header_raw"), 0) + 1
        if any(n != 1 for n in per_envelope.values()):
            shape.append("span items per envelope %r" % sorted(per_envelope.values()))
        if any(not 1 <= len((r.get("payload") or {}).get("items") or []) <= 1000
               for r in span_records):
            shape.append("a span item outside 1..1000 spans")
        check(name + ": span items are span v2 containers (content type, item_count, version 2, "
              "1 to 1,000 spans, one span item per envelope)", not shape, "; ".join(shape))
        check(name + ": every streamed span has the trace id",
              spans and all(s.get("trace_id") == trace_id for s in spans),
              repr(sorted({s.get("trace_id") for s in spans})))
        segments = [s for s in spans if s.get("is_segment") is True]
        ok = check(name + ": exactly one segment span", len(segments) == 1,
                   "%d segments" % len(segments))
        ids = {s.get("span_id") for s in spans}
        if ok:
            segment = segments[0]
            if head:
                check(name + ": the segment is a new root (no parent)",
                      not segment.get("parent_span_id"), repr(segment.get("parent_span_id")))
            else:
                check(name + ": the segment continues the upstream span",
                      segment.get("parent_span_id") == up_span,
                      "parent %r, upstream span %s" % (segment.get("parent_span_id"), up_span))
            orphans = [s.get("span_id") for s in spans
                       if s is not segment and s.get("parent_span_id") not in ids]
            check(name + ": every other span's parent is a streamed span of the trace",
                  not orphans, "orphans %r" % orphans)
            self.check_span_fields(name, spans, segment)
        check(name + ": downstream's parent is a streamed span of the service",
              d_parent in ids, "%s not in %s" % (d_parent, sorted(filter(None, ids))))
        self.check_envelope_dsc(name, span_records, expected_dsc)

    def check_span_fields(self, name, spans, segment):
        check = self.report.check
        problems = []

        def attr(span, key):
            value = (span.get("attributes") or {}).get(key)
            if not isinstance(value, dict) or "type" not in value or "value" not in value:
                return None
            return value["value"]

        for span in spans:
            sid = span.get("span_id")
            for key in COMMON_ATTRIBUTES:
                if attr(span, key) is None:
                    problems.append("%s lacks typed %s" % (sid, key))
            if attr(span, "sentry.segment.id") not in (None, segment.get("span_id")):
                problems.append("%s: sentry.segment.id %r" % (sid, attr(span, "sentry.segment.id")))
            if attr(span, "sentry.segment.name") not in (None, segment.get("name")):
                problems.append("%s: sentry.segment.name %r" % (sid, attr(span, "sentry.segment.name")))
            if attr(span, "sentry.release") not in (None, RELEASE):
                problems.append("%s: sentry.release %r" % (sid, attr(span, "sentry.release")))
            if attr(span, "sentry.environment") not in (None, ENVIRONMENT):
                problems.append("%s: sentry.environment %r"
                                % (sid, attr(span, "sentry.environment")))
            if attr(span, "sentry.trace_lifecycle") not in (None, "stream"):
                problems.append("%s: sentry.trace_lifecycle %r"
                                % (sid, attr(span, "sentry.trace_lifecycle")))
            if span.get("status") not in ("ok", "error"):
                problems.append("%s: status %r" % (sid, span.get("status")))
            start, end = span.get("start_timestamp"), span.get("end_timestamp")
            if not (isinstance(start, float) and isinstance(end, float) and end >= start):
                problems.append("%s: timestamps %r..%r" % (sid, start, end))
            if not span.get("name"):
                problems.append("%s: no name" % sid)
            if span is not segment and span.get("is_segment") is not False:
                problems.append("%s: is_segment %r" % (sid, span.get("is_segment")))
        for key in SEGMENT_ATTRIBUTES:
            if attr(segment, key) is None:
                problems.append("segment lacks typed %s" % key)
        check(name + ": span fields and segment attributes (spec)", not problems,
              "; ".join(problems[:8]))


    # -- logs and metrics ------------------------------------------------------------------

    def run_telemetry(self, lifecycle):
        """The service (with SENTRY_ENABLE_LOGS=true) and both peers send the same log and the
        same three metrics, each continuing a trace of its own; their items are compared."""
        name = "[%s] telemetry" % lifecycle
        try:
            got = self.collect_telemetry(lifecycle)
        except Exception as err:  # a crash is a failure, not a traceback
            self.report.check(name + ": log and metrics sent", False,
                              "%s: %s" % (type(err).__name__, err))
            return
        if got is None:
            self.report.skip(name, "the service has no GET /telemetry (404)")
            return
        with open(os.path.join(self.out, "telemetry-samples-%s.json" % lifecycle), "w") as f:
            json.dump(got, f, indent=2, sort_keys=True)
        try:
            self.check_telemetry(name, got)
        except Exception as err:
            self.report.check(name + " checks ran", False, "%s: %s" % (type(err).__name__, err))

    def collect_telemetry(self, lifecycle):
        traces = {who: os.urandom(16).hex() for who, _ in TELEMETRY_SENDERS}
        parents = {who: os.urandom(8).hex() for who, _ in TELEMETRY_SENDERS}
        header = lambda who: "%s-%s-1" % (traces[who], parents[who])
        # A service of its own: logs on, so that /call's events stay out of the other checks.
        proc, base = self.start_service(lifecycle, "node", name="telemetry",
                                        extra={"SENTRY_ENABLE_LOGS": "true"})
        try:
            status, _ = http_get(base + "/telemetry", headers={"sentry-trace": header("rust")})
            if status == 404:
                return None
            if status != 200:
                raise RuntimeError("GET /telemetry answered %s" % status)
            http_get(base + "/flush", timeout=10)
        finally:
            self.procs.stop(proc)
        ids = {"rust": {"trace_id": traces["rust"], "span_id": None}}
        for who, key in TELEMETRY_SENDERS[1:]:
            env = self.base_env(key)
            env["SENTRY_TRACE_LIFECYCLE"] = lifecycle
            argv = ([self.node, os.path.join(HERE, "node_peer.js")] if who == "node"
                    else [self.python, os.path.join(HERE, "py_peer.py")])
            done = subprocess.run(argv + ["telemetry", header(who)], env=env,
                                  capture_output=True, timeout=30, text=True)
            if done.returncode != 0:
                raise RuntimeError("%s telemetry peer failed: %s" % (who, done.stderr[-2000:]))
            ids[who] = json.loads(done.stdout.strip().splitlines()[-1])

        def items(who, key, ty):
            return [r for r in self.ingest.records(key)
                    if item_type(r) == ty and traces[who] in item_trace_ids(r)]

        def arrived():
            return all(items(who, key, "log") and sum(
                len((r.get("payload") or {}).get("items") or [])
                for r in items(who, key, "trace_metric")) >= len(TELEMETRY_METRICS)
                for who, key in TELEMETRY_SENDERS)

        wait_for(arrived, self.wait)
        got = {}
        for who, key in TELEMETRY_SENDERS:
            got[who] = dict(trace_id=traces[who], parent_span_id=parents[who],
                            span_id=ids[who].get("span_id"),
                            log=[strip_record(r) for r in items(who, key, "log")],
                            trace_metric=[strip_record(r) for r in items(who, key, "trace_metric")])
        return got

    def check_telemetry(self, name, got):
        check, note = self.report.check, self.report.note
        missing = ["%s %s" % (who, ty) for who in got for ty in ("log", "trace_metric")
                   if not got[who][ty]]
        if not check(name + ": the service, sentry-sdk and @sentry/node each sent a log item "
                     "and a trace_metric item", not missing, "none from " + ", ".join(missing)):
            return
        for ty, content_type in (("log", LOG_CONTENT_TYPE), ("trace_metric", METRIC_CONTENT_TYPE)):
            problems = []
            for who in got:
                for r in got[who][ty]:
                    header, payload = r["item_header"], r.get("payload") or {}
                    listed = payload.get("items") if isinstance(payload, dict) else None
                    if header.get("content_type") != content_type:
                        problems.append("%s content_type %r" % (who, header.get("content_type")))
                    if not isinstance(listed, list) or header.get("item_count") != len(listed):
                        problems.append("%s item_count %r" % (who, header.get("item_count")))
                    if not isinstance(payload, dict) or sorted(payload) != ["items", "version"] \
                            or payload.get("version") != 2:
                        problems.append("%s container keys %r version %r" % (
                            who, sorted(payload) if isinstance(payload, dict) else payload,
                            payload.get("version") if isinstance(payload, dict) else None))
            check(name + ": %s items: content type %s, item_count, container "
                  "{\"version\": 2, \"items\"} (all three)" % (ty, content_type),
                  not problems, "; ".join(problems[:6]))
        headers = {who: sorted((got[who]["log"][0].get("envelope_header") or {}).keys())
                   for who in got}
        check(name + ": no DSC (`trace`) in the envelope header of log/metric envelopes (all "
              "three)", all("trace" not in (r.get("envelope_header") or {})
                            for who in got for ty in ("log", "trace_metric")
                            for r in got[who][ty]), repr(headers))
        note(["envelope header keys: " + ", ".join("%s %s" % (w, h) for w, h in headers.items())])
        self.check_telemetry_logs(name, got)
        self.check_telemetry_metrics(name, got)
        self.report.skip(name + ": Relay normaliser on log and trace_metric items", RELAY_SKIP)

    def check_telemetry_logs(self, name, got):
        check, note = self.report.check, self.report.note
        logs = {who: [l for r in got[who]["log"] for l in (r.get("payload") or {}).get("items")
                      or [] if l.get("body") == "interop log"] for who in got}
        if not check(name + ": one \"interop log\" log from each sender",
                     all(len(v) == 1 for v in logs.values()),
                     repr({w: len(v) for w, v in logs.items()})):
            return
        log = {who: v[0] for who, v in logs.items()}
        ours = log["rust"]
        # Values: trace, span, level, severity, body.
        problems = []
        for who, item in log.items():
            attrs = as_dict(item.get("attributes"))
            span = item.get("span_id") or as_dict(attrs.get("sentry.trace.parent_span_id")).get(
                "value")
            if item.get("trace_id") != got[who]["trace_id"]:
                problems.append("%s trace_id %r" % (who, item.get("trace_id")))
            if not (isinstance(span, str) and len(span) == 16 and span != got[who]["parent_span_id"]
                    and (got[who]["span_id"] in (None, span))):
                problems.append("%s span %r (peer's %r)" % (who, span, got[who]["span_id"]))
            severity = item.get("severity_number",
                                as_dict(attrs.get("sentry.severity_number")).get("value"))
            if item.get("level") != "info" or severity != 9:
                problems.append("%s level %r severity %r" % (who, item.get("level"), severity))
            if not isinstance(item.get("timestamp"), float):
                problems.append("%s timestamp %r" % (who, item.get("timestamp")))
        check(name + ": each log has its trace id, the span it was recorded in (not the caller's), "
              "level info, severity number 9, a float timestamp", not problems,
              "; ".join(problems))
        # Top-level keys and their types.
        unexpected, intended = [], []
        for sdk in ("python", "node"):
            u, i = key_differences("log-key", sdk, ours, log[sdk])
            unexpected += u
            intended += i
            for key in set(ours) & set(log[sdk]):
                if json_type(ours[key]) != json_type(log[sdk][key]):
                    unexpected.append("%s: %s vs %s %s" % (key, json_type(ours[key]), SDK_LABEL[sdk],
                                                          json_type(log[sdk][key])))
        check(name + ": log keys and their JSON types match sentry-sdk's and @sentry/node's "
              "(intended differences listed)", not unexpected, "; ".join(unexpected))
        note(intended)
        self.check_attributes(name + ": log", "log-attr", {w: [l] for w, l in log.items()},
                              TELEMETRY_LOG_ATTRIBUTES)
        attrs = as_dict(ours.get("attributes"))
        value = lambda key: as_dict(attrs.get(key)).get("value")
        check(name + ": our log's sentry.origin is auto.log.tracing, severity text info",
              value("sentry.origin") == "auto.log.tracing" and value("sentry.severity_text") == "info",
              repr({k: value(k) for k in ("sentry.origin", "sentry.severity_text")}))

    def check_telemetry_metrics(self, name, got):
        check = self.report.check
        metrics = {who: {m.get("name"): m for r in got[who]["trace_metric"]
                         for m in (r.get("payload") or {}).get("items") or []} for who in got}
        missing = ["%s %s" % (who, n) for who in metrics for n in TELEMETRY_METRICS
                   if n not in metrics[who]]
        if not check(name + ": a counter, a gauge and a distribution from each sender",
                     not missing, "missing " + ", ".join(missing)):
            return
        problems = []
        for who in metrics:
            for metric_name, (kind, value, unit) in TELEMETRY_METRICS.items():
                m = metrics[who][metric_name]
                if m.get("type") != kind or m.get("value") != value or m.get("unit") != unit:
                    problems.append("%s %s: type %r value %r unit %r" % (
                        who, metric_name, m.get("type"), m.get("value"), m.get("unit")))
                span = m.get("span_id")
                if m.get("trace_id") != got[who]["trace_id"] or not (
                        isinstance(span, str) and len(span) == 16
                        and span != got[who]["parent_span_id"]
                        and got[who]["span_id"] in (None, span)):
                    problems.append("%s %s: trace %r span %r" % (who, metric_name,
                                                                m.get("trace_id"), span))
                if not isinstance(m.get("timestamp"), float):
                    problems.append("%s %s: timestamp %r" % (who, metric_name, m.get("timestamp")))
        check(name + ": each metric's type, value, unit, trace id and span id (all three)",
              not problems, "; ".join(problems[:6]))
        unexpected, intended = [], []
        for metric_name in TELEMETRY_METRICS:
            ours = metrics["rust"][metric_name]
            for sdk in ("python", "node"):
                theirs = metrics[sdk][metric_name]
                u, i = key_differences("metric-key", sdk, ours, theirs)
                unexpected += ["%s %s" % (metric_name, x) for x in u]
                intended += i
                for key in set(ours) & set(theirs):
                    a, b = json_type(ours[key]), json_type(theirs[key])
                    # JavaScript has one number type: @sentry/node writes 1 for 1.0.
                    if a != b and not (key == "value" and sdk == "node"
                                       and {a, b} <= {"integer", "double"}):
                        unexpected.append("%s %s: %s vs %s %s" % (metric_name, key, a,
                                                                  SDK_LABEL[sdk], b))
        check(name + ": metric keys and their JSON types match sentry-sdk's and @sentry/node's "
              "for each type (the value a double, as sentry-sdk writes it)",
              not unexpected, "; ".join(unexpected))
        self.report.note(sorted(set(intended)))
        self.check_attributes(name + ": metric", "metric-attr",
                              {w: list(m.values()) for w, m in metrics.items()},
                              {"interop.route": "string"})

    def check_attributes(self, name, kind, items, user):
        """Typed attributes: valid {type, value} on every item of every sender; the user's
        attributes with the same types; the common sentry.* ones; key sets per INTENDED."""
        check = self.report.check
        problems = ["%s: %s" % (who, p) for who in items for item in items[who]
                    for p in attribute_problems(item)]
        check(name + " attributes are {type, value} with a value of that type (all three)",
              not problems, "; ".join(problems[:6]))
        problems = []
        expected = {"sentry.sdk.name": None, "sentry.sdk.version": None,
                    "sentry.release": RELEASE, "sentry.environment": ENVIRONMENT}
        for who in items:
            for item in items[who]:
                attrs = as_dict(item.get("attributes"))
                for key, ty in list(user.items()) + [(k, "string") for k in expected]:
                    if as_dict(attrs.get(key)).get("type") != ty:
                        problems.append("%s %s: %r" % (who, key, attrs.get(key)))
                if who == "rust":
                    for key, want in expected.items():
                        if want and as_dict(attrs.get(key)).get("value") != want:
                            problems.append("%s %s: %r" % (who, key, attrs.get(key)))
        check(name + " attributes: the user's with the same types, sentry.sdk.name/version, "
              "sentry.release, sentry.environment (all three; ours the service's)",
              not problems, "; ".join(problems[:6]))
        unexpected, intended = [], []
        for sdk in ("python", "node"):
            for ours, theirs in zip(items["rust"], items[sdk]):
                u, i = key_differences(kind, sdk, ours.get("attributes") or {},
                                       theirs.get("attributes") or {})
                unexpected += u
                intended += i
        check(name + " attribute keys match sentry-sdk's and @sentry/node's (intended "
              "differences listed)", not unexpected, "; ".join(sorted(set(unexpected))))
        self.report.note(sorted(set(intended)))

    # -- whole run ---------------------------------------------------------------------------

    def stream_supported(self, results):
        """False when the service answered the stream run with transactions and no spans."""
        traces = [self.expected_trace(r) for r in results if r["scenario"][3] != "unsampled"]
        items = [r for t in traces if t for r in self.ingest.for_trace(t)]
        return not (items and not any(item_type(r) == "span" for r in items)
                    and any(item_type(r) == "transaction" for r in items))

    def run(self):
        lifecycles = ["static", "stream"] if self.args.lifecycle == "both" else [self.args.lifecycle]
        print("interop: output in %s" % self.out, flush=True)
        self.start_infrastructure()
        for lifecycle in lifecycles:
            downstreams = self.start_downstreams(lifecycle)
            try:
                runs = [(sdk,) + self.run_direction(lifecycle, sdk) for sdk in ("python", "node")]
            finally:
                for proc in downstreams:
                    self.procs.stop(proc)
            if lifecycle == "stream" and not all(self.stream_supported(r) for _, r, _ in runs):
                why = ("the service sent transaction items and no span items with "
                       "SENTRY_TRACE_LIFECYCLE=stream: it does not support the stream lifecycle")
                if self.args.lifecycle == "both":
                    self.report.skip("[stream] all scenarios", why)
                    continue
                self.report.check("[stream] the service streams spans", False, why)
                continue
            for sdk, results, downstream_sdk in runs:
                self.check_direction(lifecycle, sdk, results, downstream_sdk)
            self.run_telemetry(lifecycle)
        self.check_ingest()

    def save_span_samples(self):
        """Keep one streamed segment and one child span per sender, to compare what the SDKs
        put in span v2 items (out/span-samples.json)."""
        samples = {}
        for r in self.ingest.records():
            if item_type(r) != "span":
                continue
            for span in (r.get("payload") or {}).get("items") or []:
                kind = "segment" if span.get("is_segment") else "child"
                samples.setdefault(r.get("sentry_key"), {}).setdefault(kind, dict(
                    envelope_header=r.get("envelope_header"), item_header=r.get("item_header"),
                    span=span))
        with open(os.path.join(self.out, "span-samples.json"), "w") as f:
            json.dump(samples, f, indent=2, sort_keys=True)

    def check_ingest(self):
        self.save_span_samples()
        records = self.ingest.records()
        errors = ["%s (key %s, %s)" % (r["error"], r.get("sentry_key"), r.get("content_encoding"))
                  for r in records if "error" in r]
        self.report.check("ingest: every envelope parsed (encodings seen: %s)"
                          % ", ".join(sorted({r.get("content_encoding") or "identity"
                                              for r in records})),
                          records and not errors, "; ".join(errors[:3]))
        service = self.ingest.records(SERVICE_KEY)
        self.report.check("ingest: the service authenticates with its DSN's key",
                          bool(service) and all(r.get("project") == "1" for r in service),
                          "%d items from %s" % (len(service), SERVICE_KEY))
        # The fake ingest understands what the real SDKs send, too.
        for key, sdk in (("pykey", "sentry-sdk"), ("nodekey", "@sentry/node")):
            kinds = sorted({item_type(r) for r in self.ingest.records(key)} - {None})
            self.report.check("ingest: parses the envelopes %s itself sends (%s)"
                              % (sdk, ", ".join(kinds) or "none"),
                              bool({"transaction", "span"} & set(kinds)))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--service", required=True,
                        help="command that starts the example service (split like a shell)")
    parser.add_argument("--lifecycle", choices=("static", "stream", "both"), default="both",
                        help="the service's SENTRY_TRACE_LIFECYCLE; 'both' skips stream when "
                             "the service does not support it")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--node", default="node")
    parser.add_argument("--out", help="output folder (default: a new temporary folder)")
    args = parser.parse_args()
    # SIGTERM/SIGINT unwind through `finally`, so the children are stopped by PID.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda n, _frame: sys.exit(128 + n))
    suite = Suite(args)
    try:
        suite.run()
    except Exception as err:
        suite.report.check("suite ran to the end", False, "%s: %s" % (type(err).__name__, err))
    finally:
        suite.procs.stop_all()
    r = suite.report
    print("%d passed, %d failed" % (r.passed, r.failed), flush=True)
    sys.exit(0 if r.failed == 0 and r.passed > 0 else 1)


if __name__ == "__main__":
    main()
