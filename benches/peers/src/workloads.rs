//! The workloads. Each runs the same `tracing` code against every subject it applies to (see
//! `Workload::subjects`); only (c) and (d) call subject-specific APIs (see
//! `Env::outbound_headers` and `Env::server_span`).

use std::hint::black_box;
use std::sync::mpsc;
use std::thread;

use tracing::span::EnteredSpan;

use crate::subjects::{Env, Subject};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Workload {
    Child,
    Transaction,
    RootOnly,
    Headers,
    HeadersInto,
    Continue,
    ContinueExt,
    Threads,
    LogEvent,
    BelowLogsLevel,
    Disabled,
    Metric,
}

impl Workload {
    pub const ALL: [Workload; 12] = [
        Workload::Child,
        Workload::Transaction,
        Workload::RootOnly,
        Workload::Headers,
        Workload::HeadersInto,
        Workload::Continue,
        Workload::ContinueExt,
        Workload::Threads,
        Workload::LogEvent,
        Workload::BelowLogsLevel,
        Workload::Disabled,
        Workload::Metric,
    ];

    /// The subjects this workload runs against, its floor first.
    pub fn subjects(self) -> &'static [Subject] {
        match self {
            Workload::LogEvent | Workload::Metric => {
                &[Subject::Registry, Subject::OursLogs, Subject::SentryLogs]
            }
            Workload::BelowLogsLevel => &[
                Subject::Registry,
                Subject::RegistryLayer,
                Subject::OursLogs,
            ],
            Workload::Disabled => &[Subject::RegistryInfo, Subject::OursLogsInfo],
            _ => &Subject::SPANS,
        }
    }

    /// The subject this workload's ratios are taken to.
    pub fn floor(self) -> Subject {
        self.subjects()[0]
    }

    /// Whether an event workload (an entered sampled span held for the whole run).
    pub fn is_event(self) -> bool {
        matches!(
            self,
            Workload::LogEvent | Workload::BelowLogsLevel | Workload::Disabled | Workload::Metric
        )
    }

    pub fn id(self) -> &'static str {
        match self {
            Workload::Child => "a_child_span",
            Workload::Transaction => "b_transaction",
            Workload::RootOnly => "b0_root_only",
            Workload::Headers => "c_outbound_headers",
            Workload::HeadersInto => "c2_headers_into_request",
            Workload::Continue => "d_continue_trace",
            Workload::ContinueExt => "d2_set_parent_from_headers",
            Workload::Threads => "e_child_span_4_threads",
            Workload::LogEvent => "f_log_event",
            Workload::BelowLogsLevel => "g_below_logs_level",
            Workload::Disabled => "h_disabled_event",
            Workload::Metric => "i_metric_event",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Workload::Child => "(a) child span, 2 fields, in a sampled root",
            Workload::Transaction => "(b) root + 10 children (depth <= 3), exported",
            Workload::RootOnly => "(b0) = (b)'s root alone, exported",
            Workload::Headers => "(c) outbound headers, continued trace",
            Workload::HeadersInto => "(c2) = (c) into the request's own HeaderMap",
            Workload::Continue => "(d) continue trace + server span",
            Workload::ContinueExt => "(d2) = (d) through set_parent_from_headers",
            Workload::Threads => "(e) = (a) on 4 threads, per span",
            Workload::LogEvent => "(f) `info!` with 2 fields in a sampled span, as a log",
            Workload::BelowLogsLevel => "(g) `debug!` (f), below the logs level `INFO`",
            Workload::Disabled => "(h) `debug!` (f) under a global `INFO` filter",
            Workload::Metric => "(i) `info!(counter.requests = 1, route = \"/x\")` in a sampled span",
        }
    }

    /// What one iteration is.
    pub fn unit(self) -> &'static str {
        match self {
            Workload::Transaction | Workload::RootOnly => "transaction",
            Workload::Headers | Workload::HeadersInto => "call",
            Workload::Continue | Workload::ContinueExt => "request",
            Workload::LogEvent | Workload::BelowLogsLevel | Workload::Disabled | Workload::Metric => {
                "event"
            }
            _ => "span",
        }
    }

    pub fn from_id(id: &str) -> Option<Workload> {
        Workload::ALL
            .into_iter()
            .find(|w| w.id() == id || w.id().starts_with(&format!("{id}_")))
    }

    /// Iteration counts for the two callgrind runs (their difference cancels setup).
    /// Multiples of `ROLL` (per thread for (e)) so the rolling root amortizes exactly.
    pub fn callgrind_counts(self, quick: bool) -> (u64, u64) {
        let (lo, hi) = match self {
            Workload::Child | Workload::Headers | Workload::HeadersInto => (1_000, 3_000),
            // Multiples of 100: both exporters batch 100 logs.
            Workload::LogEvent | Workload::Metric => (1_000, 3_000),
            // Events that cost tens of instructions: long enough runs that the export
            // worker's time-driven work on the main thread (a few thousand instructions)
            // stays below 0.3 per event.
            Workload::BelowLogsLevel | Workload::Disabled => (10_000, 30_000),
            Workload::Transaction => (100, 300),
            Workload::RootOnly => (500, 1_500),
            Workload::Continue | Workload::ContinueExt => (500, 1_500),
            Workload::Threads => (4_000, 12_000),
        };
        if quick {
            (lo / 2, lo)
        } else {
            (lo, hi)
        }
    }
}

