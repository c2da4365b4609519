//! Behind PgBouncer in transaction pooling mode (Debian's 1.18, which cannot carry named
//! prepared statements), on a throwaway cluster, with fewer server connections than the
//! service has clients, so that transactions share them. With `database.statement_cache =
//! false` the service migrates (at `database.migration_url`, PostgreSQL itself), writes and
//! reads under concurrency without a failure; with the cache on, the same load fails, which
//! shows that the bouncer really moves statements between server connections.

use serde_json::json;

use crate::cluster::{Cluster, as_postgres, run, stop};
use crate::instance::{Instance, seed, serve};

/// A PgBouncer started in the cluster's folder, stopped by its pid when dropped.
struct Bouncer {
    port: u16,
    pidfile: std::path::PathBuf,
}

impl Bouncer {
    fn start(cluster: &Cluster) -> Self {
        let binary = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("PgBouncer is installed (scripts/test installs Debian's pgbouncer)");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let ini = cluster.path("pgbouncer.ini");
        std::fs::write(cluster.path("users.txt"), "\"chat_service\" \"\"\n").unwrap();
        std::fs::write(
            &ini,
            format!(
                "[databases]\n* = host=127.0.0.1 port={db}\n\
                 [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\n\
                 unix_socket_dir =\nauth_type = trust\nauth_file = {users}\n\
                 pool_mode = transaction\ndefault_pool_size = 2\nmax_client_conn = 100\n\
                 logfile = {log}\npidfile = {pid}\n",
                db = cluster.port,
                users = cluster.path("users.txt").display(),
                log = cluster.path("pgbouncer.log").display(),
                pid = cluster.path("pgbouncer.pid").display(),
            ),
        )
        .unwrap();
        cluster.give_to_postgres();
        run(&mut as_postgres(&format!("{binary} -d {}", ini.display())));
        let bouncer = Self {
            port,
            pidfile: cluster.path("pgbouncer.pid"),
        };
        for _ in 0..50 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return bouncer;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("PgBouncer did not listen on {port}");
    }
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(&self.pidfile) {
            stop(pid.trim(), "-INT");
        }
    }
}

/// A service behind the bouncer, migrated at PostgreSQL itself.
async fn behind(cluster: &Cluster, bouncer: &Bouncer, cache: &str) -> Instance {
    let url = format!(
        "postgres://chat_service@127.0.0.1:{}/postgres",
        bouncer.port
    );
    let direct = cluster.url("127.0.0.1", "postgres", "");
    serve(
        &url,
        &[
            ("APP__DATABASE__STATEMENT_CACHE", cache),
            ("APP__DATABASE__MIGRATION_URL", &direct),
            ("APP__DATABASE__POOL_SIZE", "8"),
            // Correctness, not speed: a busy CI machine may take a while to connect.
            ("APP__DATABASE__POOL_WAIT_MS", "15000"),
            ("APP__DATABASE__CONNECT_TIMEOUT_MS", "10000"),
        ],
    )
    .await
}

/// A chat's address and its owner's session.
struct Chat {
    base: String,
    session: String,
}

impl Chat {
    async fn new(instance: &Instance) -> Self {
        let (user, chat, session) = seed(instance).await;
        let base = format!("api/users/{user}/chats/{chat}");
        Self { base, session }
    }

    fn request(
        &self,
        http: &reqwest::Client,
        method: &str,
        at: &Instance,
        path: &str,
    ) -> reqwest::RequestBuilder {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        http.request(method, format!("{}/{}/{path}", at.address, self.base))
            .header("cookie", format!("neptun-session={}", self.session))
    }
}

const CLIENTS: usize = 8;
const ROUNDS: usize = 15;

/// Every client posts a batch of 2 and reads the chat's last 5, `ROUNDS` times; the statuses.
async fn load(instance: &Instance, chat: &Chat) -> Vec<u16> {
    let http = reqwest::Client::new();
    let clients = (0..CLIENTS).map(|client| {
        let http = &http;
        async move {
            let mut statuses = vec![];
            for i in 0..ROUNDS {
                let batch = json!({"messages": [
                    {"content": format!("{client}/{i}/a"), "role": "user"},
                    {"content": format!("{client}/{i}/b"), "role": "assistant"},
                ]});
                let post = chat
                    .request(http, "POST", instance, "messages")
                    .json(&batch);
                statuses.push(post.send().await.map_or(0, |r| r.status().as_u16()));
                let read = chat.request(http, "GET", instance, "messages?limit=5&order=desc");
                statuses.push(read.send().await.map_or(0, |r| r.status().as_u16()));
            }
            statuses
        }
    });
    futures_util::future::join_all(clients).await.concat()
}

/// The chat's messages, oldest first, as the service reads them.
async fn contents(instance: &Instance, chat: &Chat) -> Vec<String> {
    let http = reqwest::Client::new();
    let res = chat
        .request(&http, "GET", instance, "messages")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    body["chatMessages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_statement_cache_the_service_works_behind_pgbouncer_in_transaction_mode() {
    let mut cluster = Cluster::init("bouncer");
    cluster.start("");
    let bouncer = Bouncer::start(&cluster);

    let instance = behind(&cluster, &bouncer, "false").await;
    let chat = Chat::new(&instance).await;
    let statuses = load(&instance, &chat).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    // Every batch stored whole, each client's in the order it sent them.
    let stored = contents(&instance, &chat).await;
    assert_eq!(stored.len(), CLIENTS * ROUNDS * 2);
    for client in 0..CLIENTS {
        let mine: Vec<&String> = stored
            .iter()
            .filter(|m| m.starts_with(&format!("{client}/")))
            .collect();
        let sent: Vec<String> = (0..ROUNDS)
            .flat_map(|i| [format!("{client}/{i}/a"), format!("{client}/{i}/b")])
            .collect();
        assert_eq!(mine, sent.iter().collect::<Vec<_>>());
    }

    // The control: named statements cached per connection do not survive the bouncer.
    let cached = behind(&cluster, &bouncer, "true").await;
    let statuses = load(&cached, &chat).await;
    assert!(statuses.iter().any(|s| *s != 200), "{statuses:?}");
}
