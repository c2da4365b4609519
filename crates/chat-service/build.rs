//! The commit the binary is built from, for `chat_service_build_info` and the startup log:
//! `CHAT_SERVICE_COMMIT` when set (a container build without `.git`), else git's, else
//! `unknown`.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=CHAT_SERVICE_COMMIT");
    println!("cargo:rerun-if-changed=../../.git/HEAD");
    println!("cargo:rerun-if-changed=../../.git/refs/heads");
    let commit = std::env::var("CHAT_SERVICE_COMMIT").ok().or_else(|| {
        Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_owned())
    });
    println!(
        "cargo:rustc-env=CHAT_SERVICE_COMMIT={}",
        commit.unwrap_or_else(|| "unknown".to_owned())
    );
}
