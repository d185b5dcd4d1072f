//! kube-codegen as a library: the [`Config`] builder used from `build.rs` (in the spirit of
//! prost-build) and by the `kube-codegen` CLI.
//!
//! ```no_run
//! // build.rs: output into OUT_DIR, then `include!` it from each package module.
//! kube_codegen::Config::new()
//!     .input("src/apis")
//!     .generate()
//!     .unwrap_or_else(|e| panic!("{e}"));
//! ```
//!
//! Phases: parse → validate → generate → write. A run with any error writes nothing. A run with
//! nothing to do is answered from a stamp without parsing (see [`Config::use_stamp`]).

pub mod format;
mod stamp;
pub mod writer;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kube_codegen_model::output::{Content, Crates, GeneratedFile, Generator, Options, Placement};
use kube_codegen_model::{Diagnostic, Failure, Input, Loaded};
use rayon::prelude::*;

pub use kube_codegen_model as model;
pub use writer::{Outcome, RenderedFile};

/// Every built-in generator kube-codegen runs, in output order.
pub fn generators() -> Vec<Arc<dyn Generator>> {
    vec![
        Arc::new(register_gen::RegisterGen),
        Arc::new(deepcopy_gen::DeepcopyGen),
        Arc::new(openapi_gen::OpenapiGen),
        Arc::new(conversion_gen::ConversionGen),
        Arc::new(defaulter_gen::DefaulterGen),
        Arc::new(client_gen::ClientGen),
        Arc::new(lister_gen::ListerGen),
        Arc::new(informer_gen::InformerGen),
        Arc::new(applyconfiguration_gen::ApplyConfigurationGen),
        Arc::new(protobuf_gen::ProtobufGen),
    ]
}

/// Where in-crate output (register, deepcopy, ...) goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputMode {
    /// `$OUT_DIR` when set (a build script), else beside the types.
    Auto,
    /// Beside the types, in the source tree (committed).
    SourceTree,
    /// Under this directory, mirroring the input layout.
    Dir(PathBuf),
}

