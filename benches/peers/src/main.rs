//! Peer comparison: tracing-sentry against the bare registry, sentry-tracing and
//! tracing-opentelemetry, on the same workloads in one run. See README.md.
//!
//! `cargo run --release --manifest-path benches/peers/Cargo.toml [-- --quick]`
//!
//! Options: `--quick` (short smoke run; RESULTS.md is not written), `--no-callgrind`,
//! `--no-criterion`, `--workloads a,c`, `--subjects registry,ours_sampled`.
//! `TS_BENCH_ONLY=<workload>:<subject>:<n>` runs one cell `n` times and exits (used under
//! callgrind; workload may be its letter, e.g. `a:ours_sampled:3000`).

mod alloc;
mod subjects;
mod workloads;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::Criterion;
use subjects::{Env, Subject};
use workloads::{Prepared, Workload};

#[global_allocator]
static ALLOC: alloc::CountingAlloc = alloc::CountingAlloc;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

struct Opts {
    quick: bool,
    callgrind: bool,
    criterion: bool,
    workloads: Vec<Workload>,
    subjects: Vec<Subject>,
}

fn parse_args() -> Opts {
    let mut o = Opts {
        quick: false,
        callgrind: true,
        criterion: true,
        workloads: Workload::ALL.to_vec(),
        subjects: Subject::ALL.to_vec(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--no-callgrind" => o.callgrind = false,
            "--no-criterion" => o.criterion = false,
            "--workloads" => {
                let list = args.next().unwrap_or_default();
                o.workloads = list
                    .split(',')
                    .map(|w| Workload::from_id(w).unwrap_or_else(|| die(&format!("unknown workload {w}"))))
                    .collect();
            }
            "--subjects" => {
                let list = args.next().unwrap_or_default();
                o.subjects = list
                    .split(',')
                    .map(|s| Subject::from_id(s).unwrap_or_else(|| die(&format!("unknown subject {s}"))))
                    .collect();
                // Ratios need the floors.
                for floor in [Subject::RegistryInfo, Subject::Registry] {
                    if !o.subjects.contains(&floor) {
                        o.subjects.insert(0, floor);
                    }
                }
            }
            // `cargo bench` style flags are ignored.
            "--bench" => {}
            other => die(&format!(
                "unknown argument {other}; use --quick, --no-callgrind, --no-criterion, --workloads a,b, --subjects x,y"
            )),
        }
    }
    o
}

impl Opts {
    /// The selected subjects that `w` runs against, its floor first.
    fn subjects_of(&self, w: Workload) -> impl Iterator<Item = Subject> + '_ {
        w.subjects()
            .iter()
            .copied()
            .filter(|s| self.subjects.contains(s))
    }

    /// The selected workloads that run against `s`.
    fn workloads_of(&self, s: Subject) -> impl Iterator<Item = Workload> + '_ {
        self.workloads
            .iter()
            .copied()
            .filter(move |w| w.subjects().contains(&s))
    }

    /// The selected subjects of the span workloads (heap and scaling tables).
    fn span_subjects(&self) -> Vec<Subject> {
        self.subjects
            .iter()
            .copied()
            .filter(|s| Subject::SPANS.contains(s))
            .collect()
    }
}

fn die(msg: &str) -> ! {
    eprintln!("{msg}");
    std::process::exit(2)
}

