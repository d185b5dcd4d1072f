//! The no-op fast path (docs/0009): a run whose inputs, options and generator binary are those of
//! the last successful run, and whose outputs are still exactly the bytes that run wrote, skips
//! parse, generate and format and reports every file unchanged.
//!
//! A stamp records a digest of everything the output depends on (the *key*) and the path, length
//! and BLAKE3 hash of every file the run produced, plus the run's warnings. Taking the fast path
//! needs all of:
//!
//! - the key computed now equals the recorded one: the tool version and the identity of the
//!   running binary, the whole [`Config`] (inputs, output mode, `only`, crate paths, ...), the
//!   resolved output roots, `$OUT_DIR`, each input directory's absolute and canonical path, every
//!   `Cargo.toml` above it (the crate layout decides module paths), and the relative path and
//!   bytes of every `.rs` file the loader would read (same walk; generated files excluded) and of
//!   every protobuf field-number record (`generated.proto`, generated or not: protobuf-gen reads
//!   the one beside the types);
//! - every recorded output exists with exactly the recorded bytes;
//! - no other file under the output roots carries the header of a selected generator (the writer
//!   would remove it as stale).
//!
//! Anything unexpected (no stamp, unreadable or corrupt stamp, an I/O error, no cache directory)
//! means a full run; stamp errors never fail a run. `--verify` never uses a stamp. A stamp is
//! written only after a successful full run whose inputs did not change while it ran.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::writer::{self, Outcome, RenderedFile};
use crate::{Config, Report};
use kube_codegen_model::{HEADER, Sources};

const MAGIC: &[u8; 12] = b"KCG-STAMP-v1";

/// Stamps older than this are removed when a stamp is written next to them.
const PRUNE_AFTER: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// The environment variable naming the stamp cache directory.
const CACHE_DIR_ENV: &str = "KUBE_CODEGEN_CACHE_DIR";

/// A run's stamp: where it lives and the key computed before the run.
pub(crate) struct Stamp<'a> {
    config: &'a Config,
    roots: Vec<writer::OutputRoot>,
    names: Vec<&'a str>,
    owners: Vec<String>,
    file: PathBuf,
    key: [u8; 32],
    /// What reading the inputs for the key saw besides the key.
    seen: Seen,
    timings: bool,
}

/// One recorded output.
struct Recorded {
    path: PathBuf,
    len: u64,
    hash: [u8; 32],
}

struct StampFile {
    key: [u8; 32],
    warnings: String,
    files: Vec<Recorded>,
}

