#!/usr/bin/env node
// Feeds Sentry envelopes to a Spotlight sidecar and checks that a reader sees them unchanged.
// Node.js >= 20, no packages. See spotlight/README.md.
//
//   node spotlight/check.mjs [options] FILE...      # each FILE holds one envelope
//
//   --url URL       the sidecar's envelope URL (default http://localhost:8969/stream)
//   --no-post       only read: FILEs were POSTed by someone else (the SDK under test)
//   --since-ms MS   count only envelopes the sidecar received at or after this Unix time (ms);
//                   with POSTing, the default is the moment before the first POST
//   --gzip          POST with Content-Encoding: gzip (the SDKs send plain envelopes)
//   --timeout S     how long to wait for the reader (default 10)
//   --self-test     run the checks against faults (an altered envelope, a missing POST,
//                   a stale copy): each must fail
//
// The reader is the sidecar's Server-Sent Events stream, GET /stream, which the Spotlight
// UI also reads: one SSE message per envelope, `id` the sidecar's UUIDv7 for it (time-
// ordered), `event` the Content-Type it was POSTed with, `data` the parsed envelope as
// JSON `[header, [[itemHeader, payload], ...]]`. A new subscriber first gets the backlog.
//
// Prints PASS/FAIL per check and `N passed, M failed` last; exits 0 only when all passed.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { isDeepStrictEqual } from "node:util";

const ENVELOPE_TYPE = "application/x-sentry-envelope";

function usage(message) {
  if (message) console.error(`check: ${message}`);
  console.error("usage: node spotlight/check.mjs [--url URL] [--no-post] [--since-ms MS] [--gzip] [--timeout S] [--self-test] FILE...");
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { url: "http://localhost:8969/stream", post: true, sinceMs: null, gzip: false, timeoutS: 10, selfTest: false, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === "--url") opts.url = value();
    else if (a === "--no-post") opts.post = false;
    else if (a === "--since-ms") opts.sinceMs = Number(value());
    else if (a === "--gzip") opts.gzip = true;
    else if (a === "--timeout") opts.timeoutS = Number(value());
    else if (a === "--self-test") opts.selfTest = true;
    else if (a === "-h" || a === "--help") usage();
    else if (a.startsWith("-")) usage(`unknown option ${a}`);
    else opts.files.push(a);
  }
  if (opts.files.length === 0) usage("no envelope file given");
  if (!Number.isFinite(opts.timeoutS) || opts.timeoutS <= 0) usage("--timeout must be a positive number");
  if (opts.sinceMs !== null && !Number.isFinite(opts.sinceMs)) usage("--since-ms must be a number");
  return opts;
}

// Parses one envelope (header line, then items: a header line and a payload of `length`
// bytes, or up to the next newline). Throws with a reason on malformed input.
function parseEnvelope(bytes) {
  let pos = 0;
  const line = (length) => {
    let end;
    if (length === undefined) {
      end = bytes.indexOf(0x0a, pos);
      if (end < 0) end = bytes.length;
    } else {
      end = pos + length;
      if (end > bytes.length) throw new Error(`item payload of ${length} bytes runs past the end`);
    }
    const out = bytes.subarray(pos, end);
    pos = end + 1;
    return out;
  };
  const json = (buf, what) => {
    try {
      return JSON.parse(buf.toString("utf8"));
    } catch (e) {
      throw new Error(`${what} is not JSON: ${e.message}`);
    }
  };
  const header = json(line(), "envelope header");
  const items = [];
  while (pos < bytes.length) {
    const raw = line();
    if (raw.length === 0) continue; // a trailing newline
    const itemHeader = json(raw, `item ${items.length} header`);
    if (typeof itemHeader.type !== "string") throw new Error(`item ${items.length} header has no type`);
    const payload = json(line(itemHeader.length), `item ${items.length} (${itemHeader.type}) payload`);
    items.push([itemHeader, payload]);
  }
  if (items.length === 0) throw new Error("no items");
  return [header, items];
}

// The sidecar adds `type` (the item type) to every JSON payload and `__spotlight_*` keys to
// the envelope header; everything else must come back as sent.
function sameEnvelope(sent, seen) {
  if (!Array.isArray(seen) || seen.length !== 2 || !Array.isArray(seen[1])) return "not an envelope";
  const header = Object.fromEntries(Object.entries(seen[0] ?? {}).filter(([k]) => !k.startsWith("__spotlight_")));
  if (!isDeepStrictEqual(header, sent[0])) return "the envelope header differs";
  if (seen[1].length !== sent[1].length) return `${seen[1].length} items, not ${sent[1].length}`;
  for (let i = 0; i < sent[1].length; i++) {
    const [sh, sp] = sent[1][i];
    const [rh, rp] = seen[1][i];
    if (!isDeepStrictEqual(rh, sh)) return `item ${i} header differs`;
    if (!isDeepStrictEqual(rp, { ...sp, type: sh.type })) return `item ${i} (${sh.type}) payload differs`;
  }
  return null;
}

// A UUIDv7's first 48 bits are its Unix time in milliseconds.
function uuidv7Ms(id) {
  const hex = String(id).replace(/-/g, "");
  return /^[0-9a-f]{32}$/i.test(hex) ? parseInt(hex.slice(0, 12), 16) : NaN;
}

function describe([header, items]) {
  return items
    .map(([h, p]) => {
      if (h.type === "transaction") {
        const trace = p?.contexts?.trace?.trace_id ?? header?.trace?.trace_id ?? "?";
        return `transaction "${p?.transaction}" (trace ${trace}, ${Array.isArray(p?.spans) ? p.spans.length : 0} child spans)`;
      }
      return h.type;
    })
    .join(" + ");
}

