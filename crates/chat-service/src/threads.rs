//! How many threads the service runs, said once: the main runtime's and the HTTP workers (the
//! PostgreSQL pool is split among the workers, each driving its own connections).

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
