//! The job system on real storage: SQL tasks with the in-process queue, and
//! MariaDB tasks with the Redis queue (a fresh key prefix per test).

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::TestDb;
use domain::task::{Queue, TaskStatus, TaskTitle};
use services::Services;
use services::clock::SystemClock;
use services::jobs::scheduler::Scheduler;
use services::jobs::worker::{StepError, StepRunner, Worker, WorkerConfig};
use services::jobs::{Job, NewTask, Requester, TaskRecord};
use tokio::sync::watch;

/// Counts every run of every step; fails the first `failures` runs of "wait".
#[derive(Default)]
struct Recorder {
    runs: Mutex<HashMap<(i64, String), u32>>,
    failures: u32,
}

#[async_trait]
impl StepRunner for Recorder {
    async fn run_step(&self, task: &TaskRecord, job: &Job, step: &str) -> Result<(), StepError> {
        let count = {
            let mut runs = self.runs.lock().unwrap();
            let count = runs.entry((task.id, step.to_string())).or_default();
            *count += 1;
            *count
        };
        if let Job::Ping { sleep_ms, .. } = job {
            tokio::time::sleep(Duration::from_millis(*sleep_ms)).await;
        }
        if step == "wait" && count <= self.failures {
            return Err(StepError::retryable(format!("flaky step, run {count}")));
        }
        Ok(())
    }
}

fn services(db: &store::Database, redis: Option<store::RedisStore>) -> Services {
    Services::new(db.ports(redis), Arc::new(SystemClock), "jobs-test-secret-0123456789abcdef01234")
}

fn worker(services: &Services, runner: Arc<dyn StepRunner>, name: &str) -> Arc<Worker> {
    let mut config = WorkerConfig::new(name.to_string());
    config.retry_scale = 0.01;
    config.visibility = Duration::from_secs(2);
    config.grace = Duration::from_millis(200);
    let ports = services.ports();
    Worker::new(ports.tasks.clone(), ports.queue.clone(), runner, services.clock(), config)
}