/// Process CPU time (all threads, including our export worker and the 4 threads of (e)).
fn cpu_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` writes one `timespec` through its pointer, and `&mut ts` is a
    // valid, aligned, exclusive pointer to one that outlives the call; `CLOCK_PROCESS_CPUTIME_ID`
    // is a clock id the platform defines. A failure leaves `ts` zeroed, which is still valid.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Iterations per unit: (e) counts spans over 4 threads.
fn spans_per_iter(w: Workload) -> u64 {
    if w == Workload::Threads {
        4
    } else {
        1
    }
}

/// Warm-up iterations before a measured run (multiples of the rolling-root size).
fn warm_iters(w: Workload) -> u64 {
    match w {
        Workload::Child => workloads::ROLL as u64,
        Workload::Threads => 4 * workloads::ROLL as u64,
        Workload::Transaction | Workload::RootOnly => 20,
        _ => 200,
    }
}

/// `TS_BENCH_ONLY=<workload>:<subject>:<n>`: runs one cell `n` times (after a fixed warm-up),
/// flushes, and exits.
fn cell_mode(spec: &str) {
    let mut parts = spec.split(':');
    let (Some(w), Some(s), Some(n)) = (parts.next(), parts.next(), parts.next()) else {
        die("TS_BENCH_ONLY=<workload>:<subject>:<n>");
    };
    let w = Workload::from_id(w).unwrap_or_else(|| die(&format!("unknown workload {w}")));
    let s = Subject::from_id(s).unwrap_or_else(|| die(&format!("unknown subject {s}")));
    let n: u64 = n.parse().unwrap_or_else(|_| die("n must be a number"));
    let env = Env::new(s);
    tracing::dispatcher::with_default(&env.dispatch, || {
        let mut p = Prepared::new(&env, w);
        p.run(warm_iters(w));
        env.flush();
        measured(&mut p, n);
        env.flush();
    });
}

/// The measured region in cell mode, a separate symbol for `--toggle-collect`.
#[inline(never)]
fn measured(p: &mut Prepared<'_>, n: u64) {
    p.run(n);
}

#[derive(Default, Clone, Copy)]
struct Cell {
    ns: Option<f64>,
    /// Instructions on the threads that run the workload (all but our export worker).
    ir_thread: Option<f64>,
    /// Instructions on all threads.
    ir: Option<f64>,
    allocs: Option<f64>,
    bytes: Option<f64>,
}

type Results = HashMap<(Workload, Subject), Cell>;

/// Open spans for the heap figure: with the root, 8 short of filling sharded-slab's first 9
/// pages (32 + 64 + ... + 8192 slots), so the registry's slab is measured at its real
/// per-slot size instead of a half-empty page.
const OPEN_SPANS: u64 = 32 * ((1 << 9) - 1) - 8 - 1;

/// Heap per open span, on a fresh subject (fresh registry slab): an entered root and
/// `OPEN_SPANS` children with two fields, created and held open. Includes the registry's slot.
fn measure_open_heap(o: &Opts, heap: &mut HashMap<Subject, Heap>) {
    for s in o.span_subjects() {
        let child = open_heap(s, false, false);
        let root = open_heap(s, true, false);
        heap.insert(s, (Some(child), Some(root)));
    }
}

/// Live bytes per open child span and per open root.
type Heap = (Option<f64>, Option<f64>);

/// Heap per open span of one subject (children of an entered root, or with `roots`, roots);
/// with `detail`, prints the allocations by size.
fn open_heap(s: Subject, roots: bool, detail: bool) -> f64 {
    let env = Env::new(s);
    tracing::dispatcher::with_default(&env.dispatch, || {
        let mut open = Vec::with_capacity(OPEN_SPANS as usize);
        if detail {
            alloc::hist_start();
        }
        let before = alloc::snapshot();
        let root = (!roots).then(|| tracing::info_span!("root").entered());
        for i in 0..OPEN_SPANS {
            open.push(tracing::info_span!(
                "child",
                user.id = i,
                http.method = "GET"
            ));
        }
        let per = before.per(OPEN_SPANS);
        if detail {
            let hist = alloc::hist_stop();
            println!(
                "{} ({}): {:.0} live bytes and {:.2} allocations per open span; allocations by \
                 size (per span; size 1025 = larger):",
                s.id(),
                if roots { "roots" } else { "children" },
                per.live,
                per.allocs
            );
            for (size, n) in hist.into_iter().take(12) {
                println!(
                    "  {size:>5} B x {:.3} = {:.1} B",
                    n as f64 / OPEN_SPANS as f64,
                    (size as u64 * n) as f64 / OPEN_SPANS as f64
                );
            }
        }
        drop(open);
        drop(root);
        env.flush();
        per.live
    })
}

fn measure_allocations(o: &Opts, results: &mut Results) {
    for &s in &o.subjects {
        if o.workloads_of(s).next().is_none() {
            continue;
        }
        eprintln!("allocations: {}", s.id());
        let env = Env::new(s);
        tracing::dispatcher::with_default(&env.dispatch, || {
            for w in o.workloads_of(s) {
                let n = match w {
                    Workload::Transaction | Workload::RootOnly => 500,
                    Workload::Threads => 8_000,
                    _ => 5_000,
                };
                let mut p = Prepared::new(&env, w);
                p.run(warm_iters(w));
                env.flush();
                let before = alloc::snapshot();
                p.run(n);
                env.flush();
                let per = before.per(n / spans_per_iter(w) * spans_per_iter(w));
                let cell = results.entry((w, s)).or_default();
                cell.allocs = Some(per.allocs);
                cell.bytes = Some(per.bytes);
            }

            env.flush();
        });
    }
}

/// Redirects stdout to stderr while criterion prints, so stdout holds only the table.
struct StdoutToStderr(i32);

impl StdoutToStderr {
    fn new() -> Self {
        let _ = std::io::stdout().flush();
        // SAFETY: `dup` and `dup2` take plain integers and touch no memory of ours; on fds that
        // are closed or invalid they fail with -1 and change nothing. No Rust object owns fd 1
        // (`Stdout` writes to it by number, and was flushed just above), so pointing it at
        // stderr invalidates no handle.
        unsafe {
            let saved = libc::dup(1);
            libc::dup2(2, 1);
            StdoutToStderr(saved)
        }
    }
}

impl Drop for StdoutToStderr {
    fn drop(&mut self) {
        let _ = std::io::stdout().flush();
        // SAFETY: `self.0` is the descriptor `dup` returned in `new` (or -1, for which both
        // calls fail harmlessly); it is owned by this value alone and closed exactly once,
        // here. `dup2` onto fd 1 touches no memory, and stdout was flushed just above.
        unsafe {
            libc::dup2(self.0, 1);
            libc::close(self.0);
        }
    }
}

fn criterion_dir() -> PathBuf {
    Path::new(MANIFEST_DIR).join("target").join("criterion")
}

fn run_criterion(o: &Opts, results: &mut Results) {
    let _redirect = StdoutToStderr::new();
    let mut c = Criterion::default()
        .output_directory(&criterion_dir())
        .without_plots();
    c = if o.quick {
        c.warm_up_time(Duration::from_millis(200))
            .measurement_time(Duration::from_millis(600))
            .sample_size(10)
    } else {
        c.warm_up_time(Duration::from_millis(800))
            .measurement_time(Duration::from_secs(3))
            .sample_size(30)
    };
    for &s in &o.subjects {
        if o.workloads_of(s).next().is_none() {
            continue;
        }
        for w in o.workloads_of(s) {
            // A fresh subject per workload: the registry keeps what millions of spans left in
            // its pools (gigabytes under criterion) until its dispatcher is dropped.
            let env = Env::new(s);
            tracing::dispatcher::with_default(&env.dispatch, || {
                let mut p = Prepared::new(&env, w);
                let k = spans_per_iter(w);
                let mut group = c.benchmark_group(w.id());
                group.bench_function(s.id(), |b| {
                    b.iter_custom(|iters| {
                        let t0 = cpu_now();
                        p.run(iters * k);
                        env.flush();
                        (cpu_now() - t0) / k as u32
                    })
                });
                group.finish();
                drop(p);
                env.flush();
                let est = criterion_dir()
                    .join(w.id())
                    .join(s.id())
                    .join("new")
                    .join("estimates.json");
                match read_median(&est) {
                    Some(ns) => results.entry((w, s)).or_default().ns = Some(ns),
                    None => eprintln!("could not read {}", est.display()),
                }
            });
        }
    }
}

fn read_median(path: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["median"]["point_estimate"].as_f64()
}

fn valgrind_available() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Instructions of one callgrind run of one cell: (all threads, workload threads). With
/// `separate`, callgrind writes one file per thread; a workload thread is the main thread or one
/// that ran this crate's code (the pool of (e)); the rest is our export worker (and any thread
/// a peer starts).
fn callgrind_run(w: Workload, s: Subject, n: u64, separate: bool) -> Result<(u64, u64), String> {
    let dir = Path::new(MANIFEST_DIR).join("target").join("callgrind");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let name = format!("{}.{}.{}.out", w.id(), s.id(), n);
    let out = dir.join(&name);
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    for e in std::fs::read_dir(&dir).map_err(|e| e.to_string())?.flatten() {
        if e.file_name().to_string_lossy().starts_with(&name) {
            let _ = std::fs::remove_file(e.path());
        }
    }
    let status = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--separate-threads={}", if separate { "yes" } else { "no" }))
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(exe)
        .env("TS_BENCH_ONLY", format!("{}:{}:{}", w.id(), s.id(), n))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
        .map_err(|e| e.to_string())?;
    if !status.status.success() {
        return Err(String::from_utf8_lossy(&status.stderr)
            .lines()
            .rev()
            .take(8)
            .collect::<Vec<_>>()
            .join(" | "));
    }
    let total_of = |text: &str| -> Option<u64> {
        text.lines().find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
        })
    };
    if !separate {
        let text = std::fs::read_to_string(&out).map_err(|e| e.to_string())?;
        let t = total_of(&text).ok_or_else(|| format!("no summary in {}", out.display()))?;
        return Ok((t, t));
    }
    let (mut all, mut thread) = (0, 0);
    let mut files = 0;
    for e in std::fs::read_dir(&dir).map_err(|e| e.to_string())?.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(suffix) = file.strip_prefix(&format!("{name}-")) else {
            continue;
        };
        let text = std::fs::read_to_string(e.path()).map_err(|e| e.to_string())?;
        let t = total_of(&text).ok_or_else(|| format!("no summary in {file}"))?;
        files += 1;
        all += t;
        if suffix == "01" || text.contains("tracing_sentry_peer_bench::workloads") {
            thread += t;
        }
    }
    if files == 0 {
        return Err(format!("no per-thread output for {name}"));
    }
    Ok((all, thread))
}

/// Total instructions (all threads) of one callgrind run, in one file (for `--profile`).
fn callgrind_total(w: Workload, s: Subject, n: u64) -> Result<u64, String> {
    callgrind_run(w, s, n, false).map(|(all, _)| all)
}

fn run_callgrind(o: &Opts, results: &mut Results) {
    let mut jobs = Vec::new();
    for &w in &o.workloads {
        let (lo, hi) = w.callgrind_counts(o.quick);
        for s in o.subjects_of(w) {
            jobs.push((w, s, lo));
            jobs.push((w, s, hi));
        }
    }
    let total = jobs.len();
    let jobs = std::sync::Mutex::new(jobs.into_iter().enumerate());
    let totals = std::sync::Mutex::new(HashMap::new());
    // Two valgrinds at once (2 cores); instruction counts do not depend on contention.
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let Some((k, (w, s, n))) = jobs.lock().unwrap().next() else {
                    break;
                };
                eprintln!("callgrind {}/{total}: {} {} n={n}", k + 1, w.id(), s.id());
                match callgrind_run(w, s, n, true) {
                    Ok(ir) => {
                        totals.lock().unwrap().insert((w, s, n), ir);
                    }
                    Err(e) => eprintln!("callgrind {} {} n={n} failed: {e}", w.id(), s.id()),
                }
            });
        }
    });
    let totals = totals.into_inner().unwrap();
    for &w in &o.workloads {
        let (lo, hi) = w.callgrind_counts(o.quick);
        for s in o.subjects_of(w) {
            if let (Some(a), Some(b)) = (totals.get(&(w, s, lo)), totals.get(&(w, s, hi))) {
                let per = |a: u64, b: u64| (b as f64 - a as f64) / (hi - lo) as f64;
                let cell = results.entry((w, s)).or_default();
                cell.ir = Some(per(a.0, b.0));
                cell.ir_thread = Some(per(a.1, b.1));
            }
        }
    }
}

fn fmt_num(v: Option<f64>, decimals: usize) -> String {
    match v {
        None => "n/a".into(),
        Some(v) if decimals == 0 => group_thousands(v.round() as i64),
        Some(v) => format!("{v:.decimals$}"),
    }
}

fn group_thousands(v: i64) -> String {
    let s = v.abs().to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if v < 0 {
        format!("-{out}")
    } else {
        out
    }
}

fn ratio(v: Option<f64>, floor: Option<f64>) -> String {
    ratio_min(v, floor, 1e-9)
}

/// A ratio, or "-" when the floor is below `min` (e.g. 0.001 allocations per span).
fn ratio_min(v: Option<f64>, floor: Option<f64>, min: f64) -> String {
    match (v, floor) {
        (Some(v), Some(f)) if f.abs() >= min => format!("{:.2}x", v / f),
        (Some(_), Some(_)) => "-".into(),
        _ => "n/a".into(),
    }
}

fn lock_versions() -> Vec<(String, String)> {
    let lock = include_str!("../Cargo.lock");
    let wanted = [
        "tracing-sentry",
        "sentry",
        "sentry-core",
        "sentry-tracing",
        "tracing-opentelemetry",
        "opentelemetry",
        "opentelemetry_sdk",
        "tracing",
        "tracing-subscriber",
        "criterion",
    ];
    let mut out = Vec::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_string());
        } else if let Some(v) = line.strip_prefix("version = ") {
            if let Some(n) = name.take() {
                if wanted.contains(&n.as_str()) {
                    out.push((n, v.trim_matches('"').to_string()));
                }
            }
        }
    }
    out.sort_by_key(|(n, _)| wanted.iter().position(|w| w == n));
    out
}

fn rustc_version() -> String {
    Command::new("rustc")
        .arg("-V")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "rustc ?".into())
}

fn report(
    o: &Opts,
    results: &Results,
    heap: &HashMap<Subject, Heap>,
    instr_note: &str,
    elapsed: Duration,
) -> String {
    let mut md = String::new();
    let w_ = &mut md;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let _ = writeln!(
        w_,
        "# Peer comparison{}\n",
        if o.quick {
            " (--quick: smoke run, not for comparison)"
        } else {
            ""
        }
    );
    let versions = lock_versions()
        .iter()
        .map(|(n, v)| format!("{n} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(
        w_,
        "{versions}; {}; {cores} cores; run took {:.0} s.\n",
        rustc_version(),
        elapsed.as_secs_f64()
    );
    let _ = writeln!(
        w_,
        "Every figure is per iteration (unit in the first column) and also a ratio to the bare \
         registry of the same run. CPU ns = criterion median of process CPU time (all threads, so \
         our export worker and the 4 threads of (e) count). instr = callgrind instructions per \
         iteration, from two runs with different iteration counts{instr_note}: \"thread\" counts the \
         threads that run the workload, \"all\" every thread (our export worker included). allocs and bytes = \
         global allocator counts over all threads (bytes requested, not live; \"-\" where the \
         registry allocates nothing).\n"
    );
    let _ = writeln!(
        w_,
        "| workload | subject | CPU ns | x reg | instr thread | x reg | instr all | x reg | allocs | x reg | bytes | x reg |"
    );
    let _ = writeln!(w_, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for &w in &o.workloads {
        let floor = results
            .get(&(w, w.floor()))
            .copied()
            .unwrap_or_default();
        for (k, s) in o.subjects_of(w).enumerate() {
            let c = results.get(&(w, s)).copied().unwrap_or_default();
            let wl = if k == 0 {
                format!("{} (per {})", w.label(), w.unit())
            } else {
                String::new()
            };
            let _ = writeln!(
                w_,
                "| {wl} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                s.label(),
                fmt_num(c.ns, 0),
                ratio(c.ns, floor.ns),
                fmt_num(c.ir_thread, 0),
                ratio(c.ir_thread, floor.ir_thread),
                fmt_num(c.ir, 0),
                ratio(c.ir, floor.ir),
                fmt_num(c.allocs, 2),
                ratio_min(c.allocs, floor.allocs, 0.05),
                fmt_num(c.bytes, 0),
                ratio(c.bytes, floor.bytes),
            );
        }
    }

    let _ = writeln!(w_, "\n## Heap per open span\n");
    let _ = writeln!(
        w_,
        "Live heap bytes per span (two fields) held open, on a fresh subject ({OPEN_SPANS} open \
         spans, so the registry's slab pages are full), including the registry's own slot: \
         children inside an entered root, and roots (no parent, not entered).\n"
    );
    let _ = writeln!(
        w_,
        "| subject | per open child | x reg | per open root | x reg |"
    );
    let _ = writeln!(w_, "|---|--:|--:|--:|--:|");
    let floor = heap.get(&Subject::Registry).copied().unwrap_or_default();
    for s in o.span_subjects() {
        let h = heap.get(&s).copied().unwrap_or_default();
        let _ = writeln!(
            w_,
            "| {} | {} | {} | {} | {} |",
            s.label(),
            fmt_num(h.0, 0),
            ratio(h.0, floor.0),
            fmt_num(h.1, 0),
            ratio(h.1, floor.1)
        );
    }

    let has = |w| o.workloads.contains(&w);
    if has(Workload::Child) && has(Workload::Threads) {
        let _ = writeln!(
            w_,
            "\n## Scaling: per span on 4 threads ((e)) over one thread ((a))\n"
        );
        let _ = writeln!(
            w_,
            "callgrind serializes threads, so its ratio shows extra instructions (retries, \
             slower paths), not cache-line contention; the CPU-time ratio does, on {cores} cores.\n"
        );
        let _ = writeln!(
            w_,
            "| subject | instr 1 thr | instr 4 thr | ratio | CPU ns 1 thr | CPU ns 4 thr | ratio |"
        );
        let _ = writeln!(w_, "|---|--:|--:|--:|--:|--:|--:|");
        for s in o.span_subjects() {
            let a = results
                .get(&(Workload::Child, s))
                .copied()
                .unwrap_or_default();
            let e = results
                .get(&(Workload::Threads, s))
                .copied()
                .unwrap_or_default();
            let _ = writeln!(
                w_,
                "| {} | {} | {} | {} | {} | {} | {} |",
                s.label(),
                fmt_num(a.ir, 0),
                fmt_num(e.ir, 0),
                ratio(e.ir, a.ir),
                fmt_num(a.ns, 0),
                fmt_num(e.ns, 0),
                ratio(e.ns, a.ns),
            );
        }
    }

    // The cost targets (instructions per iteration; heap bytes, registry included).
    let _ = writeln!(w_, "\n## Targets\n");
    let _ = writeln!(
        w_,
        "Worker cost = \"all\" minus \"thread\". Per span and per transaction from (a) (a span, \
         and a 500th of a transaction) and (b) (10 spans and a transaction).\n"
    );
    let _ = writeln!(w_, "| target | subject | value | limit | met |");
    let _ = writeln!(w_, "|---|---|--:|--:|---|");
    let get = |w: Workload, s: Subject| results.get(&(w, s)).copied().unwrap_or_default();
    let mut target = |name: &str, s: Subject, v: Option<f64>, limit: f64, unit: &str| {
        let met = match v {
            Some(v) if v <= limit => "yes",
            Some(_) => "**no**",
            None => "n/a",
        };
        let _ = writeln!(
            w_,
            "| {name} | {} | {}{unit} | {}{unit} | {met} |",
            s.label(),
            fmt_num(v, 0),
            fmt_num(Some(limit), 0)
        );
    };
    use Subject::{OursSampled as S, OursUnsampled as U};
    use Workload::*;
    let worker = |w: Workload| Some(get(w, S).ir? - get(w, S).ir_thread?);
    let roll = workloads::ROLL as f64;
    let per_span = (|| Some((worker(Child)? - worker(Transaction)? / roll) / (1.0 - 10.0 / roll)))();
    let per_tx = (|| Some(worker(Transaction)? - 10.0 * per_span?))();
    if has(Child) {
        target("(a) child span, thread", S, get(Child, S).ir_thread, 2_500.0, "");
        target("(a) child span, all threads", S, get(Child, S).ir, 4_000.0, "");
        target("(a) child span, thread", U, get(Child, U).ir_thread, 1_500.0, "");
    }
    if has(Transaction) {
        target("(b) transaction, all threads", S, get(Transaction, S).ir, 45_000.0, "");
    }
    if has(Headers) {
        target("(c) outbound headers", S, get(Headers, S).ir_thread, 1_200.0, "");
    }
    if has(HeadersInto) {
        let c2 = get(HeadersInto, S).ir_thread;
        target("(c2) outbound headers into the request's map", S, c2, 1_200.0, "");
    }
    for w in [Continue, ContinueExt] {
        if has(w) {
            let n = if w == Continue { "(d)" } else { "(d2)" };
            target(&format!("{n} thread"), S, get(w, S).ir_thread, 10_000.0, "");
            target(&format!("{n} all threads"), S, get(w, S).ir, 15_000.0, "");
        }
    }
    if has(Child) && has(Transaction) {
        target("export worker per span", S, per_span, 1_500.0, "");
        target("export worker per transaction besides", S, per_tx, 3_000.0, "");
    }
    // The same two figures measured like with like: (b0) is (b)'s root alone, so its worker
    // cost is a transaction's besides its child spans, and (b) minus (b0) is ten of (b)'s
    // children (whose two fields are both kept, where (a)'s `user.id` is removed as private).
    if has(RootOnly) {
        let alone = worker(RootOnly);
        target("export worker per transaction, (b0) alone", S, alone, 3_000.0, "");
        if has(Transaction) {
            let per_child = (|| Some((worker(Transaction)? - alone?) / 10.0))();
            target("export worker per span of (b), (b) - (b0)", S, per_child, 1_500.0, "");
        }
    }
    target("heap per open child", S, heap.get(&S).and_then(|h| h.0), 350.0, " B");
    target("heap per open root", U, heap.get(&U).and_then(|h| h.1), 300.0, " B");
    // The event targets are relative: to sentry-tracing's `LogLayer` (f), to the floor (g, h),
    // to our own log event (i). Instructions on the instrumented thread.
    let rel = |w: Workload, s: Subject| get(w, s).ir_thread;
    let mut relative = |name: &str, s: Subject, v: Option<f64>, limit: Option<f64>, of: &str| {
        let met = match (v, limit) {
            (Some(v), Some(l)) if v <= l => "yes",
            (Some(_), Some(_)) => "**no**",
            _ => "n/a",
        };
        let _ = writeln!(
            w_,
            "| {name} | {} | {} | {} ({of}) | {met} |",
            s.label(),
            fmt_num(v, 0),
            fmt_num(limit, 0)
        );
    };
    use Subject::{OursLogs as L, OursLogsInfo as LI, RegistryInfo as RI};
    if has(LogEvent) {
        let quarter = rel(LogEvent, Subject::SentryLogs).map(|v| v / 4.0);
        relative("(f) log event, thread", L, rel(LogEvent, L), quarter, "1/4 of LogLayer");
    }
    // "The same cost": within 2 instructions of the floor (the loop's own jitter). An event
    // that reaches the layers costs `Layered`'s dispatch for any layer, so (g) is held to the
    // registry with a layer that does nothing.
    if has(BelowLogsLevel) {
        let floor = rel(BelowLogsLevel, Subject::RegistryLayer).map(|v| v + 2.0);
        let (name, of) = ("(g) below the logs level, thread", "a layer with no callbacks");
        relative(name, L, rel(BelowLogsLevel, L), floor, of);
    }
    if has(Disabled) {
        let floor = rel(Disabled, RI).map(|v| v + 2.0);
        relative("(h) disabled event, thread", LI, rel(Disabled, LI), floor, "the filtered registry's");
    }
    if has(Metric) && has(LogEvent) {
        relative("(i) metric event, thread", L, rel(Metric, L), rel(LogEvent, L), "our log event");
    }
    md
}

/// `--profile <workload>:<subject> [--vs-registry] [--inclusive] [--filter SUBSTR] [--top N]
/// [--quick]`: the
/// per-iteration callgrind profile of one cell, by function, from the difference of the two
/// runs (so setup, subject construction and shutdown cancel out); with `--vs-registry`, minus
/// the registry's profile of the same workload. Needs valgrind and callgrind_annotate.
fn profile_mode(args: &[String]) {
    let spec = args.first().map(String::as_str).unwrap_or_default();
    let (w, s) = spec
        .split_once(':')
        .unwrap_or_else(|| die("--profile <workload>:<subject>"));
    let w = Workload::from_id(w).unwrap_or_else(|| die(&format!("unknown workload {w}")));
    let s = Subject::from_id(s).unwrap_or_else(|| die(&format!("unknown subject {s}")));
    let inclusive = args.iter().any(|a| a == "--inclusive");
    let quick = args.iter().any(|a| a == "--quick");
    let top: usize = args
        .iter()
        .position(|a| a == "--top")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(25);
    let vs_registry = args.iter().any(|a| a == "--vs-registry");
    let (total, mut rows) = per_iteration_profile(w, s, inclusive, quick);
    let mut what = "";
    let total = if vs_registry && s != w.floor() {
        let (floor_total, floor) = per_iteration_profile(w, w.floor(), inclusive, quick);
        for (f, v) in rows.iter_mut() {
            *v -= floor.get(f).copied().unwrap_or(0.0);
        }
        what = " over the registry";
        total - floor_total
    } else {
        total
    };
    let filter = args
        .iter()
        .position(|a| a == "--filter")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let mut rows: Vec<(String, f64)> = rows
        .drain()
        .filter(|(f, _)| filter.as_ref().is_none_or(|p| f.contains(p.as_str())))
        .collect();
    rows.sort_by(|x, y| y.1.total_cmp(&x.1));
    println!(
        "{} / {}: {:.0} instructions per {}{what} ({} cost by function, share of that)",
        w.id(),
        s.id(),
        total,
        w.unit(),
        if inclusive { "inclusive" } else { "self" }
    );
    for (f, v) in rows.into_iter().take(top) {
        println!("{v:>10.0} {:>6.1}%  {f}", 100.0 * v / total);
    }
}

