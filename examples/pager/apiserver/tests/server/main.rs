//! pager-apiserver's integration tests, one module per concern, in one test binary: each binary
//! would otherwise compile and link the server and its clients again. (`kubeconfig.rs` stays a
//! binary of its own: it sets `KUBECONFIG` for its whole process.)

#[path = "../common/mod.rs"]
mod common;
#[path = "../../../../../apiserver/storage/tests/common/etcd.rs"]
mod etcd_process;

mod admission;
mod apply;
mod auth;
mod controller;
mod etcd;
mod fake;
mod informer;
mod js_client;
mod kube_parity;
mod kubectl;
mod protobuf;
mod python_client;
mod reliability;
mod shutdown;
mod versions;
