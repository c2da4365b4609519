//! A service instance started in the test's process on a database of the test's choosing (a
//! throwaway cluster, a PgBouncer), for the suites that need more than `helpers::spawn_app`.

use std::collections::HashMap;
use std::path::Path;

use actix_web::dev::ServerHandle;
use chat_domain::{ChatName, EmailAddress, ModelName, NewChat};
use chat_service::service::sessions;
use chat_service::settings::{AppEnv, Settings};
use chat_service::startup::Application;

/// A service instance in this process, on `url`: `Settings::load` with the test environment
/// and `APP__DATABASE__URL`, plus `vars`.
pub struct Instance {
    pub address: String,
    pub settings: Settings,
    pub service: actix_web::web::Data<chat_service::service::Service>,
    handle: ServerHandle,
}

impl Drop for Instance {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

pub fn config_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

pub async fn serve(url: &str, vars: &[(&str, &str)]) -> Instance {
    crate::helpers::init_logs();
    let mut env: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env.insert("APP__DATABASE__URL".into(), url.to_owned());
    let settings = Settings::load(&config_dir(), AppEnv::Test, &env).expect("settings");
    let app = Application::build(&settings).await.expect("building");
    let instance = Instance {
        address: format!("http://127.0.0.1:{}", app.port()),
        settings,
        service: app.service(),
        handle: app.handle(),
    };
    tokio::spawn(app.run_until_stopped());
    instance
}

/// A user and a chat of theirs, and the user's session.
pub async fn seed(instance: &Instance) -> (i64, i64, String) {
    let email = EmailAddress::new(&format!("{}@example.com", uuid::Uuid::new_v4())).unwrap();
    let user = instance.service.create_user(&email).await.unwrap();
    let chat = NewChat {
        owner: user,
        name: ChatName::new("faults").unwrap(),
        model: ModelName::new("m").unwrap(),
    };
    let chat = instance.service.create_chat(&chat).await.unwrap();
    let session = sessions(&instance.settings).mint(user, None).unwrap();
    (user.get().into(), chat.id.get().into(), session)
}
