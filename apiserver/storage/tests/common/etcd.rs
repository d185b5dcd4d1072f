#![allow(dead_code)] // each test file uses a different part

//! A real `etcd` process for tests (Debian's `etcd-server`): free loopback ports, a temporary
//! data directory (on tmpfs when the machine has room there), killed on drop. A missing `etcd`
//! binary fails the test (never a skip); one that cannot start or serve fails it with the end of
//! etcd's own log.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

/// PEM files of a test PKI: a CA, etcd's serving certificate (for 127.0.0.1), a client
/// certificate.
pub struct Pki {
    pub ca: String,
    pub server_cert: String,
    pub server_key: String,
    pub client_cert: String,
    pub client_key: String,
}

impl Pki {
    pub fn new() -> Pki {
        use rcgen::{
            BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
        };
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf = |names: Vec<String>, usage: ExtendedKeyUsagePurpose| {
            let key = KeyPair::generate().unwrap();
            let mut params = CertificateParams::new(names).unwrap();
            params.extended_key_usages = vec![usage];
            let cert = params.signed_by(&key, &issuer).unwrap();
            (cert.pem(), key.serialize_pem())
        };
        let (server_cert, server_key) = leaf(
            vec!["127.0.0.1".into(), "localhost".into()],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let (client_cert, client_key) = leaf(
            vec!["pager-apiserver".into()],
            ExtendedKeyUsagePurpose::ClientAuth,
        );
        Pki {
            ca: ca_cert.pem(),
            server_cert,
            server_key,
            client_cert,
            client_key,
        }
    }
}

pub struct Etcd {
    child: Option<Child>,
    /// HTTPS with client certificates: the PEM files' directory.
    tls: Option<std::path::PathBuf>,
    name: String,
    client_port: u16,
    peer_port: u16,
    /// `name=peer-url,…` of the whole cluster.
    initial_cluster: String,
    dir: std::path::PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

/// Lines of etcd's log a failure message carries.
const LOG_TAIL_LINES: usize = 15;

/// A free loopback port, never the same one twice in this process: tests run in parallel, and a
/// port released here could otherwise be handed to two etcd members at once (the second would
/// fail to start and its test would talk to the first one's cluster).
fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .unwrap()
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// A directory for a member's data and log: on tmpfs (`/dev/shm`) when it has room, else the
/// system's temporary directory. Every member preallocates a 64 MiB write-ahead log and the suite
/// runs dozens, while a CI machine's disk may be nearly full after the build (a full disk once
/// stopped every etcd of a CI run at once); tmpfs also spares the suite etcd's fsyncs.
fn scratch_dir() -> tempfile::TempDir {
    const TMPFS: &str = "/dev/shm";
    const ROOM: u64 = 2 << 30;
    if available_bytes(TMPFS).is_some_and(|room| room >= ROOM)
        && let Ok(dir) = tempfile::Builder::new()
            .prefix("kcg-etcd-")
            .tempdir_in(TMPFS)
    {
        return dir;
    }
    tempfile::Builder::new()
        .prefix("kcg-etcd-")
        .tempdir()
        .expect("tempdir")
}

/// Bytes an unprivileged process may still write under `path` (statvfs).
fn available_bytes(path: &str) -> Option<u64> {
    let path = std::ffi::CString::new(path).ok()?;
    // SAFETY: statvfs only writes the struct it is given; a zeroed one is a valid value of it.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::statvfs(path.as_ptr(), &mut stat) } == 0;
    ok.then(|| stat.f_bavail as u64 * stat.f_frsize as u64)
}

/// Whether process `pid` has a listening TCP socket on `127.0.0.1:port` (Linux `/proc`).
fn listens(pid: u32, port: u16) -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else {
        return false;
    };
    let local = format!("0100007F:{port:04X}");
    let inodes: Vec<String> = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // local_address, st (0A = LISTEN), inode
            (cols.len() > 9 && cols[1] == local && cols[3] == "0A")
                .then(|| format!("socket:[{}]", cols[9]))
        })
        .collect();
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten().any(|fd| {
        std::fs::read_link(fd.path())
            .is_ok_and(|target| inodes.iter().any(|i| target.as_os_str() == i.as_str()))
    })
}

impl Etcd {
    /// Starts a single-member cluster.
    pub fn start() -> Etcd {
        let tmp = scratch_dir();
        let mut e = Etcd {
            child: None,
            tls: None,
            name: "test".into(),
            client_port: 0,
            peer_port: 0,
            initial_cluster: String::new(),
            dir: tmp.path().join("test"),
            _tmp: Some(tmp),
        };
        e.spawn_on_free_ports();
        e
    }

    /// Starts a cluster of `n` members.
    pub fn cluster(n: usize) -> Vec<Etcd> {
        let ports: Vec<(u16, u16)> = (0..n).map(|_| (free_port(), free_port())).collect();
        let initial_cluster = ports
            .iter()
            .enumerate()
            .map(|(i, (_, peer))| format!("m{i}=http://127.0.0.1:{peer}"))
            .collect::<Vec<_>>()
            .join(",");
        let mut members: Vec<Etcd> = ports
            .into_iter()
            .enumerate()
            .map(|(i, (client_port, peer_port))| {
                let tmp = scratch_dir();
                Etcd {
                    child: None,
                    tls: None,
                    name: format!("m{i}"),
                    client_port,
                    peer_port,
                    initial_cluster: initial_cluster.clone(),
                    dir: tmp.path().join(format!("m{i}")),
                    _tmp: Some(tmp),
                }
            })
            .collect();
        for m in &mut members {
            m.spawn();
        }
        members
    }

