//! How many threads run requests, said once: the main runtime's and the HTTP workers. The
//! PostgreSQL pool is split among them (each thread drives its own connections).

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// The main runtime's threads: half the cores. It runs the append groups and the
/// housekeeping; requests run on the HTTP workers, which take the rest (and, often, a
/// co-located database does).
pub fn runtime_threads() -> usize {
    (cores() / 2).max(1)
}

/// The HTTP workers: `server.workers`, else one per core (actix's own default).
pub fn http_workers(configured: Option<usize>) -> usize {
    configured.unwrap_or_else(cores).max(1)
}

/// Every thread that takes connections from the pool.
pub fn pool_threads(configured_workers: Option<usize>) -> usize {
    runtime_threads() + http_workers(configured_workers)
}