/// What to generate, from where, to where.
#[derive(Clone)]
pub struct Config {
    inputs: Vec<Input>,
    output: OutputMode,
    /// Output root of generators placed in a crate of their own (clients, listers, informers).
    separate_out: Option<PathBuf>,
    only: Option<Vec<String>>,
    crates: Crates,
    /// Generators added by the user, run after the built-in ones.
    extra: Vec<Arc<dyn Generator>>,
    emit_rerun_if_changed: bool,
    emit_cargo_warnings: bool,
    use_stamp: bool,
    stamp_dir: Option<PathBuf>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("inputs", &self.inputs)
            .field("output", &self.output)
            .field("separate_out", &self.separate_out)
            .field("only", &self.only)
            .field("crates", &self.crates)
            .field(
                "extra",
                &self.extra.iter().map(|g| g.name()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a run failed.
#[derive(Debug)]
pub enum Error {
    /// Problems in the input, rendered like rustc.
    Diagnostics(Failure),
    /// `--verify` found files that differ from what would be generated; the run's rendered
    /// warnings (empty when none), which an out-of-date run has as much as an up-to-date one.
    Verify {
        outcome: Outcome,
        warnings: String,
    },
    /// A name given to `only` that is not a generator.
    UnknownGenerator(String),
    /// The configuration cannot work (a crate override that is not a path, a separate-crate
    /// generator without a place to write to, ...).
    Config(String),
    Io(std::io::Error),
    /// Generated tokens did not parse: a bug in a generator, reported rather than panicking.
    Internal(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Diagnostics(failure) => write!(f, "{failure}"),
            Error::Verify {
                outcome: o,
                warnings,
            } => {
                write!(f, "{warnings}")?;
                writeln!(f, "error: generated code is out of date:")?;
                for p in &o.changed {
                    writeln!(f, "  differs: {}", p.display())?;
                }
                for p in &o.removed {
                    writeln!(f, "  stale:   {}", p.display())?;
                }
                write!(
                    f,
                    "help: run the generator again without `--verify` (the same `kube-codegen` command, or your crate's generator binary: `cargo run -p pager-gen` in kube-codegen's own repository) and commit the result"
                )
            }
            Error::UnknownGenerator(name) => {
                let known: Vec<&str> = generators().iter().map(|g| g.name()).collect();
                write!(
                    f,
                    "error: unknown generator `{name}`; available: {}",
                    known.join(", ")
                )
            }
            Error::Config(e) => write!(f, "error: {e}"),
            Error::Io(e) => write!(f, "error: {e}"),
            Error::Internal(e) => write!(f, "internal error (please report): {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

/// A successful run.
#[derive(Debug)]
pub struct Report {
    pub outcome: Outcome,
    /// Rendered warnings (empty when none).
    pub warnings: String,
    pub files: usize,
    /// The no-op fast path was taken: inputs, options, generator and outputs matched the stamp
    /// of the last run, so nothing was parsed or generated (every file is reported unchanged).
    pub from_stamp: bool,
}

impl Config {
    pub fn new() -> Self {
        Config {
            inputs: Vec::new(),
            output: OutputMode::Auto,
            separate_out: None,
            only: None,
            crates: Crates::default(),
            extra: Vec::new(),
            emit_rerun_if_changed: true,
            emit_cargo_warnings: true,
            use_stamp: true,
            stamp_dir: None,
        }
    }

    /// Adds an input directory (the folder holding `<group>/<version>/`). Its Rust module path
    /// is read from the crate layout.
    pub fn input(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.inputs.push(Input::new(dir));
        self
    }

    /// Adds an input directory whose Rust module path is given (`crate::apis`).
    pub fn input_at(&mut self, dir: impl Into<PathBuf>, rust_path: &str) -> &mut Self {
        self.inputs.push(Input {
            dir: dir.into(),
            rust_path: Some(rust_path.to_string()),
        });
        self
    }

    /// Writes in-crate output beside the types, to be committed.
    pub fn in_source_tree(&mut self) -> &mut Self {
        self.output = OutputMode::SourceTree;
        self
    }

    /// Writes in-crate output under `dir`, mirroring the input layout.
    pub fn out_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.output = OutputMode::Dir(dir.into());
        self
    }

    /// Where generators placed in a crate (or module) of their own write — clientsets, listers,
    /// informers: `dir` is that crate's `src/` (or the module's directory). Without it, such a
    /// generator's output is an error rather than a guess.
    pub fn client_out(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.separate_out = Some(dir.into());
        self
    }

    /// Adds a generator of your own, run after the built-in ones on the same model (like
    /// prost-build's `service_generator`). Its name must differ from every other generator's.
    pub fn generator(&mut self, generator: impl Generator + 'static) -> &mut Self {
        self.extra.push(Arc::new(generator));
        self
    }

    /// Runs only these generators (`register-gen`, `deepcopy-gen`; `register`/`deepcopy` too).
    pub fn only<S: AsRef<str>>(&mut self, names: &[S]) -> &mut Self {
        self.only = Some(names.iter().map(|s| s.as_ref().to_string()).collect());
        self
    }

    /// Overrides the paths generated code uses for runtime crates.
    /// Each must be a Rust path (`::k8s_openapi`, `crate::deps::k8s`); one that is not makes
    /// `generate`/`verify` fail with [`Error::Config`].
    pub fn crates(&mut self, crates: Crates) -> &mut Self {
        self.crates = crates;
        self
    }

    fn options(&self) -> Result<Options, Error> {
        let crates = self.crates.paths().map_err(|e| {
            Error::Config(format!(
                "{e}\nhelp: crate paths are Rust paths such as `::k8s_openapi` or `crate::deps::k8s_openapi`"
            ))
        })?;
        Ok(Options { crates })
    }

    /// Whether to print `cargo:rerun-if-changed` lines when writing to `$OUT_DIR` (default: yes).
    pub fn emit_rerun_if_changed(&mut self, yes: bool) -> &mut Self {
        self.emit_rerun_if_changed = yes;
        self
    }

    /// Whether, in a build script, [`generate`](Self::generate) prints the run's warnings as
    /// `cargo:warning=` lines, which cargo shows (default: yes). Elsewhere they are only in
    /// [`Report::warnings`].
    pub fn emit_cargo_warnings(&mut self, yes: bool) -> &mut Self {
        self.emit_cargo_warnings = yes;
        self
    }

    /// Whether [`generate`](Self::generate) may skip a run with nothing to do (default: yes). After
    /// each successful run a stamp records a digest of the inputs, options and generator binary
    /// and the hash of every output; when all of them still match, parse, generate and format are
    /// skipped. [`verify`](Self::verify) never uses it. See `docs/0009-no-op-regeneration-stamp.md`.
    pub fn use_stamp(&mut self, yes: bool) -> &mut Self {
        self.use_stamp = yes;
        self
    }

    /// Where stamps are kept. Default: `$OUT_DIR/.kube-codegen` in a build script, else
    /// `$KUBE_CODEGEN_CACHE_DIR`, else `$XDG_CACHE_HOME/kube-codegen/stamps` or
    /// `~/.cache/kube-codegen/stamps`; never the source tree.
    pub fn stamp_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.stamp_dir = Some(dir.into());
        self
    }

    /// Parses and validates the inputs without generating anything.
    pub fn load(&self) -> Result<Loaded, Error> {
        on_large_stacks(|| self.load_here())
    }

    fn load_here(&self) -> Result<Loaded, Error> {
        self.check_inputs_apart()?;
        let inputs: Vec<Input> = self
            .inputs
            .iter()
            .map(|input| Input {
                dir: input.dir.clone(),
                rust_path: input
                    .rust_path
                    .clone()
                    .or_else(|| self.same_crate_path(input)),
            })
            .collect();
        kube_codegen_model::load(&inputs).map_err(Error::Diagnostics)
    }

    /// `crate::apis` for an input whose crate also compiles the separate output (clients in a
    /// module of the types' own crate, or a build script's `$OUT_DIR` that crate includes):
    /// generated code there names the types from inside the crate, where the crate's own name
    /// does not resolve. `None` otherwise: the types' crate is named as another crate names it.
    fn same_crate_path(&self, input: &Input) -> Option<String> {
        let out = self.separate_out.as_deref()?;
        let types = kube_codegen_model::CrateInfo::find(&input.dir)?;
        let module = types.rust_path(&input.dir, Path::new(""))?;
        let out = existing_ancestor(out)?;
        let same = match std::env::var_os("OUT_DIR").and_then(|d| std::fs::canonicalize(d).ok()) {
            // A build script's output is compiled by the crate being built.
            Some(out_dir) if out.starts_with(&out_dir) => {
                let manifest = std::env::var_os("CARGO_MANIFEST_DIR")?;
                let built = kube_codegen_model::CrateInfo::find(Path::new(&manifest))?;
                built.root_dir == types.root_dir
            }
            // A module directory under the crate's root module (`src/client`).
            _ => out.starts_with(&types.root_dir),
        };
        let rest = module.split_once("::").map_or("", |(_, rest)| rest);
        same.then(|| {
            if rest.is_empty() {
                "crate".to_string()
            } else {
                format!("crate::{rest}")
            }
        })
    }

    /// Two inputs that are one directory (`apis ./apis/`, a symlink) or one inside the other
    /// would read and write the same packages twice.
    fn check_inputs_apart(&self) -> Result<(), Error> {
        let dirs: Vec<(PathBuf, &PathBuf)> = self
            .inputs
            .iter()
            // An input that does not exist is not compared here: loading reports it (E0002).
            .filter_map(|i| std::fs::canonicalize(&i.dir).ok().map(|c| (c, &i.dir)))
            .collect();
        for (i, (a, a_given)) in dirs.iter().enumerate() {
            for (b, b_given) in &dirs[i + 1..] {
                if a.starts_with(b) || b.starts_with(a) {
                    let how = if a == b {
                        "the same directory"
                    } else {
                        "one inside the other"
                    };
                    return Err(Error::Config(format!(
                        "the inputs {} and {} are {how}: each package must be read once (give the outer one only)",
                        a_given.display(),
                        b_given.display()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Generates and writes every changed file; removes stale generated files. In a build
    /// script, warnings are printed for cargo to show (see
    /// [`emit_cargo_warnings`](Self::emit_cargo_warnings)).
    pub fn generate(&self) -> Result<Report, Error> {
        let report = on_large_stacks(|| self.run(false))?;
        if self.emit_cargo_warnings && std::env::var_os("OUT_DIR").is_some() {
            print!("{}", cargo_warnings(&report.warnings));
        }
        Ok(report)
    }

    /// Generates in memory and compares with what is on disk; writes nothing.
    pub fn verify(&self) -> Result<Report, Error> {
        on_large_stacks(|| self.run(true))
    }

    fn selected(&self) -> Result<Vec<Arc<dyn Generator>>, Error> {
        let mut all = generators();
        // Built-in generators of a crate of their own (client-gen) run when that crate has a
        // place; generators added with `Config::generator` always run.
        if self.only.is_none() && self.separate_out.is_none() {
            all.retain(|g| g.placement() != Placement::Separate);
        }
        for g in &self.extra {
            if all.iter().any(|a| a.name() == g.name()) {
                return Err(Error::Config(format!(
                    "two generators are named `{}`; each generator needs its own name (it owns the files it writes)",
                    g.name()
                )));
            }
            all.push(g.clone());
        }
        let Some(only) = &self.only else {
            return Ok(all);
        };
        let mut out = Vec::new();
        for name in only {
            let full = if name.ends_with("-gen") {
                name.clone()
            } else {
                format!("{name}-gen")
            };
            match all.iter().find(|g| g.name() == full || g.name() == name) {
                // Named twice (`register,register-gen`): it runs once.
                Some(g)
                    if out
                        .iter()
                        .any(|o: &Arc<dyn Generator>| o.name() == g.name()) => {}
                Some(g) => out.push(g.clone()),
                None => return Err(Error::UnknownGenerator(name.clone())),
            }
        }
        Ok(out)
    }

    /// Where the run writes, and which stale files there are its own (see
    /// [`writer::OutputRoot`]): beside the types and in `OUT_DIR` everything the generators
    /// wrote; under `-o` the top-level directories mirroring an input's, and those the run
    /// writes into; under `--client-out` those it writes into.
    fn output_roots(&self, gens: &[Arc<dyn Generator>]) -> Vec<writer::OutputRoot> {
        let mut roots: Vec<writer::OutputRoot> = Vec::new();
        for input in &self.inputs {
            let dir = self.out_root(input);
            let exclusive = !matches!(self.output, OutputMode::Dir(_));
            let mirrors: std::collections::BTreeSet<std::ffi::OsString> = if exclusive {
                Default::default()
            } else {
                std::fs::read_dir(&input.dir)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.file_name())
                    .collect()
            };
            match roots.iter_mut().find(|r| r.dir == dir) {
                Some(r) => {
                    r.exclusive &= exclusive;
                    r.mirrors.extend(mirrors);
                }
                None => roots.push(writer::OutputRoot {
                    dir,
                    exclusive,
                    mirrors,
                }),
            }
        }
        if let Some(dir) = &self.separate_out
            && gens.iter().any(|g| g.placement() == Placement::Separate)
        {
            roots.push(writer::OutputRoot {
                dir: dir.clone(),
                exclusive: false,
                mirrors: Default::default(),
            });
        }
        roots
    }

    fn out_root(&self, input: &Input) -> PathBuf {
        match &self.output {
            OutputMode::SourceTree => input.dir.clone(),
            OutputMode::Dir(d) => d.clone(),
            OutputMode::Auto => match std::env::var_os("OUT_DIR") {
                Some(d) => PathBuf::from(d),
                None => input.dir.clone(),
            },
        }
    }

    /// Runs every phase and returns the formatted files, without touching the disk.
    pub fn render(&self) -> Result<(Vec<RenderedFile>, Loaded), Error> {
        on_large_stacks(|| self.render_here())
    }

    fn render_here(&self) -> Result<(Vec<RenderedFile>, Loaded), Error> {
        let gens = self.selected()?;
        let options = self.options()?;
        let timings = Timings::from_env();
        let started = std::time::Instant::now();
        let loaded = self.load_here()?;
        if timings.enabled {
            eprintln!(
                "kube-codegen timings: load {:.1} ms (wall); {}",
                started.elapsed().as_secs_f64() * 1000.0,
                memory_now()
            );
        }
        timings.add(&timings.load, started);
        let model = &loaded.model;
        let mut diags: Vec<Diagnostic> = gens
            .par_iter()
            .flat_map_iter(|g| {
                g.validate(model).into_iter().chain(
                    model
                        .packages
                        .par_iter()
                        .flat_map_iter(|p| g.validate_package(model, p))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        // Generators that touch the same field (a hub type converted from two versions) may
        // report it alike: once is enough.
        kube_codegen_model::diag::sort(&mut diags);
        diags.dedup();
        if diags.iter().any(Diagnostic::is_error) {
            // With the model's warnings, as rustc prints warnings beside errors: one may say
            // why (a `conversion.rs` no module declares holds the function E0501 asks for).
            let mut diagnostics = loaded.warnings;
            diagnostics.append(&mut diags);
            kube_codegen_model::diag::sort(&mut diagnostics);
            return Err(Error::Diagnostics(Failure {
                diagnostics,
                sources: loaded.sources,
            }));
        }
        // Generators' warnings are reported with the model's.
        let mut loaded = loaded;
        loaded.warnings.append(&mut diags);
        kube_codegen_model::diag::sort(&mut loaded.warnings);
        let inputs = InputTexts::new(&loaded.sources);
        // Jobs: every generator once for the whole model, and once per package.
        let jobs: Vec<(&dyn Generator, Option<usize>)> = gens
            .iter()
            .flat_map(|g| {
                std::iter::once((g.as_ref(), None))
                    .chain((0..loaded.model.packages.len()).map(move |i| (g.as_ref(), Some(i))))
            })
            .collect();
        // One rayon task per job: jobs differ in cost a hundredfold (a package's OpenAPI
        // against its register file), and rayon otherwise splits the list into a few long
        // runs, leaving one thread alone with the last run while the other waits.
        let rendered: Result<Vec<Vec<RenderedFile>>, Error> = jobs
            .par_iter()
            .with_max_len(1)
            .map(|(g, pkg)| {
                let started = std::time::Instant::now();
                let (generated, root): (Vec<GeneratedFile>, Option<PathBuf>) = match pkg {
                    None => (g.generate_model(&loaded.model, &options), None),
                    Some(i) => {
                        let pkg = &loaded.model.packages[*i];
                        let root = self.out_root(&self.inputs[pkg.input]);
                        (g.generate_package(&loaded.model, pkg, &options), Some(root))
                    }
                };
                timings.add_for(g.name(), RenderPhase::Generate, started);
                let root = match g.placement() {
                    Placement::Separate => match &self.separate_out {
                        Some(dir) => dir.clone(),
                        None if generated.is_empty() => PathBuf::new(),
                        None => {
                            return Err(Error::Config(format!(
                                "{} writes a crate of its own: give it a place with `--client-out DIR` (CLI) or `Config::client_out(dir)`",
                                g.name()
                            )));
                        }
                    },
                    Placement::InCrate => match root {
                        Some(root) => root,
                        None if generated.is_empty() => PathBuf::new(),
                        // A whole-model file placed in the crate of the types: the first
                        // input's output root.
                        None => match self.inputs.first() {
                            Some(input) => self.out_root(input),
                            None => PathBuf::new(),
                        },
                    },
                };
                // A file with nothing in it is not written (e.g. deepcopy of an empty hub),
                // unless the package module includes it: a uniform `include!` list compiles.
                let root_text = std::cell::OnceCell::new();
                let included = |path: &Path| -> bool {
                    let Some(i) = pkg else { return false };
                    let pkg = &loaded.model.packages[*i];
                    let text = root_text.get_or_init(|| {
                        let input = &self.inputs[pkg.input];
                        inputs
                            .text(&input.dir.join(&pkg.root_file))
                            .unwrap_or_default()
                    });
                    // `include!("zz_generated.x.rs")`, or a build script's
                    // `include!(concat!(env!("OUT_DIR"), "/<package dir>/zz_generated.x.rs"))`.
                    let dir = pkg.dir.display().to_string();
                    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                        text.contains(&format!("\"{n}\""))
                            || text.contains(&format!("\"/{dir}/{n}\""))
                            || (dir.is_empty() && text.contains(&format!("\"/{n}\"")))
                    })
                };
                generated
                    .into_iter()
                    .filter(|f| match &f.content {
                        Content::Rust(tokens) => !tokens.is_empty() || included(&f.path),
                        Content::Text(text) => !text.is_empty(),
                    })
                    .map(|f| {
                        if f.path.is_absolute()
                            || f.path.components().any(|c| {
                                matches!(c, std::path::Component::ParentDir)
                            })
                        {
                            return Err(Error::Internal(format!(
                                "{} wants to write {}, outside its output root",
                                g.name(),
                                f.path.display()
                            )));
                        }
                        let body = match f.content {
                            Content::Rust(tokens) => {
                                let started = std::time::Instant::now();
                                let file = format::syntax_tree(tokens).map_err(|e| {
                                    Error::Internal(format!(
                                        "{} produced invalid Rust for {}: {e}",
                                        g.name(),
                                        f.path.display()
                                    ))
                                })?;
                                timings.add_for(g.name(), RenderPhase::ParseOutput, started);
                                let started = std::time::Instant::now();
                                let text = prettyplease::unparse(&file);
                                timings.add_for(g.name(), RenderPhase::Format, started);
                                text
                            }
                            Content::Text(t) => t,
                        };
                        Ok(RenderedFile {
                            path: root.join(&f.path),
                            generator: g.name(),
                            text: writer::with_header(g.name(), &body),
                        })
                    })
                    .collect()
            })
            .collect();
        timings.report();
        let mut files: Vec<RenderedFile> = rendered?.into_iter().flatten().collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        if let Some(w) = files.windows(2).find(|w| w[0].path == w[1].path) {
            return Err(Error::Config(format!(
                "two outputs would be written to {} ({} and {}); give each input its own output directory",
                w[0].path.display(),
                w[0].generator,
                w[1].generator
            )));
        }
        Ok((files, loaded))
    }

    fn run(&self, verify: bool) -> Result<Report, Error> {
        let gens = self.selected()?;
        let roots = self.output_roots(&gens);
        let names: Vec<&str> = gens.iter().map(|g| g.name()).collect();
        let stamp = stamp::Stamp::prepare(self, verify, &roots, &names);
        if let Some(report) = stamp.as_ref().and_then(stamp::Stamp::reuse) {
            self.print_rerun_if_changed(verify);
            return Ok(report);
        }
        let (files, loaded) = self.render_here()?;
        let started = std::time::Instant::now();
        let inputs = InputTexts::new(&loaded.sources);
        let outcome = writer::write(&files, &roots, &names, verify, &|p| inputs.contains(p))?;
        if std::env::var_os("KUBE_CODEGEN_TIMINGS").is_some() {
            eprintln!(
                "kube-codegen timings: write and stale-file scan {:.1} ms (wall); {}",
                started.elapsed().as_secs_f64() * 1000.0,
                memory_now()
            );
        }
        self.print_rerun_if_changed(verify);
        let mut warnings = if loaded.warnings.is_empty() {
            String::new()
        } else {
            loaded.sources.render(&loaded.warnings)
        };
        warnings.push_str(&self.missing_includes(&files, &loaded, &inputs));
        warnings.push_str(&self.unrecorded_protobuf(&files, &loaded));
        if verify && !outcome.is_clean() {
            return Err(Error::Verify { outcome, warnings });
        }
        let report = Report {
            files: files.len(),
            outcome,
            warnings,
            from_stamp: false,
        };
        if let Some(stamp) = &stamp {
            stamp.record(&files, &report, &loaded.sources);
        }
        // Freeing the model and the rendered text takes milliseconds nobody needs to wait for
        // (on a large stack too: a deeply nested model is dropped recursively).
        // A thread that cannot start drops its closure, and with it the data, right here.
        let _detached = std::thread::Builder::new()
            .stack_size(STACK_BYTES)
            .spawn(move || drop((files, loaded)));
        Ok(report)
    }

    fn print_rerun_if_changed(&self, verify: bool) {
        if !verify
            && self.emit_rerun_if_changed
            && self.output == OutputMode::Auto
            && std::env::var_os("OUT_DIR").is_some()
        {
            for input in &self.inputs {
                println!("cargo:rerun-if-changed={}", input.dir.display());
            }
        }
    }
}

/// The input files as the loader read them, by absolute path: what the run generated from,
/// read again from disk only for a file the loader did not read.
struct InputTexts<'a>(std::collections::HashMap<PathBuf, &'a str>);

impl<'a> InputTexts<'a> {
    fn new(sources: &'a kube_codegen_model::Sources) -> Self {
        InputTexts(
            sources
                .files()
                .filter_map(|(path, text)| Some((std::path::absolute(path).ok()?, text)))
                .collect(),
        )
    }

    fn contains(&self, path: &Path) -> bool {
        std::path::absolute(path).is_ok_and(|p| self.0.contains_key(&p))
    }

    fn text(&self, path: &Path) -> Option<std::borrow::Cow<'a, str>> {
        match std::path::absolute(path).ok().and_then(|p| self.0.get(&p)) {
            Some(text) => Some(std::borrow::Cow::Borrowed(*text)),
            None => std::fs::read_to_string(path)
                .ok()
                .map(std::borrow::Cow::Owned),
        }
    }
}

impl Config {
    /// A generated file the package module does not `include!` compiles to nothing: say so.
    /// Packages whose protobuf field numbers are written outside the source tree (a build
    /// script's `OUT_DIR`) with no record beside the types: their numbers would follow the
    /// declaration order, so moving a field would renumber it. Say how to keep them.
    fn unrecorded_protobuf(&self, files: &[RenderedFile], loaded: &Loaded) -> String {
        let mut out = String::new();
        for pkg in loaded
            .model
            .packages
            .iter()
            .filter(|p| p.options.protobuf && p.protobuf_record.is_none())
        {
            let input = &self.inputs[pkg.input];
            let record = input
                .dir
                .join(&pkg.dir)
                .join(kube_codegen_model::proto_record::FILE);
            let written = self
                .out_root(input)
                .join(&pkg.dir)
                .join(kube_codegen_model::proto_record::FILE);
            if written == record || !files.iter().any(|f| f.path == written) {
                continue;
            }
            out.push_str(&format!(
                "warning: the protobuf field numbers of {} are not recorded beside its types\n  = note: without {} they follow the declaration order, and moving a field renumbers it\n  = help: copy {} to {} and commit it (kube-codegen reads the numbers from there)\n",
                pkg.display_name(),
                record.display(),
                written.display(),
                record.display()
            ));
        }
        out
    }

    fn missing_includes(
        &self,
        files: &[RenderedFile],
        loaded: &Loaded,
        inputs: &InputTexts<'_>,
    ) -> String {
        let mut by_dir: std::collections::HashMap<&Path, Vec<&RenderedFile>> = Default::default();
        for f in files {
            if let Some(dir) = f.path.parent() {
                by_dir.entry(dir).or_default().push(f);
            }
        }
        let per_package: Vec<String> = loaded
            .model
            .packages
            .par_iter()
            .map(|pkg| self.missing_includes_of(pkg, &by_dir, inputs))
            .collect();
        per_package.concat()
    }

    fn missing_includes_of(
        &self,
        pkg: &kube_codegen_model::Package,
        by_dir: &std::collections::HashMap<&Path, Vec<&RenderedFile>>,
        inputs: &InputTexts<'_>,
    ) -> String {
        let mut out = String::new();
        let input = &self.inputs[pkg.input];
        let pkg_out = self.out_root(input).join(&pkg.dir);
        let Some(files) = by_dir.get(pkg_out.as_path()) else {
            return out;
        };
        let root_file = input.dir.join(&pkg.root_file);
        let Some(text) = inputs.text(&root_file) else {
            return out;
        };
        let build_script = self.output == OutputMode::Auto && std::env::var_os("OUT_DIR").is_some();
        // A package of files alone (`v1/types.rs`, no `v1/mod.rs` or `v1.rs`): generated code
        // names `self::types::Widget`, from a module file that is not there to include it.
        if !pkg.has_module_file() {
            let mut lines: Vec<String> = Vec::new();
            let modules: std::collections::BTreeSet<&String> =
                pkg.types.iter().filter_map(|t| t.module.first()).collect();
            for m in modules {
                lines.push(format!("mod {m};"));
                lines.push(format!("pub use {m}::*;"));
            }
            for f in files {
                let Some(name) = f.path.file_name().map(|n| n.to_string_lossy().into_owned())
                else {
                    continue;
                };
                if name.ends_with(".rs") {
                    lines.push(if build_script {
                        format!(
                            "include!(concat!(env!(\"OUT_DIR\"), \"/{}\"));",
                            pkg.dir.join(&name).display()
                        )
                    } else {
                        format!("include!(\"{name}\");")
                    });
                }
            }
            let module_file = input.dir.join(&pkg.dir).join("mod.rs");
            out.push_str(&format!(
                "warning[W0120]: {} has no module file ({} or {}.rs), so the code generated for it is not compiled\n  --> {}:1:1\n  = note: generated code belongs in the package's module, and names the types through their files' modules (`self::types::…`)\n  = help: create {} holding:\n            {}\n",
                input.dir.join(&pkg.dir).display(),
                module_file.display(),
                input.dir.join(&pkg.dir).display(),
                root_file.display(),
                module_file.display(),
                lines.join("\n            ")
            ));
            return out;
        }
        for f in files {
            let Some(name) = f.path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
                continue;
            };
            // Data files (a package's `generated.proto`) are not Rust to include.
            if !name.ends_with(".rs") {
                continue;
            }
            // `include!` paths are relative to the directory of the file that contains them.
            let from = root_file.parent().unwrap_or(Path::new("."));
            let rel = relative_path(from, &f.path);
            // Beside the types, a plain `include!("…")` of the file is checked to resolve to
            // it: a flat `v1.rs`'s `include!("zz_generated.register.rs")` names
            // `widgets/zz_generated.register.rs`, not the `widgets/v1/` file written.
            let beside_types = !build_script && self.out_root(input) == input.dir;
            let literals = included_literals(&text, &name);
            if beside_types
                && !literals.is_empty()
                && !literals
                    .iter()
                    .any(|(lit, _)| same_relative_path(lit, &rel))
            {
                let (lit, at) = &literals[0];
                let (line, col) = line_col(&text, *at);
                out.push_str(&format!(
                    "warning[W0120]: `include!(\"{lit}\")` in {} does not name the generated {}, so it is not compiled\n  --> {}:{line}:{col}\n  = note: `include!` paths are relative to the directory of the file that contains them: {}\n  = help: write `include!(\"{}\");`\n",
                    root_file.display(),
                    f.path.display(),
                    root_file.display(),
                    from.display(),
                    rel.display()
                ));
                continue;
            }
            if text.contains(&name) {
                continue;
            }
            let include = if build_script {
                let rel = pkg.dir.join(&name);
                format!(
                    "include!(concat!(env!(\"OUT_DIR\"), \"/{}\"));",
                    rel.display()
                )
            } else {
                format!("include!(\"{}\");", rel.display())
            };
            out.push_str(&format!(
                "warning[W0120]: {} does not include the generated {name}, so it is not compiled\n  --> {}:1:1\n  = help: add `{include}` to {}\n",
                root_file.display(),
                root_file.display(),
                root_file.display()
            ));
        }
        out
    }
}

/// The string literals of `include!("…")`s in `text` naming a file called `name`, with their
/// byte offsets (other forms, `concat!(env!("OUT_DIR"), …)`, are not literals).
fn included_literals<'t>(text: &'t str, name: &str) -> Vec<(&'t str, usize)> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("include!") {
        let rest = &text[at + "include!".len()..];
        let Some(rest) = rest.trim_start().strip_prefix('(') else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix('"') else {
            continue;
        };
        let Some(end) = rest.find('"') else { continue };
        let lit = &rest[..end];
        if Path::new(lit).file_name().is_some_and(|n| n == name) {
            found.push((lit, text.len() - rest.len()));
        }
    }
    found
}

/// Whether the path written `written` is `rel` (`./v1/x.rs` is `v1/x.rs`).
fn same_relative_path(written: &str, rel: &Path) -> bool {
    let parts = |p: &Path| -> Vec<std::ffi::OsString> {
        p.components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .map(|c| c.as_os_str().to_os_string())
            .collect()
    };
    parts(Path::new(written)) == parts(rel)
}

/// The 1-based line and column (in characters) of byte offset `at` of `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .chars()
        .count()
        + 1;
    (line, col)
}

/// `to` relative to the directory `from` (both made absolute first).
fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from = std::path::absolute(from).unwrap_or_else(|_| from.to_path_buf());
    let to = std::path::absolute(to).unwrap_or_else(|_| to.to_path_buf());
    let from: Vec<_> = from.components().collect();
    let to_parts: Vec<_> = to.components().collect();
    let common = from
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut rel = PathBuf::new();
    for _ in common..from.len() {
        rel.push("..");
    }
    for c in &to_parts[common..] {
        rel.push(c);
    }
    rel
}

/// The stack of every thread that parses, lowers, generates or prints: syn, the model's
/// walks and prettyplease recurse as deep as the input nests (`Option<Option<…>>` thousands
/// deep is valid Rust). Address space only: pages are touched as deep as the recursion goes.
pub const STACK_BYTES: usize = 512 << 20;

/// Runs `work` on a pool of threads with [`STACK_BYTES`] stacks, whatever stack the caller has
/// (a build script's main thread, a test thread): the library survives what the CLI survives.
fn on_large_stacks<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    match rayon::ThreadPoolBuilder::new()
        .stack_size(STACK_BYTES)
        .thread_name(|i| format!("kube-codegen-{i}"))
        .build()
    {
        Ok(pool) => pool.install(work),
        // No threads to be had (a sandbox's limit): the caller's own, as before.
        Err(_) => work(),
    }
}

/// The process's CPU time so far and its resident memory now and at its peak, from `/proc/self`
/// (Linux), for the timings report: CPU beside wall time shows how well a phase uses the cores,
/// and memory first touched is memory the kernel must zero.
fn memory_now() -> String {
    // utime and stime are fields 14 and 15, counted after the parenthesised command name.
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let ticks: Vec<u64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().skip(11).take(2))
        .into_iter()
        .flatten()
        .filter_map(|t| t.parse().ok())
        .collect();
    let cpu = match ticks[..] {
        // The kernel counts in USER_HZ, 100 per second on every Linux ABI.
        [user, system] => format!("cpu {} ms user, {} ms system; ", user * 10, system * 10),
        _ => String::new(),
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| "?".into())
    };
    format!("{cpu}rss {}, peak {}", field("VmRSS:"), field("VmHWM:"))
}

/// CPU time per phase, summed over threads, printed to stderr when `KUBE_CODEGEN_TIMINGS` is
/// set: where a run's time goes, without a profiler.
struct Timings {
    enabled: bool,
    load: std::sync::atomic::AtomicU64,
    generate: std::sync::atomic::AtomicU64,
    parse_output: std::sync::atomic::AtomicU64,
    format: std::sync::atomic::AtomicU64,
    /// Per generator: generate, parse output, format (µs, summed over threads).
    by_generator: std::sync::Mutex<std::collections::BTreeMap<&'static str, [u64; 3]>>,
}

/// A phase of rendering, for [`Timings::add_for`].
#[derive(Clone, Copy)]
enum RenderPhase {
    Generate = 0,
    ParseOutput = 1,
    Format = 2,
}

impl Timings {
    fn from_env() -> Self {
        Timings {
            enabled: std::env::var_os("KUBE_CODEGEN_TIMINGS").is_some(),
            load: Default::default(),
            generate: Default::default(),
            parse_output: Default::default(),
            format: Default::default(),
            by_generator: Default::default(),
        }
    }