async function post(url, body, gzip) {
  const headers = { "Content-Type": ENVELOPE_TYPE };
  if (gzip) headers["Content-Encoding"] = "gzip";
  const res = await fetch(url, { method: "POST", headers, body: gzip ? gzipSync(body) : body, signal: AbortSignal.timeout(5000) });
  await res.arrayBuffer();
  return res.status;
}

// Reads the SSE stream until `done(messages)` is true or the deadline passes.
async function readStream(url, timeoutS, done) {
  const streamUrl = new URL(url);
  streamUrl.searchParams.set("client", "tracing-sentry-check");
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutS * 1000);
  const messages = [];
  let error = null;
  try {
    const res = await fetch(streamUrl, { headers: { Accept: "text/event-stream" }, signal: abort.signal });
    if (res.status !== 200) throw new Error(`GET ${streamUrl} answered ${res.status}`);
    const decoder = new TextDecoder();
    let buffered = "";
    let current = { id: "", event: "message", data: [] };
    for await (const chunk of res.body) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = buffered.search(/\r?\n/)) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + (buffered[nl] === "\r" ? 2 : 1));
        if (line === "") {
          if (current.data.length) messages.push({ id: current.id, event: current.event, data: current.data.join("\n") });
          current = { id: current.id, event: "message", data: [] };
          continue;
        }
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "id") current.id = value;
        else if (field === "event") current.event = value;
        else if (field === "data") current.data.push(value);
      }
      if (done(messages)) break;
    }
  } catch (e) {
    if (!abort.signal.aborted) error = e;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return { messages, error };
}

// One run of the checks. `fault` makes it misbehave on purpose for --self-test.
async function run(opts, report, fault = null) {
  const envelopes = [];
  for (const file of opts.files) {
    try {
      const bytes = readFileSync(file);
      const parsed = parseEnvelope(bytes);
      envelopes.push({ file, bytes, parsed });
      report(true, `${file} is an envelope: ${describe(parsed)}`);
    } catch (e) {
      report(false, `${file} is an envelope: ${e.message}`);
    }
  }
  if (envelopes.length === 0) return;

  let since = opts.sinceMs;
  if (opts.post && fault !== "no-post") {
    since ??= Date.now() - 1; // the sidecar's clock is this machine's clock
    for (const env of envelopes) {
      let body = env.bytes;
      if (fault === "altered") body = Buffer.from(body.toString("utf8").replace(/"op": ?"([^"]+)"/, '"op": "$1.altered"'));
      try {
        const status = await post(opts.url, body, opts.gzip);
        report(status === 200, `POST ${opts.url}${opts.gzip ? " (gzip)" : ""} took ${env.file}: HTTP ${status}`);
      } catch (e) {
        report(false, `POST ${opts.url} took ${env.file}: ${e.cause?.code ?? e.message}`);
      }
    }
  } else if (fault === "no-post") {
    since ??= Date.now() - 1;
  }
  if (fault === "stale") since = Date.now() + 60_000;

  const fresh = (m) => since === null || uuidv7Ms(m.id) >= since;
  const found = (messages, env) =>
    messages.find((m) => {
      if (m.event !== ENVELOPE_TYPE || !fresh(m)) return false;
      try {
        return sameEnvelope(env.parsed, JSON.parse(m.data)) === null;
      } catch {
        return false;
      }
    });
  const { messages, error } = await readStream(opts.url, opts.timeoutS, (ms) => envelopes.every((env) => found(ms, env)));
  if (error) report(false, `reader GET ${opts.url}: ${error.cause?.code ?? error.message}`);
  for (const env of envelopes) {
    const hit = found(messages, env);
    if (hit) {
      report(true, `reader sees ${env.file} unchanged (sidecar id ${hit.id})`);
      continue;
    }
    // Say why: the nearest candidate by event id or trace id.
    const eventId = env.parsed[0]?.event_id;
    const near = messages
      .filter((m) => m.event === ENVELOPE_TYPE)
      .map((m) => {
        try {
          return { m, env: JSON.parse(m.data) };
        } catch {
          return null;
        }
      })
      .filter((c) => c && eventId && c.env?.[0]?.event_id === eventId);
    const freshNear = near.filter((c) => fresh(c.m));
    const why = freshNear.length
      ? [...new Set(freshNear.map((c) => sameEnvelope(env.parsed, c.env)))].join("; ")
      : near.length
        ? `only ${near.length} cop${near.length === 1 ? "y" : "ies"} received before ${new Date(since).toISOString()}`
        : `no envelope with event id ${eventId ?? "(none)"} among ${messages.length} read`;
    report(false, `reader sees ${env.file} unchanged: ${why}`);
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  let passed = 0;
  let failed = 0;
  const tally = (ok) => (ok ? passed++ : failed++);
  if (!opts.selfTest) {
    await run(opts, (ok, what) => {
      tally(ok);
      console.log(`${ok ? "PASS" : "FAIL"} ${what}`);
    });
  } else {
    // The plain run must pass; each fault must make at least one check fail.
    const cases = [[null, true], ["altered", false], ["no-post", false], ["stale", false]];
    for (const [fault, shouldPass] of cases) {
      const failures = [];
      await run({ ...opts, post: true, sinceMs: null, timeoutS: Math.min(opts.timeoutS, 3) }, (ok, what) => ok || failures.push(what), fault);
      const ok = shouldPass ? failures.length === 0 : failures.length > 0;
      tally(ok);
      const label = fault ? `fault ${fault} caught` : "clean run passes";
      const detail = failures.length ? ` (${failures[0]})` : "";
      console.log(`${ok ? "PASS" : "FAIL"} self-test: ${label}${detail}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => {
  console.log(`FAIL check: ${e.stack ?? e}`);
  console.log("0 passed, 1 failed");
  process.exit(1);
});