/// Per-iteration instructions of one cell, in total and by function (difference of two runs).
fn per_iteration_profile(
    w: Workload,
    s: Subject,
    inclusive: bool,
    quick: bool,
) -> (f64, HashMap<String, f64>) {
    let (lo, hi) = w.callgrind_counts(quick);
    let mut per_run = Vec::new();
    for n in [lo, hi] {
        if let Err(e) = callgrind_total(w, s, n) {
            die(&format!("callgrind failed: {e}"));
        }
        let out = Path::new(MANIFEST_DIR)
            .join("target/callgrind")
            .join(format!("{}.{}.{}.out", w.id(), s.id(), n));
        let text = Command::new("callgrind_annotate")
            .arg(format!(
                "--inclusive={}",
                if inclusive { "yes" } else { "no" }
            ))
            .arg("--threshold=100")
            .arg("--auto=no")
            .arg(&out)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_else(|e| die(&format!("callgrind_annotate: {e}")));
        per_run.push(parse_annotate(&text, inclusive));
    }
    let (a, b) = (&per_run[0], &per_run[1]);
    let dn = (hi - lo) as f64;
    let mut rows = HashMap::new();
    for k in a.keys().chain(b.keys()) {
        let v =
            (b.get(k).copied().unwrap_or(0) as f64 - a.get(k).copied().unwrap_or(0) as f64) / dn;
        rows.insert(k.clone(), v);
    }
    let total = rows.remove("PROGRAM TOTALS").unwrap_or(0.0);
    (total, rows)
}

