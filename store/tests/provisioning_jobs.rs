//! The provisioning jobs end to end: enqueued like the classroom code will,
//! run by a real worker on SQLite, driving the Proxmox VE simulator over
//! HTTP, with their results in a recorder.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::TestDb;
use domain::task::TaskStatus;
use proxmox_connector::adapter::{PveCluster, PveConnector, settings_from_config};
use proxmox_connector::{PveClient, PveConfig};
use services::Services;
use services::StoreError;
use services::clock::SystemClock;
use services::cluster::{ClusterHandle, EnvironmentCluster};
use services::jobs::worker::{Worker, WorkerConfig};
use services::jobs::{Job, ProductSteps, Requester, TaskRecord};
use services::provisioning::{
    Drift, PlannedVm, ProvisioningConfig, ProvisioningRecorder, RecordedVm, TemplateRef, VmProgress, VmStage,
};
use sim::proxmox::{DEMO_POOL, DEMO_TOKEN_NAME, DEMO_TOKEN_SECRET, DEMO_USER, SimConfig, Simulator};
use tokio::sync::watch;

#[derive(Default)]
struct Latest(Mutex<HashMap<String, VmProgress>>);

#[async_trait]
impl ProvisioningRecorder for Latest {
    async fn progress(&self, _owner: &str, update: &VmProgress) -> Result<(), StoreError> {
        self.0.lock().unwrap().insert(update.name.clone(), update.clone());
        Ok(())
    }
    async fn recorded(&self, _owner: &str) -> Result<Vec<RecordedVm>, StoreError> {
        Ok(Vec::new())
    }
    async fn drift(&self, _owner: &str, _drift: &[Drift]) -> Result<(), StoreError> {
        Ok(())
    }
}

fn planned(user: &str) -> PlannedVm {
    PlannedVm {
        key: format!("{user}/debian"),
        shortname: "jobs1".into(),
        username: user.into(),
        template_name: "debian".into(),
        copy: 1,
        source: TemplateRef { vmid: 9000, node: "pve1".into() },
        linked_clone: true,
        memory_mib: 1024,
        cores: 1,
        tags: vec![],
        description: String::new(),
    }
}

async fn wait_for(services: &Services, id: i64, status: TaskStatus) -> TaskRecord {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let task = services.ports().tasks.get(id).await.unwrap().unwrap();
        if task.status == status {
            return task;
        }
        assert!(tokio::time::Instant::now() < deadline, "task {id} is {:?}: {task:?}", task.status);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn deploy_and_decommission_jobs_run_on_a_worker_against_the_simulator() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = Simulator::new(SimConfig { time_scale: 0.01, ..SimConfig::demo() }).unwrap().start(listener).unwrap();
    let mut config = PveConfig::new(&sim.base_url(), DEMO_USER, DEMO_TOKEN_NAME, DEMO_TOKEN_SECRET).unwrap();
    config.pool = DEMO_POOL.into();
    let environment = EnvironmentCluster {
        settings: settings_from_config(&config),
        client: Arc::new(PveCluster::new(PveClient::new(config).unwrap())),
    };
    let db = TestDb::sqlite().await;
    let recorder = Arc::new(Latest::default());
    let engine = ProvisioningConfig {
        retry_first: Duration::from_millis(20),
        poll_first: Duration::from_millis(20),
        poll_max: Duration::from_millis(100),
        ..ProvisioningConfig::default()
    };
    let services = Services::new(db.db.ports(None), Arc::new(SystemClock), "jobs-test-secret-0123456789abcdef01234")
        .with_cluster(ClusterHandle::new(Arc::new(PveConnector), Some(environment), None))
        .with_provisioning(recorder.clone(), engine);
    let mut worker_config = WorkerConfig::new("provisioning-worker".into());
    worker_config.retry_scale = 0.01;
    let ports = services.ports();
    let worker = Worker::new(
        ports.tasks.clone(),
        ports.queue.clone(),
        Arc::new(ProductSteps::new(services.clone())),
        services.clock(),
        worker_config,
    );
    let (stop, stopped) = watch::channel(false);
    let running = tokio::spawn(worker.run(stopped));

    let plan: Vec<PlannedVm> = ["anna", "bob", "carl"].map(planned).to_vec();
    let deploy = Job::DeployVms { owner: "event-1".into(), plan: plan.clone(), allow_partial: false };
    let id = services.enqueue(&deploy, Requester::system(Some("deploy-event-1".into()))).await.unwrap().unwrap();
    wait_for(&services, id, TaskStatus::Success).await;
    let latest = recorder.0.lock().unwrap().clone();
    assert_eq!(latest.len(), 3);
    assert!(latest.values().all(|p| p.stage == VmStage::Ready && p.ip.is_some()), "{latest:#?}");
    assert_eq!(sim.simulator().vm_count(), 3 + 3);

    // Capacity refused: the task fails for good, with the per-node message.
    let mut greedy = planned("dora");
    greedy.memory_mib = 1024 * 1024;
    let refused = Job::DeployVms { owner: "event-2".into(), plan: vec![greedy], allow_partial: false };
    let id = services.enqueue(&refused, Requester::system(None)).await.unwrap().unwrap();
    let task = wait_for(&services, id, TaskStatus::Failed).await;
    assert_eq!(task.attempts, 1, "not retried");
    assert!(task.last_error.unwrap().starts_with("not enough memory for 1 of 1 new VMs"));

    let decommission = Job::DecommissionVms { owner: "event-1".into(), plan };
    let id = services.enqueue(&decommission, Requester::system(None)).await.unwrap().unwrap();
    wait_for(&services, id, TaskStatus::Success).await;
    assert_eq!(sim.simulator().vm_count(), 3, "only the templates are left");
    assert!(recorder.0.lock().unwrap().values().all(|p| p.stage == VmStage::Deleted));

    stop.send_replace(true);
    running.await.unwrap();
    sim.stop().await.unwrap();
}