/// Children per root in (a) and (e): the root is closed and a new one opened every `ROLL`
/// children, so the sampled subjects never hit their per-transaction span caps (1000 for us and
/// for sentry) and every child's export is part of its cost.
pub const ROLL: u32 = 500;

/// Workload (a): one child span with two fields, created, entered, exited and closed.
#[inline(never)]
pub fn child_span(i: u64) {
    let span = tracing::info_span!("child", user.id = i, http.method = "GET");
    let _g = span.enter();
}

/// Workload (f), and (g) and (h) at `DEBUG`: an event with two fields and a message.
#[inline(never)]
pub fn log_event(i: u64) {
    tracing::info!(user.id = i, http.method = "GET", "request handled");
}

/// Workloads (g) and (h): (f) at `DEBUG`.
#[inline(never)]
pub fn debug_event(i: u64) {
    tracing::debug!(user.id = i, http.method = "GET", "request handled");
}

/// Workload (i): a counter with one attribute.
#[inline(never)]
pub fn metric_event() {
    tracing::info!(counter.requests = 1, route = "/x");
}

/// An entered root that is replaced every `ROLL` children.
pub struct Rolling {
    root: Option<EnteredSpan>,
    left: u32,
}

impl Rolling {
    pub fn new() -> Rolling {
        let mut r = Rolling {
            root: None,
            left: 0,
        };
        r.roll();
        r
    }

    fn roll(&mut self) {
        self.root = None; // close the old root first, or the new one would be its child
        self.root = Some(tracing::info_span!("root").entered());
        self.left = ROLL;
    }

    #[inline]
    pub fn child(&mut self, i: u64) {
        if self.left == 0 {
            self.roll();
        }
        self.left -= 1;
        child_span(black_box(i));
    }

    pub fn run(&mut self, n: u64) {
        for i in 0..n {
            self.child(i);
        }
    }
}

/// Workload (b0): (b)'s root alone, a transaction with no child spans, so that what the
/// export worker spends per transaction besides its spans is measured, not derived.
#[inline(never)]
pub fn root_only(i: u64) {
    let _root = tracing::info_span!("request", n = i, kind = "bench").entered();
}

/// Workload (b): a root with 10 children, depth up to 3, every span with two fields.
#[inline(never)]
pub fn transaction(i: u64) {
    macro_rules! s {
        ($name:literal) => {
            tracing::info_span!($name, n = i, kind = "bench").entered()
        };
    }
    let _root = s!("request");
    {
        let _c1 = s!("auth");
        {
            let _c2 = s!("load_user");
            let _c3 = s!("db.query");
        }
        let _c4 = s!("check_permissions");
    }
    {
        let _c5 = s!("handler");
        {
            let _c6 = s!("fetch_items");
            let _c7 = s!("cache.get");
        }
        let _c8 = s!("render");
    }
    {
        let _c9 = s!("respond");
        let _c10 = s!("serialize");
    }
}

