//! TLS to PostgreSQL, against a throwaway cluster that accepts TLS only, with a CA this test
//! makes (`openssl`): `sslmode` and `sslrootcert` as libpq reads them. The cluster is the
//! test's own (`initdb`, a free port, a temporary folder) and is stopped, by its pid, after.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use chat_domain::ChatStore as _;
use chat_persistence::{DatabaseSettings, MigrationDirection, Store};
use secrecy::SecretString;

fn run(cmd: &mut Command) {
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
    let line = format!("{}/{tool} {args}", bindir.display());
    let mut cmd = if is_root() {
        let mut c = Command::new("su");
        c.args(["postgres", "-c", &line]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", &line]);
        c
    };
    cmd.current_dir("/");
    cmd
}

/// A CA, and a server certificate it signs for `localhost` (not for 127.0.0.1, so that
/// verify-full by address fails while verify-ca holds); and a second CA that signed nothing.
fn make_certificates(dir: &Path) {
    let ssl = |args: &str| {
        let mut c = Command::new("sh");
        c.current_dir(dir).args(["-c", &format!("openssl {args}")]);
        run(&mut c);
    };
    for ca in ["ca", "other-ca"] {
        ssl(&format!(
            "req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN={ca} -keyout {ca}.key -out {ca}.crt"
        ));
    }
    ssl("req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr");
    std::fs::write(dir.join("san.ext"), "subjectAltName=DNS:localhost\n").unwrap();
    ssl(
        "x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
         -extfile san.ext -out server.crt",
    );
}

/// The throwaway cluster; stopped on drop.
struct TlsCluster {
    dir: PathBuf,
    port: u16,
}

impl TlsCluster {
    fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("chat-tls-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        make_certificates(&dir);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        if is_root() {
            run(Command::new("chown").args(["-R", "postgres"]).arg(&dir));
        }
        let d = dir.display();
        run(&mut pg_tool(
            "initdb",
            &format!("-D {d}/data -U chat_service -A trust -E UTF8 --locale=C"),
        ));
        // TLS only over TCP: a connection without it is rejected.
        std::fs::write(
            dir.join("data/pg_hba.conf"),
            "local all all trust\n\
             hostssl all all 127.0.0.1/32 trust\n\
             hostnossl all all 127.0.0.1/32 reject\n",
        )
        .unwrap();
        let options = format!(
            "-p {port} -k {d} -c listen_addresses=127.0.0.1 -c ssl=on \
             -c ssl_cert_file={d}/server.crt -c ssl_key_file={d}/server.key"
        );
        run(&mut pg_tool(
            "pg_ctl",
            &format!("-D {d}/data -l {d}/log -w start -o '{options}'"),
        ));
        Self { dir, port }
    }

    fn url(&self, host: &str, query: &str) -> String {
        let query = query.replace("{dir}", &self.dir.display().to_string());
        format!(
            "postgres://chat_service@{host}:{}/postgres?{query}",
            self.port
        )
    }
}

impl Drop for TlsCluster {
    fn drop(&mut self) {
        let pid = std::fs::read_to_string(self.dir.join("data/postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next().map(str::to_owned));
        if let Some(pid) = pid {
            let _ = Command::new("kill").args(["-INT", &pid]).status();
            for _ in 0..100 {
                let alive = Command::new("kill")
                    .args(["-0", &pid])
                    .stderr(std::process::Stdio::null())
                    .status();
                if !alive.is_ok_and(|s| s.success()) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn store(url: String) -> Store {
    Store::new(&DatabaseSettings {
        url: SecretString::from(url),
        pool_size: 2,
        pool_wait: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
        statement_timeout: Duration::from_secs(5),
        busy_timeout: Duration::from_secs(1),
        key_ttl: Duration::from_secs(3600),
    })
    .expect("a valid URL")
}

/// Migrates (a connection of its own) and reads through the pool.
async fn works(url: String) {
    let store = store(url.clone());
    store
        .migrate(MigrationDirection::Up)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e:#}"));
    assert!(store.is_empty().await.is_ok(), "{url}");
}

async fn refused(url: String) -> String {
    let err = store(url.clone())
        .migrate(MigrationDirection::Up)
        .await
        .expect_err("the connection is refused");
    format!("{err:#}")
}

#[tokio::test]
async fn postgres_is_reached_over_tls_as_libpq_reads_the_url() {
    let cluster = TlsCluster::start();

    // Encrypted; require does not authenticate the server, as in libpq.
    works(cluster.url("127.0.0.1", "sslmode=require")).await;
    // The server's certificate, checked against our CA and its name.
    works(cluster.url("localhost", "sslmode=verify-full&sslrootcert={dir}/ca.crt")).await;
    // verify-ca: the chain, not the name (the certificate is not for 127.0.0.1).
    works(cluster.url("127.0.0.1", "sslmode=verify-ca&sslrootcert={dir}/ca.crt")).await;

    let wrong_name =
        refused(cluster.url("127.0.0.1", "sslmode=verify-full&sslrootcert={dir}/ca.crt")).await;
    assert!(
        wrong_name.contains("not valid for name \"127.0.0.1\""),
        "{wrong_name}"
    );
    let wrong_ca = refused(cluster.url(
        "localhost",
        "sslmode=verify-full&sslrootcert={dir}/other-ca.crt",
    ))
    .await;
    assert!(
        wrong_ca.contains("invalid peer certificate") && wrong_ca.contains("UnknownIssuer"),
        "{wrong_ca}"
    );
    assert!(
        wrong_ca.contains(&format!("localhost:{}", cluster.port)),
        "{wrong_ca}"
    );
    // The cluster takes TLS only: without it, the server itself refuses.
    let plain = refused(cluster.url("127.0.0.1", "sslmode=disable")).await;
    assert!(plain.contains("no encryption"), "{plain}");
}