impl<'a> Stamp<'a> {
    /// The stamp for a run of `config` that writes under `roots` with the generators `names`, or
    /// `None` when stamps are off (verify, [`Config::use_stamp`]) or cannot be used here.
    pub(crate) fn prepare(
        config: &'a Config,
        verify: bool,
        roots: &[writer::OutputRoot],
        names: &[&'a str],
    ) -> Option<Stamp<'a>> {
        if verify || !config.use_stamp {
            return None;
        }
        let timings = std::env::var_os("KUBE_CODEGEN_TIMINGS").is_some();
        let started = Instant::now();
        let stamp = Self::compute(config, roots, names, timings);
        match &stamp {
            Ok(_) => {}
            Err(e) if timings => eprintln!("kube-codegen timings: no stamp ({e}); full run"),
            Err(_) => {}
        }
        if timings {
            eprintln!(
                "kube-codegen timings: stamp key {:.1} ms (wall)",
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
        stamp.ok()
    }

    fn compute(
        config: &'a Config,
        roots: &[writer::OutputRoot],
        names: &[&'a str],
        timings: bool,
    ) -> Result<Stamp<'a>, String> {
        let roots: Vec<writer::OutputRoot> = roots
            .iter()
            .map(|r| {
                let dir =
                    std::path::absolute(&r.dir).map_err(|e| format!("{}: {e}", r.dir.display()))?;
                Ok(writer::OutputRoot { dir, ..r.clone() })
            })
            .collect::<Result<_, String>>()?;
        let dirs: Vec<PathBuf> = roots.iter().map(|r| r.dir.clone()).collect();
        let context = Context::new(config, &dirs, names)?;
        let dir = stamp_dir(config).ok_or("no cache directory (set KUBE_CODEGEN_CACHE_DIR)")?;
        let file = dir.join(format!("{}.stamp", context.location()));
        let mut seen = Seen::default();
        let key = context.key(&mut seen).map_err(|e| e.to_string())?;
        Ok(Stamp {
            config,
            roots,
            names: names.to_vec(),
            owners: names.iter().map(|n| writer::owner_line(n)).collect(),
            file,
            key,
            seen,
            timings,
        })
    }

    /// The report of a run that has nothing to do, when the fast path applies.
    pub(crate) fn reuse(&self) -> Option<Report> {
        let started = Instant::now();
        let result = self.check();
        if self.timings {
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            match &result {
                Ok(r) => eprintln!(
                    "kube-codegen timings: no-op fast path: stamp {} matches, {} files up to date; parse, generate and format skipped; check {ms:.1} ms (wall)",
                    self.file.display(),
                    r.files
                ),
                Err(why) => {
                    eprintln!(
                        "kube-codegen timings: stamp miss ({why}); full run; check {ms:.1} ms (wall)"
                    )
                }
            }
        }
        result.ok()
    }

    fn check(&self) -> Result<Report, String> {
        let bytes = match std::fs::read(&self.file) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err("no stamp yet".into());
            }
            Err(e) => return Err(format!("cannot read {}: {e}", self.file.display())),
        };
        let stamp = StampFile::decode(&bytes).ok_or("unreadable stamp")?;
        if stamp.key != self.key {
            return Err("inputs, options or the generator changed".into());
        }
        // Every recorded output still has exactly the recorded bytes.
        // (Outputs beside the types were already read and hashed with the inputs.)
        stamp
            .files
            .par_iter()
            .try_for_each_init(Vec::new, |buf, r| {
                let (len, hash) = match self.seen.generated.get(&r.path) {
                    Some(&seen) => seen,
                    None => {
                        read_into(&r.path, buf)
                            .map_err(|e| format!("output {}: {e}", r.path.display()))?;
                        (buf.len() as u64, *blake3::hash(buf).as_bytes())
                    }
                };
                if len != r.len || hash != r.hash {
                    return Err(format!("output {} was changed", r.path.display()));
                }
                Ok(())
            })?;
        // No generated file the writer would remove as stale.
        let recorded: HashSet<&Path> = stamp.files.iter().map(|r| r.path.as_path()).collect();
        let produced = |p: &Path| recorded.contains(p) || self.seen.inputs.contains_key(p);
        let mut seen_roots = HashSet::new();
        for root in &self.roots {
            if !seen_roots.insert(&root.dir) {
                continue;
            }
            let tops = writer::planned_tops(&root.dir, recorded.iter().copied());
            if let Some(p) = root.stale_files(&self.owners, &produced, &tops).first() {
                return Err(format!("stale generated file {}", p.display()));
            }
        }
        Ok(Report {
            outcome: Outcome {
                changed: Vec::new(),
                unchanged: stamp.files.len(),
                removed: Vec::new(),
            },
            warnings: stamp.warnings,
            files: stamp.files.len(),
            from_stamp: true,
        })
    }

    /// Records a successful full run (not verify): `files` as rendered and written from the
    /// inputs in `sources`, as the loader read them. Skipped unless those are the inputs the key
    /// was computed from (an editor saving while the run read them).
    pub(crate) fn record(&self, files: &[RenderedFile], report: &Report, sources: &Sources) {
        if let Err(e) = self.try_record(files, report, sources)
            && self.timings
        {
            eprintln!("kube-codegen timings: stamp not written: {e}");
        }
    }

