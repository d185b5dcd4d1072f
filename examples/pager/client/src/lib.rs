//! The pager API's generated client code (`cargo run -p pager-gen` rewrites `clientset/`,
//! `listers/`, `informers/` and `applyconfigurations/`): a typed [`Clientset`] for `pager.k8s.co` v1alpha1 and v1beta1
//! (with the `fake` feature, `clientset::fake::builder()`: the real API server in-process for
//! tests), listers over the informer cache, and a [`SharedInformerFactory`].
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use pager_client::Clientset;
//! use kube_codegen_client::ListParams;
//! let clientset = Clientset::try_default().await?;
//! let alerts = clientset.pager_v1beta1().alerts("default");
//! for alert in alerts.list(&ListParams::default().fields("status.sent=false")).await? {
//!     println!("{}", alert.spec.title);
//! }
//! # Ok(()) }
//! ```

// Generated into `examples/pager/generated/` (formatted by prettyplease, checked by
// `pager-gen --verify`; rustfmt keeps out). This crate is the hand-written shell around it.
#[rustfmt::skip]
#[path = "../../generated/applyconfigurations/mod.rs"]
pub mod applyconfigurations;
#[rustfmt::skip]
#[path = "../../generated/clientset/mod.rs"]
pub mod clientset;
#[rustfmt::skip]
#[path = "../../generated/informers/mod.rs"]
pub mod informers;
#[rustfmt::skip]
#[path = "../../generated/listers/mod.rs"]
pub mod listers;

pub use clientset::Clientset;
pub use informers::SharedInformerFactory;
