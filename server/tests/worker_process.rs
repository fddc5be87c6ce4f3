//! A worker process killed in the middle of a job (SIGKILL, no chance to
//! clean up): another worker process takes the job over and finishes it.

mod common;

use std::process::{Child, Command};
use std::time::Duration;

use common::{Backend, TestApp};
use domain::task::TaskStatus;
use services::jobs::{Job, Requester};

fn spawn_worker(app: &TestApp) -> Child {
    Command::new(env!("CARGO_BIN_EXE_openvle"))
        .arg("worker")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(&app.env)
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("start openvle worker")
}

async fn wait_for(app: &TestApp, id: i64, status: TaskStatus, within: Duration) -> services::jobs::TaskRecord {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let task = app.system.services.ports().tasks.get(id).await.unwrap().unwrap();
        if task.status == status {
            return task;
        }
        assert!(tokio::time::Instant::now() < deadline, "task {id} is {:?}, expected {status:?}", task.status);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_killed_workers_job_is_redelivered_and_finished() {
    let app = TestApp::start_with(Backend::MariaDbWithRedis, &[("WORKER_VISIBILITY_TIMEOUT_SECS", "2")]).await;
    let mut first = spawn_worker(&app);
    let id = app
        .system
        .services
        .enqueue(&Job::Ping { sleep_ms: 4_000, node: None }, Requester::system(None))
        .await
        .unwrap()
        .unwrap();
    wait_for(&app, id, TaskStatus::Running, Duration::from_secs(20)).await;
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();

    let mut second = spawn_worker(&app);
    let done = wait_for(&app, id, TaskStatus::Success, Duration::from_secs(30)).await;
    assert_eq!(done.attempts, 2, "the job ran again after the crash");
    let steps = app.system.services.ports().tasks.subtasks(id).await.unwrap();
    assert!(steps.iter().all(|s| s.status == TaskStatus::Success), "{steps:?}");

    // A graceful stop: SIGTERM ends the worker cleanly.
    let _ = Command::new("kill").args(["-TERM", &second.id().to_string()]).status();
    let status = second.wait().unwrap();
    assert!(status.success(), "worker exit on SIGTERM: {status:?}");
}

#[test]
fn a_separate_worker_needs_redis() {
    let dir = std::env::temp_dir().join(format!("openvle_worker_{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_openvle"))
        .arg("worker")
        .env_clear()
        .env("OPENVLE_DATA_DIR", &dir)
        .env("AUTH_SECRET", "worker-test-secret-0123456789abcdef0123")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("set REDIS_HOST"));
    let _ = std::fs::remove_dir_all(dir);
}
