//! Benchmark of the activity log (printed, never part of the tests):
//! 1. 100,000 activities through the outbox into SQLite, and into a MongoDB
//!    wire-protocol server (nx-27017, started here on a free port): activities/s;
//! 2. the Activities query (filtered, keyset-paginated) at 1,000,000 SQL rows
//!    (SQLite): p50 / p99 per filter and per reader (an administrator, a
//!    student's own, an instructor's events), each PASS or MISS against the
//!    target p99 < 50 ms.
//!
//! Run: `scripts/bench` or `cargo run --release -p store --example activity_bench`
//! (nx-27017 from `scripts/setup --test`, or OPENVLE_BENCH_NX_27017=path).
//! `-- --query-only ROWS`: only the query, at ROWS rows (a quick check).

use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::activity::{Activity, ActivityFilter, ActivityScope, ActivityTarget, ActorKind, Outcome};
use domain::time::Timestamp;
use services::Services;
use services::activities::{ActivityLog, new_activity_id};
use services::clock::{Clock, SystemClock};
use store::Database;
use store::mongo::{MongoActivityLog, MongoSettings};

const THROUGH_OUTBOX: usize = 100_000;
const QUERY_ROWS: usize = 1_000_000;
const QUERIES: usize = 300;
const TARGET_P99_MS: f64 = 50.0;
const PAGE: u32 = domain::activity::ACTIVITY_PAGE_SIZE;
const ACTIONS: [&str; 8] = [
    "vm.start",
    "vm.stop",
    "vm.reset",
    "vm.delete",
    "user.login",
    "user.login_failed",
    "event.deploy",
    "settings.update",
];

/// The `n`th of `rows` activities: 500 users, 200 events, 5,000 VMs.
fn activity(n: usize, rows: usize, now: i64) -> Activity {
    let failed = n.is_multiple_of(20);
    Activity {
        id: new_activity_id(),
        // Spread over the last ~30 days, newest last.
        at: Timestamp(now - 2_600_000_000 + (n as i64) * 2_600_000_000 / rows as i64),
        actor_kind: ActorKind::User,
        actor_id: Some((n % 500) as i64 + 1),
        actor_name: format!("user{}", n % 500 + 1),
        action: ACTIONS[n % ACTIONS.len()].into(),
        target: ActivityTarget::new("vms", n % 5000, &format!("Lab VM {} of course {}", n % 5000, n % 37)),
        event_id: Some((n % 200) as i64 + 1),
        outcome: if failed { Outcome::Failed } else { Outcome::Ok },
        reason: failed.then(|| "timeout".into()),
        request_id: Some(format!("{n:032x}")),
        client_ip: Some("10.0.0.1".into()),
        details: serde_json::json!({ "memory_mb": 2048, "node": "pve1" }),
    }
}

async fn sqlite(name: &str) -> Result<(Database, std::path::PathBuf), Box<dyn std::error::Error>> {
    let path = std::env::temp_dir().join(format!("openvle_bench_{name}_{}.db", std::process::id()));
    let db = Database::connect(&format!("sqlite://{}?mode=rwc", path.display()), 4).await?;
    db.migrate().await?;
    Ok((db, path))
}

