//! `cargo run -p pager-gen [-- --verify | --explain]`: regenerates the pager API's generated code,
//! beside the types in `examples/pager/apis/` (the orphan rule puts trait impls there), and the
//! clientset, listers and informers in `examples/pager/generated/` (the `pager-client` crate,
//! `examples/pager/client/`, includes them).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

/// Regenerate (or verify) the pager example's generated code.
#[derive(Parser, Debug)]
#[command(name = "pager-gen")]
struct Cli {
    /// Compare with what is committed; list every file that differs; write nothing.
    #[arg(long)]
    verify: bool,
    /// Print what was inferred from the pager types and exit.
    #[arg(long)]
    explain: bool,
}

/// The pager's API directory, shown relative to the current directory when possible.
fn apis_dir() -> PathBuf {
    example_dir("apis")
}

/// A directory of the pager example, shown relative to the current directory when possible.
fn example_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name);
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    match std::env::current_dir() {
        Ok(cwd) => dir.strip_prefix(&cwd).map(Path::to_path_buf).unwrap_or(dir),
        Err(_) => dir,
    }
}

/// Where the clientset, listers and informers go (only generated files live there).
fn client_dir() -> PathBuf {
    example_dir("generated")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut config = kube_codegen::Config::new();
    config
        .input(apis_dir())
        .in_source_tree()
        .client_out(client_dir());
    if cli.explain {
        return match config.load() {
            Ok(loaded) => {
                print!("{}", kube_codegen::explain(&loaded));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprint!("{e}");
                ExitCode::FAILURE
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
            for p in o.changed.iter() {
                eprintln!("wrote   {}", p.display());
            }
            for p in o.removed.iter() {
                eprintln!("removed {}", p.display());
            }
            eprintln!(
                "pager-gen: {} files, {} written, {} unchanged, {} removed",
                report.files,
                if cli.verify { 0 } else { o.changed.len() },
                o.unchanged,
                o.removed.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
