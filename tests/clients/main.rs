//! The client and server integrations against real servers on loopback: `reqwest`, the
//! `tower` client and server layers, and gRPC through tonic.

// The `it` binary's harness; these tests use part of it.
#[expect(dead_code, reason = "the client tests use part of the harness")]
#[path = "../it/support.rs"]
mod support;

mod grpc;
mod net;
mod outgoing;
mod panics;
mod reqwest_client;
mod tower_layers;