    fn try_record(
        &self,
        files: &[RenderedFile],
        report: &Report,
        sources: &Sources,
    ) -> Result<(), String> {
        self.generated_from_key(sources)?;
        let recorded: Vec<Recorded> = files
            .par_iter()
            .map(|f| {
                Ok(Recorded {
                    path: std::path::absolute(&f.path).map_err(|e| e.to_string())?,
                    len: f.text.len() as u64,
                    hash: *blake3::hash(f.text.as_bytes()).as_bytes(),
                })
            })
            .collect::<Result<_, String>>()?;
        let stamp = StampFile {
            key: self.key,
            warnings: report.warnings.clone(),
            files: recorded,
        };
        let bytes = stamp.encode().ok_or("a path is not representable")?;
        let dir = self.file.parent().ok_or("stamp path has no directory")?;
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        // Write then rename: a concurrent run reads either stamp whole, never half of one.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let tmp = dir.join(format!(
            ".{}.{}.{nanos}.tmp",
            self.file.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        let written = std::fs::write(&tmp, &bytes).and_then(|()| std::fs::rename(&tmp, &self.file));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(format!("{}: {e}", self.file.display()));
        }
        prune(dir, &self.file);
        Ok(())
    }

    /// Whether the run generated from exactly the inputs the key hashed: every file the loader
    /// read under an input directory was hashed, and each hashed file has the same bytes as the
    /// loader read (a file it did not read, such as a protobuf record of a package without
    /// protobuf, is read again); the manifests are read again. Checking what the loader read,
    /// not the disk after the run, also catches a file changed and changed back meanwhile.
    fn generated_from_key(&self, sources: &Sources) -> Result<(), String> {
        let dirs: Vec<PathBuf> = self.roots.iter().map(|r| r.dir.clone()).collect();
        let context = Context::new(self.config, &dirs, &self.names)?;
        let mut read: HashMap<PathBuf, &str> = HashMap::new();
        for (path, text) in sources.files() {
            let Ok(path) = std::path::absolute(path) else {
                return Err(format!("{}: no absolute path", path.display()));
            };
            let under_input = context.inputs.iter().any(|(abs, _)| path.starts_with(abs));
            if under_input && !self.seen.inputs.contains_key(&path) {
                return Err(format!("{} was read but not hashed", path.display()));
            }
            read.insert(path, text);
        }
        let listed = self
            .seen
            .listed
            .par_iter()
            .map(|files| {
                files
                    .par_iter()
                    .map_init(Vec::new, |buf, (path, _)| {
                        let hash = match read.get(path) {
                            Some(text) => blake3::hash(text.as_bytes()),
                            None => {
                                read_into(path, buf)?;
                                blake3::hash(buf)
                            }
                        };
                        Ok((path.clone(), *hash.as_bytes()))
                    })
                    .collect::<std::io::Result<Vec<_>>>()
            })
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(|e| e.to_string())?;
        if context.digest(&listed).map_err(|e| e.to_string())? != self.key {
            return Err("inputs changed during the run".into());
        }
        Ok(())
    }
}

/// Where stamps live: [`Config::stamp_dir`], else `$OUT_DIR/.kube-codegen` in a build script,
/// else `$KUBE_CODEGEN_CACHE_DIR`, `$XDG_CACHE_HOME/kube-codegen/stamps`,
/// `$HOME/.cache/kube-codegen/stamps` or `%LOCALAPPDATA%\kube-codegen\stamps`. Never the source
/// tree.
pub(crate) fn stamp_dir(config: &Config) -> Option<PathBuf> {
    if let Some(dir) = &config.stamp_dir {
        return Some(dir.clone());
    }
    let env = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    if let Some(out) = env("OUT_DIR") {
        return Some(out.join(".kube-codegen"));
    }
    // Ours may be relative (to the current directory); the XDG variables may not.
    if let Some(dir) = std::env::var_os(CACHE_DIR_ENV).filter(|d| !d.is_empty()) {
        return std::path::absolute(PathBuf::from(dir)).ok();
    }
    env("XDG_CACHE_HOME")
        .or_else(|| env("HOME").map(|h| h.join(".cache")))
        .or_else(|| env("LOCALAPPDATA"))
        .map(|d| d.join("kube-codegen").join("stamps"))
}

/// Everything but the input files that the output depends on.
struct Context {
    /// The binary that runs the generators: version, path and file identity.
    build: String,
    config: String,
    roots: Vec<PathBuf>,
    names: Vec<String>,
    out_dir: Option<std::ffi::OsString>,
    /// Per input: (absolute, canonical) directory.
    inputs: Vec<(PathBuf, PathBuf)>,
}

