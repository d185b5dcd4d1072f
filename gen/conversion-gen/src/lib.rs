//! conversion-gen: will generate conversions between external versions and the internal hub, naming every function a human must write.
//!
//! Not built yet (see the project's issues): this crate exists so the workspace shows the
//! architecture. It generates nothing and the CLI does not offer it; [`NAME`] is its entry point's
//! name once it does.

/// The generator's name, as `kube-codegen --only` will accept it.
pub const NAME: &str = "conversion-gen";
