//! `kube-codegen`: read annotated `types.rs`, run the generators, write formatted code.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

// Generation allocates many small token trees; mimalloc measurably beats the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

unsafe extern "C" {
    // mimalloc's option API (mimalloc.h), in the library the allocator links.
    #[cfg(test)]
    fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// `mi_option_purge_delay` in mimalloc's `mi_option_e` (v2 and v3): how long freed memory is
/// kept before it is returned to the OS (1,000 ms by default in v3, which the `mimalloc` crate
/// builds; pages are still purged as they are freed within that time).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

/// Keeps freed memory for reuse until the process exits. A generation run is short and frees
/// and allocates token trees throughout: returning the memory costs `madvise` calls, TLB
/// flushes and page faults when it is used again (about 5 % of a 1,000-kind run). Left alone
/// when the environment sets it (`MIMALLOC_PURGE_DELAY`).
fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mimalloc's own option call, made before any other thread is started.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
}

/// Generate Kubernetes API code (register/codec, deepcopy, ...) from annotated types.rs.
#[derive(Parser, Debug)]
#[command(name = "kube-codegen", version)]
struct Cli {
    /// Directories holding `<group>/<version>/` API packages.
    #[arg(required_unless_present = "tags", value_name = "INPUT_DIR")]
    inputs: Vec<PathBuf>,
    /// Where in-crate code goes, mirroring the input layout (default: beside the types).
    #[arg(short, long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// Where generators that write a crate of their own (clients, listers, informers) put it:
    /// that crate's `src/` directory, or a module directory. They run only when it is given.
    #[arg(long, value_name = "DIR")]
    client_out: Option<PathBuf>,
    /// Rust module path of the input directory (`crate::apis`), when the crate layout can't tell.
    #[arg(long, value_name = "PATH", value_parser = rust_path)]
    module_path: Option<String>,
    /// Compare with what is on disk; list every file that differs; write nothing.
    #[arg(long, conflicts_with = "explain")]
    verify: bool,
    /// Run only these generators (comma-separated: register, deepcopy, openapi, conversion,
    /// defaulter, client, lister, informer, applyconfiguration, protobuf).
    #[arg(long, value_delimiter = ',', value_name = "GENERATORS")]
    only: Option<Vec<String>>,
    /// Print what was inferred (groups, versions, kinds, plurals, scopes, module paths) and exit.
    #[arg(long)]
    explain: bool,
    /// Always run every phase, even when the stamp of the last run shows nothing changed.
    /// (Stamps live in $KUBE_CODEGEN_CACHE_DIR, else ~/.cache/kube-codegen/stamps; --verify never
    /// uses them.)
    #[arg(long)]
    no_cache: bool,
    /// List every file written or removed.
    #[arg(short, long)]
    verbose: bool,
    /// Print the table of every tag kube-codegen understands (Markdown) and exit.
    #[arg(long, conflicts_with_all = ["inputs", "out_dir", "client_out", "module_path", "verify", "only", "explain"])]
    tags: bool,
}

/// `--module-path`: a Rust path (`crate::apis`, `pager`).
fn rust_path(text: &str) -> Result<String, String> {
    kube_codegen::model::RustPath::parse(text)
        .map(|_| text.to_string())
        .map_err(|e| format!("not a Rust module path ({e}); e.g. `crate::apis` or `pager`"))
}

/// Exit code of a command line that cannot work (clap's own errors exit 2 too).
const BAD_COMMAND_LINE: u8 = 2;

// Parsing and generating run on the library's large-stack threads (`kube_codegen::STACK_BYTES`):
// a deeply nested input gets through rather than aborting the process.
fn main() -> ExitCode {
    keep_freed_memory();
    let cli = Cli::parse();
    if cli.tags {
        print!("{}", kube_codegen::model::tags::markdown_table());
        return ExitCode::SUCCESS;
    }
    let mut config = kube_codegen::Config::new();
    for dir in &cli.inputs {
        match &cli.module_path {
            Some(p) => config.input_at(dir, p),
            None => config.input(dir),
        };
    }
    match &cli.out_dir {
        Some(d) => config.out_dir(d),
        None => config.in_source_tree(),
    };
    if let Some(dir) = &cli.client_out {
        config.client_out(dir);
    }
    if let Some(only) = &cli.only {
        config.only(only);
    }
    if cli.no_cache {
        config.use_stamp(false);
    }
    if cli.explain {
        return match config.load() {
            Ok(loaded) => {
                if !loaded.warnings.is_empty() {
                    eprint!("{}", loaded.sources.render(&loaded.warnings));
                }
                print!("{}", kube_codegen::explain(&loaded));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprint!("{e}");
                exit_code(&e)
            }
        };
    }
    let result = if cli.verify {
        config.verify()
    } else {
        config.generate()
    };
    match result {
        Ok(report) => {
            eprint!("{}", report.warnings);
            let o = &report.outcome;
            if cli.verify {
                eprintln!("kube-codegen: {} files up to date", report.files);
            } else {
                // Small runs list their files; big ones only with --verbose.
                if cli.verbose || o.changed.len() + o.removed.len() <= 20 {
                    for p in &o.changed {
                        eprintln!("wrote   {}", p.display());
                    }
                    for p in &o.removed {
                        eprintln!("removed {}", p.display());
                    }
                }
                eprintln!(
                    "kube-codegen: {} files, {} written, {} unchanged, {} removed",
                    report.files,
                    o.changed.len(),
                    o.unchanged,
                    o.removed.len()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            exit_code(&e)
        }
    }
}

/// `2` for a command line that cannot work (a generator that does not exist, one that needs
/// `--client-out`, an input given twice), `1` for everything else.
fn exit_code(e: &kube_codegen::Error) -> ExitCode {
    match e {
        kube_codegen::Error::UnknownGenerator(_) | kube_codegen::Error::Config(_) => {
            ExitCode::from(BAD_COMMAND_LINE)
        }
        _ => ExitCode::FAILURE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option number is mimalloc's purge delay (v3's default, 1,000 ms, read back), and
    /// setting it takes: a mimalloc whose options were renumbered fails here, not silently.
    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        // SAFETY: mimalloc's own option calls.
        unsafe {
            assert_eq!(mi_option_get(MI_OPTION_PURGE_DELAY), 1000);
            keep_freed_memory();
            assert_eq!(mi_option_get(MI_OPTION_PURGE_DELAY), -1);
        }
    }
}
