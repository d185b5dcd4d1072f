//! A `pager-apiserver` process for tests: started on a free loopback port, killed on drop.

#![allow(dead_code)] // each test file uses a different part

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

pub struct Server {
    child: Child,
    pub addr: String,
}

impl Server {
    /// The server process's resident memory now (`VmRSS`, KiB).
    pub fn rss_kb(&self) -> u64 {
        self.status_field("VmRSS")
    }

    /// A numeric field of the server's `/proc/<pid>/status` (its first word).
    pub fn status_field(&self, name: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server's /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("{name} in the server's /proc status"))
    }

    /// Starts the server with `--listen 127.0.0.1:0` and reads the bound address from the first
    /// line it prints.
    pub fn start(args: &[&str]) -> Server {
        Server::start_at("127.0.0.1:0", args)
    }

    /// On a given address (a restart on the same port).
    pub fn start_at(listen: &str, args: &[&str]) -> Server {
        Server::spawn(&["--plain-http", "--listen", listen], args)
    }

    /// HTTPS (the default) on a free loopback port.
    pub fn start_https(args: &[&str]) -> Server {
        Server::spawn(&["--listen", "127.0.0.1:0"], args)
    }

    fn spawn(base: &[&str], args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pager-apiserver"))
            .args(base)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start pager-apiserver");
        // Drained on a thread so the server never blocks on a full pipe; read back only when the
        // server fails to start, to say why.
        let mut stderr = child.stderr.take().unwrap();
        let errors = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
            text
        });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Some(addr) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            let errors = errors.join().unwrap_or_default();
            panic!("pager-apiserver {args:?} did not start: printed {line:?}\n{errors}");
        };
        Server {
            addr: addr.to_string(),
            child,
        }
    }

    /// With the embedded (redb) store in `data`.
    pub fn embedded(data: &Path, extra: &[&str]) -> Server {
        let data = data.display().to_string();
        let mut args = vec!["--storage", "embedded", "--data", data.as_str()];
        args.extend(extra);
        Server::start(&args)
    }

    /// Sends SIGTERM and waits up to `within` for the process to exit; its exit status.
    pub fn terminate(&mut self, within: std::time::Duration) -> Option<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = std::time::Instant::now() + within;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        None
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A watch starting where a list of `api` is now (kube's list-then-watch), as a boxed stream of
/// its object events (bookmarks left out).
/// Starts `pager-apiserver` with `args` expecting it to refuse to (bad flags): its stderr.
pub fn refused_start<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_pager-apiserver"))
        .args(args)
        .output()
        .expect("run pager-apiserver");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "pager-apiserver started: {stderr}");
    stderr
}

pub async fn watch_from_now<K>(
    api: &kube::Api<K>,
) -> futures::stream::BoxStream<'static, kube::Result<kube::api::WatchEvent<K>>>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    use futures::StreamExt;
    let rv = api
        .list(&kube::api::ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    // kube asks for bookmarks, and the server may send one at any moment (etcd's progress
    // notifications reach the watch cache on their own schedule): callers wait for object
    // events, so bookmarks are left out.
    api.watch(&kube::api::WatchParams::default(), &rv)
        .await
        .unwrap()
        .filter(|event| {
            std::future::ready(!matches!(event, Ok(kube::api::WatchEvent::Bookmark(_))))
        })
        .boxed()
}

/// kubectl with its own kubeconfig (namespace `namespace`) and discovery cache, against a
/// server.
pub struct Kubectl {
    pub dir: tempfile::TempDir,
}

impl Kubectl {
    pub fn new(server: &Server, namespace: &str) -> Kubectl {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: pager\n  cluster:\n    server: http://{}\nusers:\n- name: dev\n  user: {{}}\ncontexts:\n- name: pager\n  context: {{cluster: pager, user: dev, namespace: {namespace}}}\ncurrent-context: pager\n",
            server.addr
        );
        std::fs::write(dir.path().join("kubeconfig"), config).unwrap();
        Kubectl { dir }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(self.dir.path().join("kubeconfig"))
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .args(args)
            .env_remove("KUBECONFIG")
            .output()
            .expect("run kubectl")
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "kubectl {args:?} failed:\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    /// Runs and requires failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            !o.status.success(),
            "kubectl {args:?} succeeded:\n{}",
            String::from_utf8_lossy(&o.stdout)
        );
        String::from_utf8(o.stderr).unwrap()
    }

    pub fn file(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }
}