/// `--check`: prints, per subject, the outbound headers of (c) and of the server span of (d),
/// so one can see that every subject continues the incoming trace.
fn check() {
    for s in Subject::SPANS {
        let env = Env::new(s);
        tracing::dispatcher::with_default(&env.dispatch, || {
            println!("{}:", s.id());
            {
                let _spans = env.continued();
                println!("  (c) {}", env.describe_outbound());
            }
            env.server_span_with(&env.incoming, || {
                println!("  (d) {}", env.describe_outbound());
            });
        });
        env.flush();
    }
}

/// `callgrind_annotate` lines (`1,234 (5.6%)  file:function [object]`) by function.
/// Self costs of a function's fragments (one per source file of inlined code) add up; inclusive
/// ones overlap, so the largest fragment is taken (approximate for inlined functions).
fn parse_annotate(text: &str, inclusive: bool) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let line = line.trim_start();
        let Some((num, rest)) = line.split_once(' ') else {
            continue;
        };
        let Ok(ir) = num.replace(',', "").parse::<u64>() else {
            continue;
        };
        let rest = rest.trim_start();
        let rest = match rest.strip_prefix('(') {
            Some(r) => r.split_once(')').map(|(_, r)| r.trim_start()).unwrap_or(r),
            None => rest,
        };
        let rest = rest.split(" [").next().unwrap_or(rest);
        // "file:function": the file ends at the first ':' that is not part of "::".
        let bytes = rest.as_bytes();
        let mut func = rest;
        for i in 0..bytes.len() {
            if bytes[i] == b':'
                && bytes.get(i + 1) != Some(&b':')
                && (i == 0 || bytes[i - 1] != b':')
            {
                func = &rest[i + 1..];
                break;
            }
        }
        let e = out.entry(func.to_string()).or_insert(0);
        if inclusive {
            *e = (*e).max(ir);
        } else {
            *e += ir;
        }
    }
    out
}