    /// [`Timings::add`] to a render phase, overall and for `generator`.
    fn add_for(&self, generator: &'static str, phase: RenderPhase, since: std::time::Instant) {
        if !self.enabled {
            return;
        }
        let micros = since.elapsed().as_micros() as u64;
        let slot = match phase {
            RenderPhase::Generate => &self.generate,
            RenderPhase::ParseOutput => &self.parse_output,
            RenderPhase::Format => &self.format,
        };
        slot.fetch_add(micros, std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut by) = self.by_generator.lock() {
            by.entry(generator).or_default()[phase as usize] += micros;
        }
    }

    fn add(&self, slot: &std::sync::atomic::AtomicU64, since: std::time::Instant) {
        if self.enabled {
            slot.fetch_add(
                since.elapsed().as_micros() as u64,
                std::sync::atomic::Ordering::Relaxed,
            );
        }
    }

    fn report(&self) {
        if !self.enabled {
            return;
        }
        let ms = |a: &std::sync::atomic::AtomicU64| {
            a.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1000.0
        };
        eprintln!(
            "kube-codegen timings (ms, summed over threads): parse+validate input {:.1}, generate {:.1}, parse output {:.1}, format {:.1}",
            ms(&self.load),
            ms(&self.generate),
            ms(&self.parse_output),
            ms(&self.format)
        );
        if let Ok(by) = self.by_generator.lock() {
            for (name, [generate, parse, format]) in by.iter() {
                eprintln!(
                    "kube-codegen timings:   {name}: generate {:.1}, parse output {:.1}, format {:.1}",
                    *generate as f64 / 1000.0,
                    *parse as f64 / 1000.0,
                    *format as f64 / 1000.0
                );
            }
        }
        eprintln!("kube-codegen timings: after render; {}", memory_now());
    }
}

/// `path` canonicalized, or its nearest ancestor that exists (an output directory may not be
/// created yet).
fn existing_ancestor(path: &Path) -> Option<PathBuf> {
    let mut missing = Vec::new();
    let mut cur = path.to_path_buf();
    loop {
        if let Ok(found) = std::fs::canonicalize(if cur.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &cur
        }) {
            return Some(missing.iter().rev().fold(found, |p, c| p.join(c)));
        }
        missing.push(cur.file_name()?.to_os_string());
        cur = cur.parent()?.to_path_buf();
    }
}