impl Context {
    fn new(config: &Config, roots: &[PathBuf], names: &[&str]) -> Result<Context, String> {
        let inputs = config
            .inputs
            .iter()
            .map(|i| {
                let abs = std::path::absolute(&i.dir);
                let canon = std::fs::canonicalize(&i.dir);
                match (abs, canon) {
                    (Ok(a), Ok(c)) => Ok((a, c)),
                    (Err(e), _) | (_, Err(e)) => Err(format!("{}: {e}", i.dir.display())),
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(Context {
            build: build_identity()
                .map_err(|e| format!("cannot identify the running binary: {e}"))?,
            config: format!("{config:?}"),
            roots: roots.to_vec(),
            names: names.iter().map(|n| n.to_string()).collect(),
            out_dir: std::env::var_os("OUT_DIR"),
            inputs,
        })
    }

    /// The stamp's file name: one stamp per binary, configuration and output location.
    fn location(&self) -> String {
        let mut h = Hasher::new(b"location");
        h.str(&self.build_path());
        h.str(&self.config);
        for r in &self.roots {
            h.path(r);
        }
        for (_, canon) in &self.inputs {
            h.path(canon);
        }
        h.os(self.out_dir.as_deref());
        let hash = h.finish();
        hash[..16].iter().map(|b| format!("{b:02x}")).collect()
    }

    fn build_path(&self) -> String {
        self.build.lines().next().unwrap_or_default().to_string()
    }

    /// The digest of the context and of every input file the loader would read, read from disk
    /// now; `seen` collects what the walk saw.
    fn key(&self, seen: &mut Seen) -> std::io::Result<[u8; 32]> {
        seen.listed.clear();
        for (abs, _) in &self.inputs {
            let mut paths = Vec::new();
            walk_inputs(abs, &mut paths, &mut HashSet::new())?;
            paths.sort();
            // (generated?, length, hash) per file.
            let files: Vec<(bool, u64, [u8; 32])> = paths
                .par_iter()
                .map_init(Vec::new, |bytes, p| {
                    read_into(p, bytes)?;
                    // A protobuf field-number record is an input even when generated: with `-o`
                    // or `OUT_DIR`, the copy beside the types is read, not written.
                    let generated = bytes.starts_with(HEADER.as_bytes()) && !is_proto_record(p);
                    Ok((
                        generated,
                        bytes.len() as u64,
                        *blake3::hash(bytes).as_bytes(),
                    ))
                })
                .collect::<std::io::Result<_>>()?;
            let mut listed = Vec::new();
            for (path, (generated, len, hash)) in paths.into_iter().zip(files) {
                if generated {
                    seen.generated.insert(path, (len, hash));
                } else {
                    seen.inputs.insert(path.clone(), hash);
                    listed.push((path, hash));
                }
            }
            seen.listed.push(listed);
        }
        self.digest(&seen.listed)
    }

    /// The digest of the context (its manifests read now) and of `listed`, each input
    /// directory's files in order with their hashes.
    fn digest(&self, listed: &[Vec<(PathBuf, [u8; 32])>]) -> std::io::Result<[u8; 32]> {
        let mut h = Hasher::new(b"key");
        h.str(&self.build);
        h.str(&self.config);
        for r in &self.roots {
            h.path(r);
        }
        for n in &self.names {
            h.str(n);
        }
        h.os(self.out_dir.as_deref());
        for ((abs, canon), files) in self.inputs.iter().zip(listed) {
            h.path(abs);
            h.path(canon);
            // The crate layout (module paths) comes from the nearest `Cargo.toml` above the
            // input; hash every one up to the root, present or not.
            for dir in canon.ancestors() {
                match std::fs::read(dir.join("Cargo.toml")) {
                    Ok(bytes) => {
                        h.bytes(b"manifest");
                        h.bytes(&bytes);
                    }
                    Err(e) => h.str(&format!("{:?}", e.kind())),
                }
            }
            for (path, hash) in files {
                h.path(path.strip_prefix(abs).unwrap_or(path));
                h.bytes(hash);
            }
            h.bytes(b"end of input");
        }
        Ok(h.finish())
    }
}

/// Reads a file into `buf` (reused across files: no fresh pages to fault in per file), up to a
/// size the loader reads at all (a bigger file is its error to report).
fn read_into(path: &Path, buf: &mut Vec<u8>) -> std::io::Result<()> {
    use std::io::Read;
    const LIMIT: u64 = 64 << 20;
    buf.clear();
    // Not a regular file (a FIFO would block here): no key; the full run reports it.
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    // Room for the whole file: one read, not one per doubling of the buffer.
    buf.reserve(meta.len().min(LIMIT) as usize + 1);
    std::fs::File::open(path)?
        .take(LIMIT + 1)
        .read_to_end(buf)?;
    Ok(())
}

/// Files read while computing the key, by absolute path.
#[derive(Default)]
struct Seen {
    /// Input files (not generated) and their hashes: the fast path's stale-file scan need not
    /// look at them again, and a full run's texts are checked against them.
    inputs: HashMap<PathBuf, [u8; 32]>,
    /// Per input directory, its input files in the key's order, with their hashes.
    listed: Vec<Vec<(PathBuf, [u8; 32])>>,
    /// Files with the generated-code header (skipped as input): length and hash, so the fast
    /// path does not read outputs beside the types twice.
    generated: HashMap<PathBuf, (u64, [u8; 32])>,
}

/// The `.rs` files the loader reads under `dir` (the same walk as the model's parser: hidden
/// entries and `target/` skipped, symlinked files read, symlinked directories not followed).
/// The loader's walk (symbolic links followed, a directory reached twice read once), with the
/// protobuf records besides.
fn walk_inputs(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    visited: &mut HashSet<kube_codegen_model::DirIdentity>,
) -> std::io::Result<()> {
    if !visited.insert(kube_codegen_model::DirIdentity::of(dir)?) {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        let path = entry.path();
        let t = entry.file_type()?;
        let is_dir = if t.is_symlink() {
            path.is_dir()
        } else {
            t.is_dir()
        };
        if is_dir {
            walk_inputs(&path, out, visited)?;
        } else if name.ends_with(".rs") || name == PROTO_RECORD {
            out.push(path);
        }
    }
    Ok(())
}

/// A package's protobuf field-number record (protobuf-gen reads it beside the types).
const PROTO_RECORD: &str = "generated.proto";

fn is_proto_record(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == PROTO_RECORD)
}

/// The running binary: its path, then the version and the file's identity (size, times and, on
/// Unix, device and inode), which change whenever it is rebuilt.
fn build_identity() -> std::io::Result<String> {
    let exe = std::env::current_exe()?;
    let exe = std::fs::canonicalize(&exe).unwrap_or(exe);
    let meta = std::fs::metadata(&exe)?;
    let mut id = format!(
        "{}\nkube-codegen {}\n{} {:?}",
        exe.display(),
        env!("CARGO_PKG_VERSION"),
        meta.len(),
        meta.modified()?
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        id.push_str(&format!(
            " {} {} {}.{}",
            meta.dev(),
            meta.ino(),
            meta.ctime(),
            meta.ctime_nsec()
        ));
    }
    Ok(id)
}

/// BLAKE3 over length-prefixed fields, so that no two field sequences hash alike.
struct Hasher(blake3::Hasher);

impl Hasher {
    fn new(domain: &[u8]) -> Self {
        let mut h = Hasher(blake3::Hasher::new());
        h.bytes(b"kube-codegen stamp");
        h.bytes(domain);
        h
    }

    fn bytes(&mut self, b: &[u8]) {
        self.0.update(&(b.len() as u64).to_le_bytes());
        self.0.update(b);
    }

    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    fn path(&mut self, p: &Path) {
        self.os(Some(p.as_os_str()));
    }

    fn os(&mut self, s: Option<&std::ffi::OsStr>) {
        match s {
            Some(s) => {
                self.0.update(&[1]);
                self.bytes(s.as_encoded_bytes());
            }
            None => {
                self.0.update(&[0]);
            }
        }
    }

    fn finish(&self) -> [u8; 32] {
        *self.0.finalize().as_bytes()
    }
}

impl StampFile {
    /// `MAGIC`, key, warnings, file count, then per file path, length and hash; a BLAKE3 checksum
    /// of all that last. Integers are little-endian `u64`; strings and paths are length-prefixed.
    fn encode(&self) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(64 + self.files.len() * 128);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.key);
        put_bytes(&mut out, self.warnings.as_bytes());
        out.extend_from_slice(&(self.files.len() as u64).to_le_bytes());
        for f in &self.files {
            // Kept as text so a stamp never carries platform-encoded bytes.
            put_bytes(&mut out, f.path.to_str()?.as_bytes());
            out.extend_from_slice(&f.len.to_le_bytes());
            out.extend_from_slice(&f.hash);
        }
        let check = blake3::hash(&out);
        out.extend_from_slice(check.as_bytes());
        Some(out)
    }