    /// A single member serving HTTPS, requiring client certificates signed by `pki`'s CA.
    pub fn start_tls(pki: &Pki) -> Etcd {
        let tmp = scratch_dir();
        let files = tmp.path().join("pki");
        std::fs::create_dir_all(&files).unwrap();
        for (name, pem) in [
            ("ca.pem", &pki.ca),
            ("server.pem", &pki.server_cert),
            ("server-key.pem", &pki.server_key),
        ] {
            std::fs::write(files.join(name), pem).unwrap();
        }
        let mut e = Etcd {
            child: None,
            tls: Some(files),
            name: "test".into(),
            client_port: 0,
            peer_port: 0,
            initial_cluster: String::new(),
            dir: tmp.path().join("test"),
            _tmp: Some(tmp),
        };
        e.spawn_on_free_ports();
        e
    }

    /// A single member on fresh ports, tried again on others when it cannot start: another test
    /// process (nextest runs each test in its own) may take a port between `free_port` releasing
    /// it and etcd binding it.
    fn spawn_on_free_ports(&mut self) {
        let mut attempt = 1;
        loop {
            self.client_port = free_port();
            self.peer_port = free_port();
            self.initial_cluster = format!("{}=http://127.0.0.1:{}", self.name, self.peer_port);
            match self.try_spawn() {
                Ok(()) => return,
                Err(e) if attempt == 3 => panic!("{e}"),
                Err(_) => {
                    // A data directory remembers the member's first peer URL: start afresh.
                    let _ = std::fs::remove_dir_all(&self.dir);
                    attempt += 1;
                }
            }
        }
    }

    fn spawn(&mut self) {
        if let Err(e) = self.try_spawn() {
            panic!("{e}");
        }
    }

    /// Starts the process and waits until it listens; an error when it exits first.
    fn try_spawn(&mut self) -> Result<(), String> {
        let client = self.client_url();
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let mut tls_args: Vec<String> = Vec::new();
        if let Some(files) = &self.tls {
            let f = |n: &str| files.join(n).to_str().unwrap().to_string();
            tls_args = vec![
                "--cert-file".into(),
                f("server.pem"),
                "--key-file".into(),
                f("server-key.pem"),
                "--trusted-ca-file".into(),
                f("ca.pem"),
                "--client-cert-auth".into(),
            ];
        }
        // A single member has no peers to elect among, so a long election timeout costs it
        // nothing; it lengthens etcd's own request timeout (5 s + 2 × election timeout), which
        // the default 1 s left at 7 s: on two cores shared with a parallel build and fsync
        // stalls, a proposal under 16 conflicting writers once took longer ("etcdserver: request
        // timed out"). Clusters keep the defaults: their tests time elections.
        let single_member = !self.initial_cluster.contains(',');
        let timing: &[&str] = if single_member {
            &["--heartbeat-interval", "500", "--election-timeout", "5000"]
        } else {
            &[]
        };
        let child = Command::new("etcd")
            .args(&tls_args)
            .args(timing)
            .args([
                "--name",
                &self.name,
                "--data-dir",
                self.dir.to_str().unwrap(),
                "--listen-client-urls",
                &client,
                "--advertise-client-urls",
                &client,
                "--listen-peer-urls",
                &peer,
                "--initial-advertise-peer-urls",
                &peer,
                "--initial-cluster",
                &self.initial_cluster,
                "--initial-cluster-token",
                "kube-codegen-test",
                "--log-level",
                "error",
                // Bookmarks of quiet watches come from these (kube-apiserver setups use seconds
                // too; etcd's default is 10 minutes).
                "--experimental-watch-progress-notify-interval",
                "200ms",
            ])
            .stdout(Stdio::null())
            .stderr(self.open_log())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start etcd ({e}): install it (Debian: apt-get install etcd-server; ./test.sh does)")
            });
        let pid = child.id();
        self.child = Some(child);
        // Started is not listening: wait until this very process holds the client port, so that
        // a member that could not start fails here, by name, rather than as a confusing test.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !listens(pid, self.client_port) {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                return Err(format!(
                    "etcd {} exited at start ({status}); its ports {} and {} may be taken{}",
                    self.name,
                    self.client_port,
                    self.peer_port,
                    self.log_tail()
                ));
            }
            assert!(
                std::time::Instant::now() < deadline,
                "etcd {} is not listening on 127.0.0.1:{} after 20 s{}",
                self.name,
                self.client_port,
                self.log_tail()
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        Ok(())
    }

    fn log_path(&self) -> std::path::PathBuf {
        self.dir.with_extension("log")
    }

    /// etcd's standard error, appended to across restarts.
    fn open_log(&self) -> std::fs::File {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("etcd's log file")
    }

    /// The last lines etcd logged (errors only), with where its data is and how much room is left
    /// there, for a failure message: empty when it logged nothing.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n");
        let room = self
            .dir
            .parent()
            .and_then(|p| p.to_str())
            .and_then(available_bytes)
            .map_or("unknown".to_string(), |b| format!("{} MiB", b >> 20));
        format!(
            "\netcd {} data in {} ({room} free there); its log ends:\n{tail}",
            self.name,
            self.dir.display()
        )
    }

    pub fn client_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.client_port)
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, as a service manager stops etcd (it closes its connections on the way out),
    /// and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let _ = c.wait();
        }
    }

    /// SIGSTOP: etcd keeps its connections open and answers nothing, as a stalled disk or an
    /// overloaded host makes it. [`Etcd::thaw`] resumes it.
    #[allow(dead_code)]
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// SIGCONT after [`Etcd::freeze`].
    #[allow(dead_code)]
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        if let Some(c) = &self.child {
            let status = Command::new("kill")
                .args([signal, &c.id().to_string()])
                .status()
                .expect("kill");
            assert!(status.success(), "kill {signal} etcd");
        }
    }

    /// Starts again on the same ports and data.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.kill();
    }
}