/// What was inferred, for `--explain`: groups, versions, kinds, plurals, scopes, module paths.
pub fn explain(loaded: &Loaded) -> String {
    let mut out = String::new();
    for pkg in &loaded.model.packages {
        // A package at the input's root has an empty relative directory.
        let dir = if pkg.dir.as_os_str().is_empty() {
            ". (the input directory)".to_string()
        } else {
            pkg.dir.display().to_string()
        };
        out.push_str(&format!("package {dir}\n"));
        let group_origin = match &pkg.group_origin {
            kube_codegen_model::Origin::Tag(span) => {
                format!("from +groupName at {}", loaded.sources.location(*span))
            }
            other => other.describe(),
        };
        out.push_str(&format!("  group:       {} ({group_origin})\n", pkg.group));
        out.push_str(&format!(
            "  version:     {}\n",
            pkg.version.as_deref().unwrap_or("internal (hub)")
        ));
        out.push_str(&format!(
            "  module path: {}\n",
            pkg.rust_path.clone().unwrap_or_else(|| format!(
                "<unknown: not under the crate's root module> ({})",
                pkg.module.join("::")
            ))
        ));
        out.push_str(&format!("  root file:   {}\n", pkg.root_file.display()));
        for (t, r) in pkg.roots() {
            let scope = if r.namespaced {
                "Namespaced"
            } else {
                "Cluster"
            };
            let scale = match &r.scale {
                Some(s) => format!(
                    ", scale=replicas .{} / .{}{}",
                    s.spec_replicas_path.join("."),
                    s.status_replicas_path.join("."),
                    match &s.label_selector_path {
                        Some(p) => format!(" selector .{}", p.join(".")),
                        None => String::new(),
                    }
                ),
                None => String::new(),
            };
            out.push_str(&format!(
                "  kind {}: plural={} ({}), singular={}, scope={} ({}){}{}{}\n",
                r.kind,
                r.plural,
                origin(&r.plural_origin),
                r.singular,
                scope,
                origin(&r.scope_origin),
                if r.short_names.is_empty() {
                    String::new()
                } else {
                    format!(", shortNames={}", r.short_names.join(","))
                },
                scale,
                match &r.client {
                    Some(c) => format!(
                        ", client verbs={}",
                        c.verbs
                            .iter()
                            .map(|v| v.as_str())
                            .collect::<Vec<_>>()
                            .join(",")
                    ),
                    None => String::new(),
                }
            ));
            let _ = t;
        }
        let others: Vec<&str> = pkg
            .types
            .iter()
            .filter(|t| t.resource.is_none())
            .map(|t| t.name.as_str())
            .collect();
        if !others.is_empty() {
            out.push_str(&format!("  other types: {}\n", others.join(", ")));
        }
    }
    out
}

