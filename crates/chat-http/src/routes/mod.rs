//! One module per resource.

pub mod messages;
