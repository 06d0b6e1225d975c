// A peer of the service built on the real `@sentry/node` (version pinned in package.json).
//
//   node node_peer.js client URL --mode manual|auto --sampling sampled|unsampled|deferred
//       Upstream: starts a trace and GETs URL with the SDK's trace headers plus third-party
//       baggage (acme-tenant=t42,vendor-flag=on); prints one JSON line describing what was sent
//       and what came back.
//       manual: tracePropagationTargets is [] and the headers come from Sentry.getTraceData()
//               inside an http.client span (the SDK's documented custom-instrumentation path),
//               third-party members first in one `baggage` field.
//       auto:   the SDK's own http instrumentation injects the headers into a request that
//               already carries the third-party `baggage`.
//       sampled/unsampled: tracesSampleRate 1 / 0; deferred: no tracesSampleRate (tracing
//       without performance: `sentry-trace` without a sampled flag).
//   node node_peer.js server PORT_FILE LOG_JSONL
//       Downstream: an http server auto-instrumented by the SDK; for each request it appends
//       one JSON line with the raw trace headers and what the SDK continued.
//   node node_peer.js telemetry SENTRY_TRACE
//       Telemetry: continues SENTRY_TRACE in a span and, inside it, sends one log through
//       Sentry.logger.info and one metric of each type through Sentry.metrics.count/gauge/
//       distribution (enableLogs: true), the same values the service records from `tracing`
//       events; prints one JSON line with the trace and span the SDK used.
//
// SENTRY_DSN points at the fake ingest (key `nodekey`); SENTRY_TRACE_LIFECYCLE picks the
// SDK's own lifecycle (the SDK reads it itself). Only 127.0.0.1 is used.

'use strict';

const fs = require('fs');
const Sentry = require('@sentry/node');

const THIRD_PARTY = 'acme-tenant=t42,vendor-flag=on';
const [role, ...args] = process.argv.slice(2);

function opt(name, fallback) {
  const i = args.indexOf('--' + name);
  return i >= 0 ? args[i + 1] : fallback;
}

// Never outlive a stuck run.
setTimeout(() => process.exit(3), Number(process.env.INTEROP_MAX_SECONDS || 600) * 1000).unref();

const mode = opt('mode', 'manual');
const sampling = opt('sampling', 'sampled');
const options = {
  dsn: process.env.SENTRY_DSN,
  release: 'interop-node@11',
  environment: 'interop-node',
};
if (role === 'client') {
  if (sampling !== 'deferred') options.tracesSampleRate = sampling === 'sampled' ? 1.0 : 0.0;
  if (mode === 'manual') options.tracePropagationTargets = [];
} else {
  options.tracesSampleRate = 1.0;
}
if (role === 'telemetry') {
  options.enableLogs = true;
}
Sentry.init(options);

// Required after init so that the SDK instruments it.
const http = require('http');

function headerFields(rawHeaders, name) {
  const out = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() === name) out.push(rawHeaders[i + 1]);
  }
  return out;
}

function get(url, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'GET', headers, timeout: 20000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({ sent: req.getHeaders(), status: res.statusCode, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function client(url) {
  let result;
  const call = async () => {
    if (mode === 'manual') {
      const data = Sentry.getTraceData();
      const baggage = [THIRD_PARTY, data.baggage].filter(Boolean).join(',');
      return get(url, { 'sentry-trace': data['sentry-trace'], baggage });
    }
    return get(url, { baggage: THIRD_PARTY });
  };
  if (sampling === 'deferred') {
    result = await call();
  } else if (mode === 'manual') {
    result = await Sentry.startSpan({ name: 'node upstream', forceTransaction: true }, () =>
      Sentry.startSpan({ name: 'GET ' + url, op: 'http.client' }, call),
    );
  } else {
    result = await Sentry.startSpan({ name: 'node upstream', forceTransaction: true }, call);
  }
  await Sentry.flush(5000);
  const sent = result.sent;
  const trace = String(sent['sentry-trace'] || '');
  const baggage = [].concat(sent.baggage || []);
  process.stdout.write(
    JSON.stringify({
      sdk: 'node',
      sdk_version: Sentry.SDK_VERSION,
      sentry_trace_sent: trace,
      baggage_fields_sent: baggage.map(String),
      status: result.status,
      body: result.body,
    }) + '\n',
  );
}

function server(portFile, logPath) {
  const srv = http.createServer((req, res) => {
    const span = Sentry.getActiveSpan();
    const json = span ? Sentry.spanToJSON(span) : {};
    const ctx = span ? span.spanContext() : {};
    const record = {
      sdk: 'node',
      sdk_version: Sentry.SDK_VERSION,
      path: req.url,
      sentry_trace_fields: headerFields(req.rawHeaders, 'sentry-trace'),
      baggage_fields: headerFields(req.rawHeaders, 'baggage'),
      continued: {
        trace_id: json.trace_id || null,
        parent_span_id: json.parent_span_id || null,
        sampled: span ? (ctx.traceFlags & 1) === 1 : null,
      },
      // What the SDK would propagate from here: its view of the trace's DSC.
      outgoing: Sentry.getTraceData(),
    };
    fs.appendFileSync(logPath, JSON.stringify(record) + '\n');
    const body = JSON.stringify({ ok: true, by: 'node' });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  srv.listen(0, '127.0.0.1', () => {
    fs.writeFileSync(portFile + '.tmp', String(srv.address().port));
    fs.renameSync(portFile + '.tmp', portFile);
  });
}

// The values the service records in GET /telemetry (examples/interop_service.rs).
const LOG_ATTRIBUTES = { 'interop.count': 3, 'interop.ratio': 0.5, 'interop.flag': true };
const METRIC_ATTRIBUTES = { 'interop.route': '/telemetry' };

async function telemetry(sentryTrace) {
  const ids = Sentry.continueTrace({ sentryTrace, baggage: undefined }, () =>
    Sentry.startSpan({ name: 'node telemetry', op: 'function' }, (span) => {
      Sentry.logger.info('interop log', { ...LOG_ATTRIBUTES, 'interop.name': 'node' });
      Sentry.metrics.count('interop.requests', 1, { attributes: METRIC_ATTRIBUTES });
      Sentry.metrics.gauge('interop.queue_depth', 42, { attributes: METRIC_ATTRIBUTES });
      Sentry.metrics.distribution('interop.duration', 12.5, {
        unit: 'millisecond',
        attributes: METRIC_ATTRIBUTES,
      });
      const ctx = span.spanContext();
      return { trace_id: ctx.traceId, span_id: ctx.spanId };
    }),
  );
  await Sentry.flush(5000);
  process.stdout.write(JSON.stringify({ sdk: 'node', sdk_version: Sentry.SDK_VERSION, ...ids }) + '\n');
}

if (role === 'telemetry') {
  telemetry(args[0]).catch((err) => {
    process.stderr.write(String(err && err.stack) + '\n');
    process.exit(1);
  });
} else if (role === 'client') {
  client(args[0]).catch((err) => {
    process.stderr.write(String(err && err.stack) + '\n');
    process.exit(1);
  });
} else if (role === 'server') {
  server(args[0], args[1]);
} else {
  process.stderr.write('usage: node_peer.js client URL [...] | server PORT_FILE LOG | telemetry SENTRY_TRACE\n');
  process.exit(2);
}
