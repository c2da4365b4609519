//! The hot paths on the wire: on a warm connection, posting messages, reading a page
//! of messages and listing chats are one round trip each, with no statement parsed again and no
//! health query. Seen through `wire::Proxy`, on a pool of one connection so that the warm-up
//! prepares every statement where the counted requests run. Without the statement cache every
//! statement is parsed anew, inside a transaction of its own, which the same count shows.

use reqwest::header::COOKIE;
use serde_json::json;

use crate::helpers::{Backend, TestApp, TestDb, spawn_app_on};
use crate::wire::{Counts, Proxy};

/// The service on a fresh database, through the proxy.
async fn behind_proxy(statement_cache: &str) -> (TestApp, Proxy) {
    let db = TestDb::create(Backend::Postgres).await;
    let mut url = reqwest::Url::parse(db.url()).unwrap();
    let upstream = format!(
        "{}:{}",
        url.host_str().unwrap(),
        url.port_or_known_default().unwrap()
    );
    let proxy = Proxy::start(upstream).await;
    url.set_port(Some(proxy.port)).unwrap();
    let app = spawn_app_on(
        db,
        &[
            ("APP__DATABASE__URL", url.as_str()),
            ("APP__DATABASE__POOL_SIZE", "1"),
            ("APP__DATABASE__STATEMENT_CACHE", statement_cache),
        ],
    )
    .await;
    (app, proxy)
}

/// The hot paths, each as one request of a user to their chat; panics unless it succeeds.
#[derive(Debug, Clone, Copy)]
enum HotPath {
    PostMessages,
    ReadPage,
    ListChats,
}

impl HotPath {
    const ALL: [Self; 3] = [Self::PostMessages, Self::ReadPage, Self::ListChats];

    async fn request(self, app: &TestApp, user: i32, chat: i32) {
        let chats = format!("{}/api/users/{user}/chats", app.address);
        let messages = app.messages_url(user, chat);
        let request = match self {
            Self::PostMessages => app.client.post(messages).json(&json!({
                "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
            })),
            Self::ReadPage => app.client.get(format!("{messages}?limit=10")),
            Self::ListChats => app.client.get(chats),
        };
        let cookie = format!("neptun-session={}", app.session(user));
        let res = request.header(COOKIE, cookie).send().await.unwrap();
        assert!(res.status().is_success(), "{self:?}: {}", res.status());
    }

    /// What `times` of these requests sent PostgreSQL, after two to warm the connection.
    async fn counted(self, app: &TestApp, proxy: &Proxy, times: u32) -> Counts {
        let user = app
            .seed_user(&format!("{}@example.com", uuid::Uuid::new_v4()))
            .await;
        let chat = app.seed_chat(user, "hot").await;
        // A page with a message in it (an empty one asks whether the chat is the owner's).
        let hi = json!({"message": "hi", "actor": "user"});
        app.post_messages(user, chat, &app.session(user), &hi).await;
        for _ in 0..2 {
            self.request(app, user, chat).await;
        }
        let before = proxy.counts();
        for _ in 0..times {
            self.request(app, user, chat).await;
        }
        proxy.counts() - before
    }
}

#[tokio::test]
async fn hot_paths_take_one_round_trip_and_parse_nothing_on_a_warm_connection() {
    let (app, proxy) = behind_proxy("true").await;
    for path in HotPath::ALL {
        let counts = path.counted(&app, &proxy, 3).await;
        let one_each = Counts {
            round_trips: 3,
            parses: 0,
            simple_queries: 0,
        };
        assert_eq!(counts, one_each, "{path:?}");
    }
}

#[tokio::test]
async fn without_the_statement_cache_every_statement_is_parsed_again() {
    let (app, proxy) = behind_proxy("false").await;
    for path in HotPath::ALL {
        let counts = path.counted(&app, &proxy, 3).await;
        assert!(counts.parses >= 3, "{path:?}: {counts:?}");
        // And a transaction around each (see the PostgreSQL checkout): more round trips, not fewer.
        assert!(counts.round_trips > 3, "{path:?}: {counts:?}");
    }
}
