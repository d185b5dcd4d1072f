//! A full disk for tests: this process's file-size limit (`RLIMIT_FSIZE`), which makes writes
//! past it fail as a full disk makes them fail. Process-wide: each test file using it is a test
//! binary of its own with one test, so no other test shares the limit.

/// Sets the soft limit on the size of files this process writes (the hard one stays unlimited,
/// so it can be raised again); writes past it fail with `EFBIG` instead of killing the process.
pub fn limit_file_size(bytes: u64) {
    // SAFETY: plain libc calls with valid arguments; no memory is shared with them.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let limit = libc::rlimit {
            rlim_cur: bytes,
            rlim_max: libc::RLIM_INFINITY,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
    }
}