fn main() {
    if let Ok(spec) = std::env::var("TS_BENCH_ONLY") {
        cell_mode(&spec);
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--profile") {
        profile_mode(&args[1..]);
        return;
    }
    if args.first().map(String::as_str) == Some("--check") {
        check();
        return;
    }
    if args.first().map(String::as_str) == Some("--heap-detail") {
        let s = args.get(1).and_then(|s| Subject::from_id(s));
        let s = s.unwrap_or_else(|| die("--heap-detail <subject> [--roots]"));
        open_heap(s, args.iter().any(|a| a == "--roots"), true);
        return;
    }
    let o = parse_args();
    let start = Instant::now();
    let mut results = Results::new();
    let mut heap = HashMap::new();

    measure_open_heap(&o, &mut heap);
    measure_allocations(&o, &mut results);
    if o.criterion {
        run_criterion(&o, &mut results);
    }
    let valgrind = o.callgrind && valgrind_available();
    if o.callgrind && !valgrind {
        eprintln!("notice: valgrind not found; the instruction column is skipped");
    }
    if valgrind {
        run_callgrind(&o, &mut results);
    }

    let instr_note = if !o.callgrind {
        " (skipped: --no-callgrind)"
    } else if !valgrind {
        " (skipped: valgrind not found)"
    } else {
        ""
    };
    let md = report(&o, &results, &heap, instr_note, start.elapsed());
    print!("{md}");
    if o.quick {
        eprintln!("(--quick: RESULTS.md not written)");
    } else {
        let path = Path::new(MANIFEST_DIR).join("RESULTS.md");
        match std::fs::write(&path, &md) {
            Ok(()) => eprintln!("wrote {}", path.display()),
            Err(e) => eprintln!("could not write {}: {e}", path.display()),
        }
    }
}
