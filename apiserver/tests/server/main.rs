//! The API server's integration tests, one module per concern, in one test binary: each binary
//! would otherwise compile and link the whole generic server again for the same test kinds.
//! (`fuzz.rs` stays a binary of its own: it installs a process-wide panic hook.)

mod admission;
mod apply;
mod apply_differential;
mod auth;
mod hardening;
mod http2;
mod kube_parity;
mod namespaces;
mod openapi;
mod rest;
mod stored_bytes;
mod streaming;
mod versions;
mod webhooks;