async fn wait_for(services: &Services, id: i64, status: TaskStatus, within: Duration) -> TaskRecord {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let task = services.ports().tasks.get(id).await.unwrap().unwrap();
        if task.status == status {
            return task;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "task {id} is {:?}, expected {status:?}: {task:?}",
            task.status
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn ping(sleep_ms: u64) -> Job {
    Job::Ping { sleep_ms, node: None }
}

async fn flaky_step_succeeds_on_the_third_attempt(services: Services) {
    let runner = Arc::new(Recorder { failures: 2, ..Default::default() });
    let (stop, stopped) = watch::channel(false);
    let running = tokio::spawn(worker(&services, runner.clone(), "w1").run(stopped));
    let id = services.enqueue(&ping(0), Requester::system(None)).await.unwrap().unwrap();
    let task = wait_for(&services, id, TaskStatus::Success, Duration::from_secs(20)).await;
    assert_eq!(task.attempts, 3);
    let steps = services.ports().tasks.subtasks(id).await.unwrap();
    assert_eq!(steps[0].attempts, 3, "the failing step ran three times");
    assert_eq!(steps[1].attempts, 1, "the step after it ran once");
    assert!(steps.iter().all(|s| s.status == TaskStatus::Success));
    stop.send(true).unwrap();
    running.await.unwrap();
}

#[tokio::test]
async fn flaky_step_in_process_on_sqlite() {
    let t = TestDb::sqlite().await;
    flaky_step_succeeds_on_the_third_attempt(services(&t.db, None)).await;
}

#[tokio::test]
async fn flaky_step_through_redis_on_mariadb() {
    let t = TestDb::mariadb().await;
    flaky_step_succeeds_on_the_third_attempt(services(&t.db, Some(common::redis().await))).await;
}

#[tokio::test]
async fn a_permanently_failing_task_is_dead_lettered_and_can_be_retried_from_its_failed_step() {
    let t = TestDb::sqlite().await;
    let services = services(&t.db, None);
    // Fails forever: more failures than attempts (periodic queue: 3 attempts).
    let runner = Arc::new(Recorder { failures: 100, ..Default::default() });
    let (stop, stopped) = watch::channel(false);
    let running = tokio::spawn(worker(&services, runner.clone(), "w1").run(stopped));
    let id = services.enqueue(&ping(0), Requester::system(None)).await.unwrap().unwrap();
    let task = wait_for(&services, id, TaskStatus::Failed, Duration::from_secs(20)).await;
    assert_eq!(task.attempts, 3);
    assert!(task.last_error.as_deref().unwrap().contains("gave up after 3 attempts"), "{task:?}");
    stop.send(true).unwrap();
    running.await.unwrap();

    // An administrator retries it with a runner that now works.
    let admin = admin_actor();
    services.retry_task(&admin, id).await.unwrap();
    let healthy = Arc::new(Recorder::default());
    let (stop, stopped) = watch::channel(false);
    let running = tokio::spawn(worker(&services, healthy.clone(), "w2").run(stopped));
    wait_for(&services, id, TaskStatus::Success, Duration::from_secs(10)).await;
    assert_eq!(healthy.runs.lock().unwrap().len(), 2);
    stop.send(true).unwrap();
    running.await.unwrap();
    assert_eq!(services.retry_task(&admin, id).await.unwrap_err(), domain::AppError::conflict("task_not_failed"));
}

fn admin_actor() -> domain::Actor {
    domain::Actor {
        user_id: 0,
        username: "admin".into(),
        role_keys: vec!["admin".into()],
        grants: vec![domain::Grant::model(domain::ObjectType::Task, domain::AccessLevel::Full)],
        origin: Default::default(),
    }
}

#[tokio::test]
async fn two_workers_and_two_schedulers_on_one_redis_do_each_thing_once() {
    let t = TestDb::mariadb().await;
    let redis = common::redis().await;
    let services_a = services(&t.db, Some(redis.clone()));
    let services_b = services(&t.db, Some(redis));
    let runner = Arc::new(Recorder::default());
    let (stop, stopped) = watch::channel(false);
    let workers = [
        tokio::spawn(worker(&services_a, runner.clone(), "worker-a").run(stopped.clone())),
        tokio::spawn(worker(&services_b, runner.clone(), "worker-b").run(stopped.clone())),
    ];
    // Both schedulers tick: one leads, and the periodic job exists once.
    let scheduler_a = Scheduler::new(services_a.clone(), "scheduler-a".into(), Duration::from_secs(5));
    let scheduler_b = Scheduler::new(services_b.clone(), "scheduler-b".into(), Duration::from_secs(5));
    let led = [scheduler_a.tick_once().await.unwrap(), scheduler_b.tick_once().await.unwrap()];
    assert_eq!(led.iter().filter(|l| **l).count(), 1, "exactly one scheduler leads: {led:?}");
    // The same period again enqueues nothing new, whoever ticks.
    scheduler_a.tick_once().await.unwrap();
    scheduler_b.tick_once().await.unwrap();

    let mut ids = Vec::new();
    for i in 0..40 {
        let services = if i % 2 == 0 { &services_a } else { &services_b };
        ids.push(services.enqueue(&ping(5), Requester::system(None)).await.unwrap().unwrap());
    }
    // A duplicate request with the same key is one task.
    let key = Some("request-42".to_string());
    let first = services_a.enqueue(&ping(0), Requester::system(key.clone())).await.unwrap();
    let again = services_b.enqueue(&ping(0), Requester::system(key)).await.unwrap();
    assert!(first.is_some() && again.is_none());
    ids.push(first.unwrap());

    for id in &ids {
        wait_for(&services_a, *id, TaskStatus::Success, Duration::from_secs(30)).await;
    }
    let runs = runner.runs.lock().unwrap().clone();
    for id in &ids {
        for step in ["wait", "answer"] {
            assert_eq!(runs.get(&(*id, step.to_string())), Some(&1), "task {id} step {step}");
        }
    }
    let periodic = services_a
        .ports()
        .tasks
        .list(&Default::default(), domain::page::PageRequest::new(None, Some(200)))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|t| t.kind == "purge_sessions")
        .count();
    assert_eq!(periodic, 1, "one periodic job for the period, not one per scheduler");
    stop.send(true).unwrap();
    for w in workers {
        w.await.unwrap();
    }
}

#[tokio::test]
async fn a_worker_stopped_mid_job_hands_it_back_and_another_finishes_it() {
    let t = TestDb::sqlite().await;
    let services = services(&t.db, None);
    let runner = Arc::new(Recorder::default());
    let (stop, stopped) = watch::channel(false);
    let first = tokio::spawn(worker(&services, runner.clone(), "w1").run(stopped));
    let id = services.enqueue(&ping(3_000), Requester::system(None)).await.unwrap().unwrap();
    wait_for(&services, id, TaskStatus::Running, Duration::from_secs(5)).await;
    // The grace period (200 ms) is shorter than the job: it is handed back.
    stop.send(true).unwrap();
    first.await.unwrap();
    let task = services.ports().tasks.get(id).await.unwrap().unwrap();
    assert_eq!((task.status, task.last_error.as_deref()), (TaskStatus::Queued, Some("worker shut down")));

    let (stop, stopped) = watch::channel(false);
    let second = tokio::spawn(worker(&services, Arc::new(Recorder::default()), "w2").run(stopped));
    let done = wait_for(&services, id, TaskStatus::Success, Duration::from_secs(10)).await;
    assert_eq!(done.attempts, 2);
    stop.send(true).unwrap();
    second.await.unwrap();
}

#[tokio::test]
async fn scheduler_leadership_moves_on_when_the_leader_leaves() {
    for db in [TestDb::sqlite().await, TestDb::mariadb().await] {
        let redis = common::redis().await;
        for leases in [db.db.ports(None).leases, db.db.ports(Some(redis)).leases] {
            let ttl = Duration::from_millis(300);
            let a = leases.acquire("scheduler", "a", ttl).await.unwrap().expect("a leads");
            assert_eq!(leases.acquire("scheduler", "b", ttl).await.unwrap(), None, "b waits");
            assert_eq!(leases.acquire("scheduler", "a", ttl).await.unwrap(), Some(a), "renewal keeps the token");
            tokio::time::sleep(Duration::from_millis(400)).await;
            let b = leases.acquire("scheduler", "b", ttl).await.unwrap().expect("b takes over an expired lease");
            assert!(b > a, "a new leader gets a larger fencing token ({a} -> {b})");
            leases.release("scheduler", "b").await.unwrap();
            assert!(leases.acquire("scheduler", "a", ttl).await.unwrap().is_some(), "released: a leads again");
        }
    }
}

#[tokio::test]
async fn cancelled_tasks_do_not_run() {
    let t = TestDb::sqlite().await;
    let services = services(&t.db, None);
    let admin = admin_actor();
    let id = services.enqueue(&ping(0), Requester::system(None)).await.unwrap().unwrap();
    services.cancel_task(&admin, id).await.unwrap();
    let runner = Arc::new(Recorder::default());
    let (stop, stopped) = watch::channel(false);
    let running = tokio::spawn(worker(&services, runner.clone(), "w1").run(stopped));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(runner.runs.lock().unwrap().is_empty());
    assert_eq!(services.ports().tasks.get(id).await.unwrap().unwrap().status, TaskStatus::Cancelled);
    assert_eq!(services.cancel_task(&admin, id).await.unwrap_err(), domain::AppError::conflict("task_not_queued"));
    stop.send(true).unwrap();
    running.await.unwrap();
}

#[tokio::test]
async fn queued_jobs_survive_a_redis_restart_with_persistence() {
    let redis = common::PrivateRedis::start_with_appendonly().await;
    let t = TestDb::mariadb().await;
    let store = store::RedisStore::connect(&redis.url(), "persist").await.unwrap();
    let services = services(&t.db, Some(store));
    let mut ids = Vec::new();
    for _ in 0..20 {
        ids.push(services.enqueue(&ping(0), Requester::system(None)).await.unwrap().unwrap());
    }
    let redis = redis.restart().await;
    let store = store::RedisStore::connect(&redis.url(), "persist").await.unwrap();
    let restarted = self::services(&t.db, Some(store));
    let services = restarted;
    let (stop, stopped) = watch::channel(false);
    let running = tokio::spawn(worker(&services, Arc::new(Recorder::default()), "after-restart").run(stopped));
    for id in ids {
        wait_for(&services, id, TaskStatus::Success, Duration::from_secs(20)).await;
    }
    stop.send(true).unwrap();
    running.await.unwrap();
}

/// Records how many steps run at once, at most.
#[derive(Default)]
struct Overlap {
    now: Mutex<u32>,
    max: Mutex<u32>,
}

#[async_trait]
impl StepRunner for Overlap {
    async fn run_step(&self, _task: &TaskRecord, _job: &Job, _step: &str) -> Result<(), StepError> {
        {
            let mut now = self.now.lock().unwrap();
            *now += 1;
            let mut max = self.max.lock().unwrap();
            *max = (*max).max(*now);
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
        *self.now.lock().unwrap() -= 1;
        Ok(())
    }
}

#[tokio::test]
async fn jobs_on_one_proxmox_node_respect_its_limit() {
    let t = TestDb::sqlite().await;
    let services = services(&t.db, None);
    let overlap = Arc::new(Overlap::default());
    let mut config = WorkerConfig::new("w".into());
    config.concurrency = 8;
    config.per_node_limit = 2;
    let ports = services.ports();
    let worker = Worker::new(ports.tasks.clone(), ports.queue.clone(), overlap.clone(), services.clock(), config);
    let (stop, stopped) = watch::channel(false);
    let running = tokio::spawn(worker.run(stopped));
    let mut ids = Vec::new();
    for _ in 0..6 {
        let job = Job::Ping { sleep_ms: 0, node: Some("pve1".into()) };
        ids.push(services.enqueue(&job, Requester::system(None)).await.unwrap().unwrap());
    }
    for id in ids {
        wait_for(&services, id, TaskStatus::Success, Duration::from_secs(20)).await;
    }
    assert_eq!(*overlap.max.lock().unwrap(), 2, "two jobs at a time on pve1, though the worker could run eight");
    stop.send(true).unwrap();
    running.await.unwrap();
}

#[tokio::test]
async fn a_fan_out_sums_up_its_childrens_progress() {
    let t = TestDb::sqlite().await;
    let services = services(&t.db, None);
    let parent = services.enqueue(&ping(0), Requester::system(None)).await.unwrap().unwrap();
    let mut children = Vec::new();
    for _ in 0..4 {
        let by = Requester { actor: None, event_id: Some(7), parent_id: Some(parent), idempotency_key: None };
        children.push(services.enqueue(&ping(0), by).await.unwrap().unwrap());
    }
    let tasks = services.ports().tasks.clone();
    for id in &children[..3] {
        let now = services.clock().now();
        assert!(tasks.claim(*id, "w", now, now.plus_secs(60)).await.unwrap());
        tasks.finish(*id, "w", TaskStatus::Success, None, now).await.unwrap();
    }
    let view = services.get_task(&admin_actor(), parent).await.unwrap();
    assert_eq!((view.children_done, view.children_total), (3, 4));
    assert_eq!(view.progress_percent(), 75);
    // The list shows the parent only; its children are inside it.
    let page =
        services.list_tasks(&admin_actor(), Default::default(), domain::page::PageRequest::new(None, None)).await;
    assert_eq!(page.unwrap().items.iter().map(|t| t.id).collect::<Vec<_>>(), [parent]);
}

/// The Tasks page names a task from its job, so that each reader gets it in
/// their language; a task whose job this version cannot read (written by a
/// newer one) keeps the name stored with it.
#[tokio::test]
async fn a_task_is_titled_from_its_job_or_by_its_stored_name() {
    let t = TestDb::sqlite().await;
    let services = services(&t.db, None);
    let job = Job::Ping { sleep_ms: 5, node: Some("pve1".into()) };
    let known = services.enqueue(&job, Requester::system(None)).await.unwrap().unwrap();
    let view = services.get_task(&admin_actor(), known).await.unwrap();
    assert_eq!(view.title, TaskTitle::WorkerCheck { sleep_ms: 5, node: Some("pve1".into()) });

    let newer = NewTask {
        kind: "resize_disks".into(),
        name: "Resize disks".into(),
        queue: Queue::PveVmActions,
        payload: r#"{"kind":"resize_disks","size_gb":40}"#.into(),
        event_id: None,
        parent_id: None,
        created_by: None,
        created_at: services.clock().now(),
        max_attempts: 3,
        idempotency_key: None,
        steps: vec!["resize".into()],
        request_id: None,
    };
    let unknown = services.ports().tasks.create(&newer, None).await.unwrap().unwrap();
    let view = services.get_task(&admin_actor(), unknown).await.unwrap();
    assert_eq!(view.title, TaskTitle::Stored("Resize disks".into()));
}
