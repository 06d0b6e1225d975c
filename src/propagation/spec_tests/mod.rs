//! The protocol core's own tests that need its private spec helpers: the wire vectors taken
//! from the official SDKs' tests (`tests/data/vectors.json`) and the parsers' property tests.

mod proptest_parsers;
mod wire_vectors;
