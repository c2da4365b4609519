pub mod iron;
pub mod session;