/// Runs `n` iterations of a workload (not (e)) on the current thread, inside the subject's
/// dispatcher, with `state` from `Prepared::new`. Does not flush.
pub struct Prepared<'e> {
    env: &'e Env,
    rolling: Option<Rolling>,
    _continued: Option<(EnteredSpan, EnteredSpan)>,
    /// The sampled span the events of (f) to (i) are recorded in.
    _span: Option<EnteredSpan>,
    /// The request's own headers in (c2), emptied before each call as a new request's are.
    request: http::HeaderMap,
    workload: Workload,
    pool: Option<Pool>,
    i: u64,
}

impl<'e> Prepared<'e> {
    /// Must be called with the subject's dispatcher set as the default.
    pub fn new(env: &'e Env, workload: Workload) -> Prepared<'e> {
        Prepared {
            env,
            rolling: (workload == Workload::Child).then(Rolling::new),
            _continued: matches!(workload, Workload::Headers | Workload::HeadersInto)
                .then(|| env.continued()),
            _span: workload
                .is_event()
                .then(|| tracing::info_span!("request", http.route = "/users").entered()),
            request: http::HeaderMap::with_capacity(8),
            workload,
            pool: (workload == Workload::Threads).then(|| Pool::new(env, 4)),
            i: 0,
        }
    }

    pub fn run(&mut self, n: u64) {
        match self.workload {
            Workload::Child => self.rolling.as_mut().unwrap().run(n),
            Workload::Transaction => {
                for _ in 0..n {
                    self.i += 1;
                    transaction(black_box(self.i));
                }
            }
            Workload::RootOnly => {
                for _ in 0..n {
                    self.i += 1;
                    root_only(black_box(self.i));
                }
            }
            Workload::Headers => {
                for _ in 0..n {
                    self.env.outbound_headers();
                }
            }
            Workload::HeadersInto => {
                for _ in 0..n {
                    self.request.clear();
                    self.env.outbound_headers_into(black_box(&mut self.request));
                }
            }
            Workload::Continue => {
                let headers = &self.env.incoming;
                for _ in 0..n {
                    self.env.server_span(black_box(headers));
                }
            }
            Workload::ContinueExt => {
                let headers = &self.env.incoming;
                for _ in 0..n {
                    self.env.server_span_set_parent(black_box(headers));
                }
            }
            Workload::Threads => self.pool.as_ref().unwrap().run(n),
            Workload::LogEvent => {
                for _ in 0..n {
                    self.i += 1;
                    log_event(black_box(self.i));
                }
            }
            Workload::BelowLogsLevel | Workload::Disabled => {
                for _ in 0..n {
                    self.i += 1;
                    debug_event(black_box(self.i));
                }
            }
            Workload::Metric => {
                for _ in 0..n {
                    metric_event();
                }
            }
        }
    }
}

/// Four threads, each with the subject's dispatcher and its own rolling root, running (a).
pub struct Pool {
    work: Vec<mpsc::Sender<u64>>,
    done: mpsc::Receiver<()>,
    handles: Vec<thread::JoinHandle<()>>,
}

impl Pool {
    fn new(env: &Env, threads: usize) -> Pool {
        let (done_tx, done) = mpsc::channel();
        let mut work = Vec::new();
        let mut handles = Vec::new();
        for _ in 0..threads {
            let (tx, rx) = mpsc::channel::<u64>();
            let dispatch = env.dispatch.clone();
            let done_tx = done_tx.clone();
            handles.push(thread::spawn(move || {
                let _d = tracing::dispatcher::set_default(&dispatch);
                let mut rolling = Rolling::new();
                while let Ok(n) = rx.recv() {
                    rolling.run(n);
                    let _ = done_tx.send(());
                }
            }));
            work.push(tx);
        }
        Pool {
            work,
            done,
            handles,
        }
    }

    /// Runs `n` spans in total, split evenly over the threads.
    pub fn run(&self, n: u64) {
        let t = self.work.len() as u64;
        for tx in &self.work {
            tx.send(n.div_ceil(t)).unwrap();
        }
        for _ in 0..t {
            self.done.recv().unwrap();
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.work.clear();
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}