fn remove(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// Appends every activity to the outbox (one transaction each, as changes do),
/// then forwards them all; prints both rates and the end-to-end rate.
async fn through_outbox(label: &str, services: &Services, now: i64) -> Result<(), Box<dyn std::error::Error>> {
    let outbox = services.ports().outbox.clone();
    let started = Instant::now();
    for n in 0..THROUGH_OUTBOX {
        outbox.append(&activity(n, THROUGH_OUTBOX, now)).await?;
    }
    let appended = started.elapsed();
    let forwarding = Instant::now();
    let mut forwarded = 0;
    while forwarded < THROUGH_OUTBOX as u64 {
        forwarded += services.forward_activities("bench").await?;
    }
    let forward = forwarding.elapsed();
    let rate = |d: Duration| THROUGH_OUTBOX as f64 / d.as_secs_f64();
    println!(
        "{label:<28} outbox append {:>8.0}/s   forward {:>8.0}/s   end to end {:>8.0}/s ({:.1} s)",
        rate(appended),
        rate(forward),
        rate(started.elapsed()),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

struct Nx(std::process::Child, std::path::PathBuf);

impl Drop for Nx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

async fn start_nx() -> Result<(Nx, String), Box<dyn std::error::Error>> {
    let binary = std::env::var("OPENVLE_BENCH_NX_27017").unwrap_or_else(|_| {
        format!("{}/.cache/openvle/nx-27017/bin/nx-27017", std::env::var("HOME").unwrap_or_default())
    });
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let dir = std::env::temp_dir().join(format!("openvle_bench_nx_{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let child = std::process::Command::new(&binary)
        .args(["--host", "127.0.0.1", "-p", &port.to_string(), "--db"])
        .arg(dir.join("data.db"))
        .arg("--log-file")
        .arg(dir.join("nx.log"))
        .arg("--pid-file")
        .arg(dir.join("nx.pid"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("nx-27017 at {binary}: {e} (scripts/setup --test installs it)"))?;
    let nx = Nx(child, dir);
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok((nx, format!("mongodb://127.0.0.1:{port}")));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("nx-27017 did not start".into())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// Page 1, then (every other round) the page after it, as a reader clicking
/// "Older": the time of each page, as the service asks the log for it.
async fn page_times(
    log: &dyn ActivityLog,
    scope: &ActivityScope,
    filter: &ActivityFilter,
    rounds: usize,
) -> Result<Vec<Duration>, Box<dyn std::error::Error>> {
    let mut times = Vec::new();
    for round in 0..rounds {
        let started = Instant::now();
        let first = log.query(scope, filter, None, PAGE + 1).await?;
        times.push(started.elapsed());
        if round % 2 == 0 && first.len() > PAGE as usize {
            let last = &first[PAGE as usize - 1];
            let cursor = domain::activity::ActivityCursor { at: last.at, id: last.id.clone() };
            let started = Instant::now();
            log.query(scope, filter, Some(&cursor), PAGE + 1).await?;
            times.push(started.elapsed());
        }
    }
    times.sort();
    Ok(times)
}

fn verdict(p99_ms: f64) -> &'static str {
    if p99_ms < TARGET_P99_MS { "PASS" } else { "MISS" }
}

/// The Activities query at `rows` SQLite rows, for every reader and filter.
async fn query_at(rows: usize, now: i64) -> Result<(), Box<dyn std::error::Error>> {
    let (db, path) = sqlite("query").await?;
    let log = db.ports(None).activity_log.clone();
    let filling = Instant::now();
    let mut batch = Vec::with_capacity(10_000);
    for n in 0..rows {
        batch.push(activity(n, rows, now));
        if batch.len() == 10_000 {
            log.store(&batch).await?;
            batch.clear();
        }
    }
    log.store(&batch).await?;
    sqlx::query("ANALYZE").execute(db.pool()).await?;
    println!("filled {rows} SQL rows in {:.1} s", filling.elapsed().as_secs_f64());

    let everything = ActivityScope::All;
    // A student: their own activities (user 42 acted in 1 of 500) and those done to their account.
    let student = ActivityScope::Own { user_id: 42, instructed_events: vec![] };
    // An instructor of three events (each 1 of 200 activities), plus their own.
    let instructor = ActivityScope::Own { user_id: 7, instructed_events: vec![3, 17, 101] };
    let none = ActivityFilter::default;
    let cases = [
        ("admin: newest", &everything, none()),
        ("admin: one user", &everything, ActivityFilter { actor_id: Some(42), ..none() }),
        ("admin: one event", &everything, ActivityFilter { event_id: Some(17), ..none() }),
        (
            "admin: area vm, failed",
            &everything,
            ActivityFilter { action: Some("vm".into()), outcome: Some(Outcome::Failed), ..none() },
        ),
        (
            "admin: action, last week",
            &everything,
            ActivityFilter {
                action: Some("vm.start".into()),
                from: Some(Timestamp(now - 7 * 24 * 3600 * 1000)),
                ..none()
            },
        ),
        // Full-text search (FTS5): a word in every name, and one in 1 of 5,000.
        ("admin: name words", &everything, ActivityFilter { text: Some("vm 42 course".into()), ..none() }),
        ("admin: name, rare word", &everything, ActivityFilter { text: Some("4242".into()), ..none() }),
        ("student: own", &student, none()),
        ("student: own, failed", &student, ActivityFilter { outcome: Some(Outcome::Failed), ..none() }),
        ("instructor: events", &instructor, none()),
        ("instructor: one event", &instructor, ActivityFilter { event_id: Some(17), ..none() }),
        ("instructor: area vm", &instructor, ActivityFilter { action: Some("vm".into()), ..none() }),
    ];
    let rounds = QUERIES / 6;
    let mut all = Vec::new();
    for (label, scope, filter) in &cases {
        let times = page_times(log.as_ref(), scope, filter, rounds).await?;
        let p99 = percentile(&times, 0.99);
        println!("  {label:<26} p50 {:>7.2} ms   p99 {p99:>7.2} ms   {}", percentile(&times, 0.5), verdict(p99));
        all.extend(times);
    }
    all.sort();
    let p99 = percentile(&all, 0.99);
    println!(
        "Activities query at {rows} rows (SQLite), all readers and filters: p50 {:.2} ms, p99 {p99:.2} ms \
         (target p99 < {TARGET_P99_MS} ms): {}",
        percentile(&all, 0.5),
        verdict(p99)
    );
    db.pool().close().await;
    remove(&path);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let now = SystemClock.now().millis();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, rows] = args.as_slice()
        && flag == "--query-only"
    {
        return query_at(rows.parse()?, now).await;
    }
    println!("Activity log benchmark ({THROUGH_OUTBOX} activities through the outbox; query at {QUERY_ROWS} rows)");

    let (db, path) = sqlite("sql").await?;
    let services = Services::new(db.ports(None), Arc::new(SystemClock), "bench-secret-0123456789abcdef0123");
    through_outbox("SQLite (embedded default)", &services, now).await?;
    db.pool().close().await;
    remove(&path);

    let (nx, uri) = start_nx().await?;
    let (db, path) = sqlite("mongo").await?;
    let settings = MongoSettings { uri, username: None, password: None, database: "bench".into(), retention_days: 365 };
    let mut ports = db.ports(None);
    ports.activity_log = Arc::new(MongoActivityLog::new(&settings).await?);
    let services = Services::new(ports, Arc::new(SystemClock), "bench-secret-0123456789abcdef0123");
    through_outbox("MongoDB wire (nx-27017)", &services, now).await?;
    drop(nx);
    db.pool().close().await;
    remove(&path);

    // The query at a million rows: filled straight into the log in large batches.
    query_at(QUERY_ROWS, now).await
}
