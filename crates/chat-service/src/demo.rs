//! The first run in development: a demo user and chat in an empty database, and a curl command
//! that posts to them, so that a new user sees the service work at once. Never in production.

use anyhow::Context as _;
use chat_domain::{ChatName, EmailAddress, ModelName, NewChat};

use crate::service::{Service, sessions};
use crate::settings::Settings;

/// Seeds the demo data if the database holds no user; returns the curl command to print.
pub async fn seed_if_empty(
    service: &Service,
    settings: &Settings,
    port: u16,
) -> anyhow::Result<Option<String>> {
    if !service.is_empty().await? {
        return Ok(None);
    }
    let user = service
        .create_user(&EmailAddress::new("demo@example.com")?)
        .await?;
    let chat = service
        .create_chat(&NewChat {
            owner: user,
            name: ChatName::new("Demo chat")?,
            model: ModelName::new("demo")?,
        })
        .await?;
    let session = sessions(settings)
        .mint(user, None)
        .context("sealing the demo session")?;
    let host = match settings.server.host.as_str() {
        "0.0.0.0" | "::" => "127.0.0.1",
        host => host,
    };
    Ok(Some(format!(
        "curl -s -X POST 'http://{host}:{port}/api/users/{user}/chats/{chat}/messages' \\\n  \
         -H 'content-type: application/json' \\\n  \
         -H 'cookie: neptun-session={session}' \\\n  \
         -d '{{\"message\": \"Hello!\", \"actor\": \"user\"}}'",
        chat = chat.id
    )))
}
