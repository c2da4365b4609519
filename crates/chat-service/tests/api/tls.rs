//! TLS to PostgreSQL, against a throwaway cluster that accepts TLS only, with a CA this test
//! makes (`openssl`): `sslmode` and `sslrootcert` as libpq reads them. The cluster is the
//! test's own (`initdb`, a free port, a temporary folder) and is stopped, by its pid, after.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use chat_domain::ChatStore as _;
use chat_persistence::{DatabaseSettings, MigrationDirection, Store};
use secrecy::SecretString;

use crate::cluster::{Cluster, run};

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

/// The throwaway cluster, TLS only over TCP (a connection without it is rejected).
fn tls_cluster() -> Cluster {
    let mut cluster = Cluster::init("tls");
    make_certificates(&cluster.dir);
    std::fs::write(
        cluster.path("data/pg_hba.conf"),
        "local all all trust\n\
         hostssl all all 127.0.0.1/32 trust\n\
         hostnossl all all 127.0.0.1/32 reject\n",
    )
    .unwrap();
    let d = cluster.dir.display().to_string();
    cluster.start(&format!(
        "-c ssl=on -c ssl_cert_file={d}/server.crt -c ssl_key_file={d}/server.key"
    ));
    cluster
}

fn store(url: String) -> Store {
    Store::new(&DatabaseSettings {
        url: SecretString::from(url),
        pool_size: 2,
        pool_threads: 1,
        pool_wait: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
        statement_timeout: Duration::from_secs(5),
        busy_timeout: Duration::from_secs(1),
        append_queue: 1024,
        app_secret: secrecy::SecretString::from("test-only-secret"),
        app_system_actor: false,
        key_ttl: Duration::from_secs(3600),
        statement_cache: true,
        migration_url: None,
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
    let cluster = tls_cluster();

    // Encrypted; require does not authenticate the server, as in libpq.
    works(cluster.url("127.0.0.1", "postgres", "sslmode=require")).await;
    // The server's certificate, checked against our CA and its name.
    works(cluster.url(
        "localhost",
        "postgres",
        "sslmode=verify-full&sslrootcert={dir}/ca.crt",
    ))
    .await;
    // verify-ca: the chain, not the name (the certificate is not for 127.0.0.1).
    works(cluster.url(
        "127.0.0.1",
        "postgres",
        "sslmode=verify-ca&sslrootcert={dir}/ca.crt",
    ))
    .await;

    let wrong_name = refused(cluster.url(
        "127.0.0.1",
        "postgres",
        "sslmode=verify-full&sslrootcert={dir}/ca.crt",
    ))
    .await;
    assert!(
        wrong_name.contains("not valid for name \"127.0.0.1\""),
        "{wrong_name}"
    );
    let wrong_ca = refused(cluster.url(
        "localhost",
        "postgres",
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
    let plain = refused(cluster.url("127.0.0.1", "postgres", "sslmode=disable")).await;
    assert!(plain.contains("no encryption"), "{plain}");
}
