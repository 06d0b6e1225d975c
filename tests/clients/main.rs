//! The client and server integrations against real servers on loopback: `reqwest`, the
//! `tower` client and server layers, and gRPC through tonic.

#[path = "../it/support.rs"]
mod support;

mod grpc;
mod net;
mod outgoing;
mod panics;
mod reqwest_client;
mod tower_layers;