fn origin(o: &kube_codegen_model::Origin) -> String {
    match o {
        kube_codegen_model::Origin::Tag(_) => "from tag".into(),
        other => other.describe(),
    }
}

/// The `include!` lines a package module needs for the files generated beside it.
pub fn include_lines(files: &[RenderedFile], package_dir: &Path) -> Vec<String> {
    files
        .iter()
        .filter(|f| f.path.parent() == Some(package_dir))
        .filter_map(|f| f.path.file_name())
        .map(|n| format!("include!(\"{}\");", n.to_string_lossy()))
        .collect()
}

/// Rendered warnings as build-script output: one `cargo:warning=` line per line (cargo shows
/// each as a warning of its own; an empty line keeps the rendering's spacing).
fn cargo_warnings(rendered: &str) -> String {
    rendered
        .lines()
        .map(|line| format!("cargo:warning={line}\n"))
        .collect()
}

#[cfg(test)]
mod cargo_warnings_tests {
    #[test]
    fn every_line_is_a_cargo_warning() {
        assert_eq!(
            super::cargo_warnings("warning[W0318]: x\n --> a.rs:1:1\n\n"),
            "cargo:warning=warning[W0318]: x\ncargo:warning= --> a.rs:1:1\ncargo:warning=\n"
        );
        assert_eq!(super::cargo_warnings(""), "");
    }
}
