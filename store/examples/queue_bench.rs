//! Benchmark of the Redis job queue: 10,000 no-op jobs enqueued and
//! dispatched (pull + acknowledge), printing jobs per second and the queue
//! latency (push to pull) percentiles. Needs Redis on 127.0.0.1:6379 (or
//! OPENVLE_BENCH_REDIS_URL). Run: `scripts/bench` or
//! `cargo run --release -p store --example queue_bench`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::task::Queue;
use services::jobs::JobQueue;
use store::RedisQueue;

const JOBS: i64 = 10_000;
const PRODUCERS: i64 = 8;
const CONSUMERS: usize = 8;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("OPENVLE_BENCH_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let prefix = format!("openvle-bench-{}", std::process::id());
    let pushed_at: Arc<Mutex<HashMap<i64, Instant>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();

    let consumers: Vec<RedisQueue> = {
        let mut v = Vec::new();
        for _ in 0..CONSUMERS {
            v.push(RedisQueue::connect(&url, &prefix).await?);
        }
        v
    };
    let producer = RedisQueue::connect(&url, &prefix).await?;
    let started = Instant::now();

    let mut handles = Vec::new();
    for (n, queue) in consumers.into_iter().enumerate() {
        let pushed_at = pushed_at.clone();
        let latencies = latencies.clone();
        handles.push(tokio::spawn(async move {
            let name = format!("bench-consumer-{n}");
            loop {
                if latencies.lock().map(|l| l.len() as i64 >= JOBS).unwrap_or(true) {
                    break;
                }
                match queue
                    .pull(&name, &[Queue::PveVmActions], Duration::from_millis(200), Duration::from_secs(60))
                    .await
                {
                    Ok(Some(delivery)) => {
                        let at = pushed_at.lock().ok().and_then(|m| m.get(&delivery.task_id).copied());
                        if let Some(at) = at
                            && let Ok(mut l) = latencies.lock()
                        {
                            l.push(at.elapsed());
                        }
                        let _ = queue.ack(&delivery).await;
                    }
                    Ok(None) => {}
                    Err(e) => eprintln!("pull failed: {e}"),
                }
            }
        }));
    }
    let mut producers = Vec::new();
    for p in 0..PRODUCERS {
        let queue = producer.clone();
        let pushed_at = pushed_at.clone();
        producers.push(tokio::spawn(async move {
            let mut id = p;
            while id < JOBS {
                if let Ok(mut m) = pushed_at.lock() {
                    m.insert(id, Instant::now());
                }
                if let Err(e) = queue.push(Queue::PveVmActions, id, None).await {
                    eprintln!("push failed: {e}");
                }
                id += PRODUCERS;
            }
        }));
    }
    for p in producers {
        p.await?;
    }
    let enqueued = started.elapsed();
    for h in handles {
        h.await?;
    }
    let total = started.elapsed();
    let mut l = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    l.sort();
    let pct =
        |p: f64| l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1))).copied().unwrap_or_default();
    println!("queue benchmark (Redis streams, {CONSUMERS} consumers, {PRODUCERS} producers)");
    println!("  jobs                  {}", l.len());
    println!("  enqueue               {:.0} jobs/s", JOBS as f64 / enqueued.as_secs_f64());
    println!("  enqueue + dispatch    {:.0} jobs/s  (target >= 5000)", JOBS as f64 / total.as_secs_f64());
    println!("  queue latency p50     {:.1} ms", pct(0.50).as_secs_f64() * 1000.0);
    println!("  queue latency p99     {:.1} ms", pct(0.99).as_secs_f64() * 1000.0);
    let client = redis::Client::open(url.as_str())?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}:*")).query_async(&mut conn).await?;
    if !keys.is_empty() {
        redis::cmd("DEL").arg(keys).query_async::<()>(&mut conn).await?;
    }
    Ok(())
}