    fn decode(bytes: &[u8]) -> Option<StampFile> {
        let (body, check) = bytes.split_at_checked(bytes.len().checked_sub(32)?)?;
        if blake3::hash(body).as_bytes() != check {
            return None;
        }
        let mut r = Reader(body);
        if r.take(MAGIC.len())? != MAGIC {
            return None;
        }
        let key = r.take(32)?.try_into().ok()?;
        let warnings = String::from_utf8(r.bytes()?.to_vec()).ok()?;
        let count = r.u64()?;
        let mut files = Vec::new();
        for _ in 0..count {
            let path = PathBuf::from(std::str::from_utf8(r.bytes()?).ok()?);
            let len = r.u64()?;
            let hash = r.take(32)?.try_into().ok()?;
            files.push(Recorded { path, len, hash });
        }
        r.0.is_empty().then_some(StampFile {
            key,
            warnings,
            files,
        })
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u64).to_le_bytes());
    out.extend_from_slice(b);
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.u64()?).ok()?;
        self.take(n)
    }
}

/// Removes stamps (and leftover temporary files) in `dir` not written for a long time, so a cache
/// directory shared by many projects and temporary checkouts does not grow without bound.
fn prune(dir: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path == keep || !(name.ends_with(".stamp") || name.ends_with(".tmp")) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age > PRUNE_AFTER);
        if old {
            let _ = std::fs::remove_file(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPES: &str = "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\n\n#[derive(Clone, Debug, Default)]\npub struct Widget {\n    pub metadata: ObjectMeta,\n}\n";

    /// A stamp pairs its key with outputs generated from exactly the texts the key hashed: the
    /// run's loader must have read those texts, no other under the input, whatever the disk
    /// holds when the stamp is written.
    #[test]
    fn a_stamp_is_written_only_for_the_texts_the_key_hashed() {
        let tmp = tempfile::tempdir().unwrap();
        let apis = tmp.path().join("apis");
        let files = [
            (
                "widgets/mod.rs",
                "//! +groupName=widgets.example.com\npub mod v1;\n",
            ),
            ("widgets/v1/mod.rs", "mod types;\npub use types::*;\n"),
            ("widgets/v1/types.rs", TYPES),
        ];
        for (rel, text) in files {
            let path = apis.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let mut config = Config::new();
        config
            .input_at(&apis, "crate::apis")
            .in_source_tree()
            .stamp_dir(tmp.path().join("cache"));
        let gens = config.selected().unwrap();
        let roots = config.output_roots(&gens);
        let names: Vec<&str> = gens.iter().map(|g| g.name()).collect();
        let stamp = Stamp::prepare(&config, false, &roots, &names).expect("a stamp");
        let read = |types: &str, extra: Option<&str>| {
            let mut sources = Sources::default();
            for (rel, text) in files {
                let text = if rel.ends_with("types.rs") {
                    types
                } else {
                    text
                };
                sources.add(apis.join(rel), text.into());
            }
            if let Some(rel) = extra {
                sources.add(apis.join(rel), "pub struct Other;\n".into());
            }
            sources
        };
        let report = Report {
            outcome: Outcome::default(),
            warnings: String::new(),
            files: 0,
            from_stamp: false,
        };
        // The loader read other bytes than the key hashed (an editor saved in between).
        let edited = TYPES.replace("Widget", "Gadget");
        let err = stamp
            .try_record(&[], &report, &read(&edited, None))
            .unwrap_err();
        assert!(err.contains("changed during the run"), "{err}");
        // It read a file under the input that the key never saw (created, then deleted).
        let err = stamp
            .try_record(&[], &report, &read(TYPES, Some("widgets/v1/more.rs")))
            .unwrap_err();
        assert!(err.contains("read but not hashed"), "{err}");
        assert!(!stamp.file.exists());
        // Exactly the hashed texts: the stamp is written, and the next key matches it.
        stamp.try_record(&[], &report, &read(TYPES, None)).unwrap();
        assert!(stamp.file.exists());
        let next = Stamp::prepare(&config, false, &roots, &names).expect("a stamp");
        assert_eq!(next.key, stamp.key);
    }
}
