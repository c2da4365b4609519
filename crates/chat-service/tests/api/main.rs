//! Black-box tests of the HTTP contract (`docs/contract.md`), one fresh database each.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod adopt;
mod adopt_sharing;
mod auth;
mod chat_lists;
mod chats;
mod cli;
mod cluster;
mod db;
mod failures;
mod fault_suite;
mod faults;
mod grouping;
mod helpers;
mod idempotency;
mod instance;
mod message_rules;
mod messages;
mod operations;
mod pgbouncer;
mod protocol;
mod raw;
mod reading;
mod round_trips;
mod route_params;
mod seed;
mod sharing;
mod sharing_files;
mod slow_readers;
mod tls;
mod waits;
mod wire;
