//! A throwaway PostgreSQL cluster for the tests that stop, restart or reconfigure a server
//! (TLS, faults): `initdb` as the `postgres` user into a temporary folder, a free port, and
//! stopped by its pid (then removed) when dropped. Never the machine's shared cluster.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// Runs a PostgreSQL tool as the `postgres` user when we are root (initdb refuses root).
fn pg_tool(tool: &str, args: &str) -> Command {
    let bindir = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (scripts/test installs it)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .max()
        .expect("a PostgreSQL version");
    as_postgres(&format!("{}/{tool} {args}", bindir.display()))
}

/// A shell command line, run as the `postgres` user when we are root (PostgreSQL's tools and
/// PgBouncer refuse root).
pub fn as_postgres(line: &str) -> Command {
    let mut cmd = if is_root() {
        let mut c = Command::new("su");
        c.args(["postgres", "-c", line]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", line]);
        c
    };
    cmd.current_dir("/");
    cmd
}

pub struct Cluster {
    pub dir: PathBuf,
    pub port: u16,
    options: String,
}

impl Cluster {
    /// A new cluster in a folder of its own (`dir/data`), not started: the caller may put
    /// files in `dir` (certificates) or `dir/data` (`pg_hba.conf`) first.
    pub fn init(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("chat-{name}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let cluster = Self {
            dir,
            port,
            options: String::new(),
        };
        cluster.give_to_postgres();
        run(&mut pg_tool(
            "initdb",
            &format!(
                "-D {}/data -U chat_service -A trust -E UTF8 --locale=C",
                cluster.dir.display()
            ),
        ));
        cluster
    }

    pub fn give_to_postgres(&self) {
        if is_root() {
            run(Command::new("chown")
                .args(["-R", "postgres"])
                .arg(&self.dir));
        }
    }

    /// Starts the server with `options` (`-c name=value ...`) besides its port and socket.
    pub fn start(&mut self, options: &str) {
        self.give_to_postgres();
        let d = self.dir.display();
        self.options = format!(
            "-p {} -k {d} -c listen_addresses=127.0.0.1 {options}",
            self.port
        );
        run(&mut pg_tool(
            "pg_ctl",
            &format!("-D {d}/data -l {d}/log -w start -o '{}'", self.options),
        ));
    }

    /// A fast restart, as an operator's: every connection is terminated.
    pub fn restart(&self) {
        let d = self.dir.display();
        run(&mut pg_tool(
            "pg_ctl",
            &format!(
                "-D {d}/data -l {d}/log -w -m fast restart -o '{}'",
                self.options
            ),
        ));
    }

    pub fn url(&self, host: &str, database: &str, query: &str) -> String {
        let query = query.replace("{dir}", &self.dir.display().to_string());
        format!(
            "postgres://chat_service@{host}:{}/{database}?{query}",
            self.port
        )
    }

    pub fn path(&self, file: &str) -> PathBuf {
        Path::new(&self.dir).join(file)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let pid = std::fs::read_to_string(self.dir.join("data/postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next().map(str::to_owned));
        if let Some(pid) = pid {
            stop(&pid, "-INT");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Signals the process `pid` (`-INT`, `-TERM`) and waits up to 10 s for it to end.
pub fn stop(pid: &str, signal: &str) {
    let _ = Command::new("kill").args([signal, pid]).status();
    for _ in 0..100 {
        let alive = Command::new("kill")
            .args(["-0", pid])
            .stderr(std::process::Stdio::null())
            .status();
        if !alive.is_ok_and(|s| s.success()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
