//! Integration tests of the layer, grouped in one binary (link time matters on small CI machines).

mod support;

mod async_tasks;
mod behaviour_vectors;
mod code_path;
mod composition;
mod export;
mod hardening;
mod headers;
mod host_and_thread;
mod panic_status;
mod privacy;
mod regressions;
mod remote_parent;
mod sampling;
mod span_tree;
mod stream;
mod telemetry;
