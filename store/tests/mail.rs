//! E-mail on SQLite and MariaDB: seeded templates (each default once ever,
//! also across upgrades), one template per action and language, the sent log
//! and its filters (a queued mail always with its job), single-use password
//! links (used up only together with the password's change),
//! and delivery through the job worker to a real SMTP server (aiosmtpd):
//! each mail exactly once across a server outage, permanent refusals
//! failed with the server's answer, resend.

mod common;

use std::sync::Arc;
use std::time::Duration;

use domain::access::DEFAULT_ROLES;
use domain::mail::{MailAction, MailStatus};
use domain::page::PageRequest;
use domain::task::Queue;
use domain::task::TaskStatus;
use domain::time::Timestamp;
use domain::{Actor, AuthBackend, Grant, Language, UserStatus};
use serde_json::json;
use services::Services;
use services::StoreError;
use services::clock::SystemClock;
use services::jobs::NewTask;
use services::jobs::ProductSteps;
use services::jobs::worker::{Worker, WorkerConfig};
use services::mail::defaults::{DEFAULTS, DefaultTemplate};
use services::mail::ports::{NewSentMail, SentMailFilter, TemplateInput};
use services::mail::{MailSetup, TemplateForm};
use services::ports::NewUser;
use smtp_connector::SmtpMailer;
use smtp_connector::testing::SmtpServer;
use store::Database;
use tokio::sync::watch;

fn admin(user_id: i64) -> Actor {
    let grants = DEFAULT_ROLES
        .iter()
        .find(|r| r.key == domain::access::ADMIN_ROLE)
        .map(|r| r.grants.iter().map(|(t, l)| Grant::model(*t, *l)).collect())
        .unwrap_or_default();
    Actor {
        user_id,
        username: "admin".into(),
        role_keys: vec![domain::access::ADMIN_ROLE.into()],
        grants,
        origin: Default::default(),
    }
}

async fn add_user(services: &Services, username: &str, email: &str, language: Language) -> i64 {
    services
        .ports()
        .users
        .insert(
            NewUser {
                username: username.into(),
                name: format!("{username} Example"),
                email: email.into(),
                language,
                status: UserStatus::Active,
                auth_backend: AuthBackend::Internal,
                password_hash: None,
                created_at: Timestamp(1_800_000_000_000),
            },
            None,
        )
        .await
        .unwrap()
}

fn services(db: &Database, server: Option<&SmtpServer>) -> Services {
    let mailer =
        server.map(|s| Arc::new(SmtpMailer::new(&s.config()).unwrap()) as Arc<dyn services::mail::ports::Mailer>);
    Services::new(db.ports(None), Arc::new(SystemClock), "mail-test-secret-0123456789abcdef0123").with_mail(MailSetup {
        mailer,
        site_url: "https://vle.test".into(),
        description: String::new(),
    })
}

fn services_without_server(db: &Database) -> Services {
    services(db, None)
}

/// A worker on the mails queue with retries shortened a hundredfold.
fn start_worker(services: &Services) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let mut config = WorkerConfig::new("mail-test".into());
    config.retry_scale = 0.01;
    config.grace = Duration::from_millis(200);
    let ports = services.ports();
    let worker = Worker::new(
        ports.tasks.clone(),
        ports.queue.clone(),
        Arc::new(ProductSteps::new(services.clone())),
        services.clock(),
        config,
    );
    let (stop, stopped) = watch::channel(false);
    (stop, tokio::spawn(worker.run(stopped)))
}

async fn wait_status(
    services: &Services,
    mail: i64,
    status: MailStatus,
    within: Duration,
) -> domain::mail::SentMailView {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let row = services.ports().mail.sent(mail).await.unwrap().unwrap();
        if row.status == status || tokio::time::Instant::now() > deadline {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_task(services: &Services, id: i64, status: TaskStatus) -> services::jobs::TaskRecord {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let task = services.ports().tasks.get(id).await.unwrap().unwrap();
        if task.status == status || tokio::time::Instant::now() > deadline {
            return task;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn templates_are_seeded_and_bound_once_per_language(db: Database) {
    let repo = db.ports(None).mail;
    let all = repo.templates().await.unwrap();
    assert_eq!(all.len(), MailAction::ALL.len() * 2);
    let de = repo.template_for("events_post_deployment_success", Language::De).await.unwrap().unwrap();
    assert_eq!(de.subject, "{event.name} ist bereit");
    assert!(de.html.contains("<a href=\"{event.url}\">"));

    let second = TemplateInput {
        name: "Another".into(),
        slug: Some("events_post_deployment_success".into()),
        language: Language::De,
        subject: "x".into(),
        html: "x".into(),
        text: "x".into(),
        reply_to: String::new(),
    };
    let refused = repo.insert_template(&second, Timestamp(1), None).await.unwrap_err();
    assert!(matches!(refused, StoreError::Duplicate(ref f) if f == "slug"), "{refused:?}");
    // Unbound templates do not collide.
    let unbound = TemplateInput { slug: None, ..second };
    repo.insert_template(&unbound, Timestamp(1), None).await.unwrap();
    repo.insert_template(&unbound, Timestamp(1), None).await.unwrap();

    // Seeding again (a restart) does not bring back a deleted default.
    repo.delete_template(de.id, None).await.unwrap();
    db.migrate().await.unwrap();
    assert!(repo.template_for("events_post_deployment_success", Language::De).await.unwrap().is_none());
}
on_both_dialects!(templates_are_seeded_and_bound_once_per_language);

/// An installation upgraded from a release before migration 0016, which
/// seeded all defaults into the empty table at once; its admin then deleted
/// one and edited another. The upgrade keeps both choices; a default a later
/// release adds arrives at that release's first start, once.
async fn defaults_are_seeded_once_ever_also_across_upgrades(t: common::TestDb) {
    let db = t.db.clone();
    db.migrate_until(15).await.unwrap();
    let ending_soon_en = |d: &&DefaultTemplate| d.action == MailAction::EventEndingSoon && d.language == Language::En;
    for d in DEFAULTS.iter().filter(|d| !ending_soon_en(d)) {
        let edited = d.action == MailAction::EventDeployed && d.language == Language::De;
        sqlx::query(
            "INSERT INTO mail_templates (name, slug, language, subject, html_body, text_body, reply_to, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, '', 1)",
        )
        .bind(d.name)
        .bind(d.action.slug())
        .bind(d.language.code())
        .bind(if edited { "Fertig: {event.name}" } else { d.subject })
        .bind(d.html())
        .bind(d.text)
        .execute(db.pool())
        .await
        .unwrap();
    }
    db.migrate().await.unwrap();
    let repo = db.ports(None).mail;
    assert_eq!(repo.templates().await.unwrap().len(), DEFAULTS.len() - 1);
    assert!(repo.template_for("events_ending_soon", Language::En).await.unwrap().is_none(), "deleted stays deleted");
    let edited = repo.template_for("events_post_deployment_success", Language::De).await.unwrap().unwrap();
    assert_eq!(edited.subject, "Fertig: {event.name}");

    // A release that adds a default (here: as if this database had never
    // known "your machines are ready") brings it at its first start...
    for table in ["mail_templates", "mail_template_defaults"] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE slug = 'events_vms_ready'")))
            .execute(db.pool())
            .await
            .unwrap();
    }
    db.migrate().await.unwrap();
    let arrived = repo.template_for("events_vms_ready", Language::De).await.unwrap().unwrap();
    assert!(repo.template_for("events_vms_ready", Language::En).await.unwrap().is_some());
    // ...once: deleted by the admin, it stays deleted at the next start.
    repo.delete_template(arrived.id, None).await.unwrap();
    db.migrate().await.unwrap();
    assert!(repo.template_for("events_vms_ready", Language::De).await.unwrap().is_none());
    assert_eq!(repo.templates().await.unwrap().len(), DEFAULTS.len() - 2, "both deletions kept");
}

mod defaults_are_seeded_once_ever_also_across_upgrades {
    #[tokio::test]
    async fn sqlite() {
        super::defaults_are_seeded_once_ever_also_across_upgrades(super::common::TestDb::sqlite_unmigrated().await)
            .await;
    }

    #[tokio::test]
    async fn mariadb() {
        super::defaults_are_seeded_once_ever_also_across_upgrades(super::common::TestDb::mariadb_unmigrated().await)
            .await;
    }
}

/// The delivery task of mail `mail_id`, as `Services::notify` makes it.
fn send_task(mail_id: i64, key: &str) -> NewTask {
    NewTask {
        kind: "send_mail".into(),
        name: format!("Send email #{mail_id}"),
        queue: Queue::Mails,
        payload: format!("{{\"kind\":\"send_mail\",\"mail_id\":{mail_id}}}"),
        event_id: None,
        parent_id: None,
        created_by: None,
        created_at: Timestamp(5),
        max_attempts: 5,
        idempotency_key: Some(key.into()),
        steps: vec!["send".into()],
        request_id: None,
    }
}

async fn the_sent_log_filters_and_records_answers(db: Database) {
    let ports = db.ports(None);
    let repo = ports.mail.clone();
    let delivery = |id: i64| Ok(send_task(id, &format!("mail:{id}")));
    let new = |email: &str, subject: &str| NewSentMail {
        recipient_user_id: None,
        recipient_name: "R".into(),
        recipient_email: email.into(),
        reply_to: String::new(),
        subject: subject.into(),
        html: "<p>h</p>".into(),
        text: "t".into(),
        template_id: Some(7),
        template_name: "T".into(),
        message_id: "abc".into(),
        idempotency_key: None,
        created_at: Timestamp(5),
    };
    let (a, _) = repo.insert_queued(&new("ada@school.test", "Welcome 100%"), &delivery, None).await.unwrap();
    let (b, task) = repo.insert_queued(&new("bob@school.test", "Lab ready"), &delivery, None).await.unwrap();
    repo.set_sent_status(b, MailStatus::Failed, "550 5.1.1 unknown", Timestamp(9), None).await.unwrap();
    let got = repo.sent(b).await.unwrap().unwrap();
    assert_eq!((got.status, got.answer.as_str(), got.task_id), (MailStatus::Failed, "550 5.1.1 unknown", Some(task)));
    let job = ports.tasks.get(task).await.unwrap().unwrap();
    assert_eq!((job.status, job.payload), (TaskStatus::Queued, format!("{{\"kind\":\"send_mail\",\"mail_id\":{b}}}")));

    let page = PageRequest::new(Some(1), Some(20));
    let ids = |f: SentMailFilter| {
        let repo = repo.clone();
        async move { repo.list_sent(&f, page).await.unwrap().items.iter().map(|m| m.id).collect::<Vec<_>>() }
    };
    assert_eq!(ids(SentMailFilter::default()).await, [b, a]);
    assert_eq!(ids(SentMailFilter { status: Some(MailStatus::Failed), ..Default::default() }).await, [b]);
    assert_eq!(ids(SentMailFilter { recipient: Some("ADA@".into()), ..Default::default() }).await, [a]);
    assert_eq!(ids(SentMailFilter { subject: Some("100%".into()), ..Default::default() }).await, [a]);
    assert_eq!(ids(SentMailFilter { subject: Some("_".into()), ..Default::default() }).await, Vec::<i64>::new());
    assert_eq!(ids(SentMailFilter { template_id: Some(7), ..Default::default() }).await.len(), 2);

    // A mail and its job are written together: when the task cannot be
    // written (here its key is taken) there is no queued mail without a job.
    let taken = |_: i64| Ok(send_task(0, &format!("mail:{b}")));
    let refused = repo.insert_queued(&new("cem@school.test", "Orphan"), &taken, None).await.unwrap_err();
    assert!(matches!(refused, StoreError::Duplicate(_)), "{refused:?}");
    let orphan = SentMailFilter { recipient: Some("cem@".into()), ..Default::default() };
    assert_eq!(ids(orphan).await, Vec::<i64>::new());
    // Resending: only a failed mail, and with its new job in one go.
    assert_eq!(repo.requeue_failed(a, &send_task(a, "resend-a"), Timestamp(10), None).await.unwrap(), None);
    let again = repo.requeue_failed(b, &send_task(b, "resend-b"), Timestamp(10), None).await.unwrap().unwrap();
    let got = repo.sent(b).await.unwrap().unwrap();
    assert_eq!((got.status, got.answer.as_str(), got.task_id), (MailStatus::Queued, "", Some(again)));
    assert_eq!(repo.requeue_failed(b, &send_task(b, "resend-b2"), Timestamp(11), None).await.unwrap(), None);
    assert!(ports.tasks.get(again).await.unwrap().is_some());
}
on_both_dialects!(the_sent_log_filters_and_records_answers);

/// Makes every change of a user's row fail, as a database refusing a write would.
async fn refuse_user_updates(db: &Database, refuse: bool) {
    let sql = match (refuse, db.dialect()) {
        (false, _) => "DROP TRIGGER refuse_user_updates",
        (true, store::Dialect::Sqlite) => {
            "CREATE TRIGGER refuse_user_updates BEFORE UPDATE ON users BEGIN SELECT RAISE(ABORT, 'injected'); END"
        }
        (true, store::Dialect::MariaDb) => {
            "CREATE TRIGGER refuse_user_updates BEFORE UPDATE ON users FOR EACH ROW \
             SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected'"
        }
    };
    sqlx::raw_sql(sql).execute(db.pool()).await.unwrap();
}

async fn password_links_work_once_expire_and_survive_a_failed_write(db: Database) {
    let services = services(&db, None);
    let ports = services.ports();
    let user = add_user(&services, "ada", "ada@school.test", Language::En).await;
    ports.users.set_status(user, UserStatus::EmailPending, None).await.unwrap();
    let other = add_user(&services, "bob", "bob@school.test", Language::En).await;
    let repo = ports.mail.clone();
    let activity = |name: &str| {
        services.system_activity(
            domain::activity::ActorKind::User,
            "user.password_set_by_link",
            domain::activity::ActivityTarget::new("users", user, name),
        )
    };
    let recorded = || async { ports.outbox.backlog().await.unwrap().waiting };
    repo.insert_password_token("h1", user, Timestamp(1_000)).await.unwrap();
    assert_eq!(repo.password_token_user("h1", Timestamp(999)).await.unwrap(), Some(user));
    // Someone else's link sets nothing.
    assert!(!repo.set_password_by_token("h1", other, "hash-b", Timestamp(999), None).await.unwrap());

    // The password cannot be written: the link is not used up.
    refuse_user_updates(&db, true).await;
    let before = recorded().await;
    let failed = repo.set_password_by_token("h1", user, "hash-1", Timestamp(999), Some(&activity("ada"))).await;
    assert!(failed.is_err(), "{failed:?}");
    refuse_user_updates(&db, false).await;
    assert_eq!(repo.password_token_user("h1", Timestamp(999)).await.unwrap(), Some(user), "the link still works");
    let unchanged = ports.users.by_id(user).await.unwrap().unwrap();
    assert_eq!((unchanged.password_hash, unchanged.status), (None, UserStatus::EmailPending));
    assert_eq!(recorded().await, before, "nothing recorded");

    // Used: the password is set, the invited account active, once.
    assert!(repo.set_password_by_token("h1", user, "hash-1", Timestamp(999), Some(&activity("ada"))).await.unwrap());
    let set = ports.users.by_id(user).await.unwrap().unwrap();
    assert_eq!((set.password_hash.as_deref(), set.status), (Some("hash-1"), UserStatus::Active));
    assert_eq!(recorded().await, before + 1);
    assert!(!repo.set_password_by_token("h1", user, "hash-2", Timestamp(999), None).await.unwrap());
    assert_eq!(repo.password_token_user("h1", Timestamp(999)).await.unwrap(), None);

    // Expired links work no more.
    repo.insert_password_token("h2", user, Timestamp(1_000)).await.unwrap();
    assert_eq!(repo.password_token_user("h2", Timestamp(1_000)).await.unwrap(), None);
    assert!(!repo.set_password_by_token("h2", user, "hash-3", Timestamp(1_000), None).await.unwrap());
    assert_eq!(ports.users.by_id(user).await.unwrap().unwrap().password_hash.as_deref(), Some("hash-1"));
}
on_both_dialects!(password_links_work_once_expire_and_survive_a_failed_write);

async fn mails_survive_a_server_outage_and_arrive_exactly_once(db: Database) {
    let mut server = SmtpServer::start();
    let services = services(&db, Some(&server));
    let ada = add_user(&services, "ada", "ada@school.test", Language::En).await;
    let bea = add_user(&services, "bea", "bea@schule.test", Language::De).await;
    server.stop();
    let (stop, worker) = start_worker(&services);

    let context = json!({"event": {"name": "Lab <1>", "url": "https://vle.test/events/3"}});
    let first = services.notify(MailAction::EventDeployed, ada, context.clone(), Some(3), None).await.unwrap().unwrap();
    let second = services.notify(MailAction::EventDeployed, bea, context, Some(3), None).await.unwrap().unwrap();

    // While the server is down the mails wait, with the network error as answer.
    let waiting = wait_status(&services, first, MailStatus::Queued, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let waiting = services.ports().mail.sent(waiting.id).await.unwrap().unwrap();
    assert_eq!(waiting.status, MailStatus::Queued);
    assert!(waiting.answer.contains("Connection refused"), "{}", waiting.answer);
    let task = services.ports().tasks.get(waiting.task_id.unwrap()).await.unwrap().unwrap();
    assert!(task.attempts >= 1 && task.event_id == Some(3), "{task:?}");

    server.restart();
    for id in [first, second] {
        assert_eq!(
            wait_status(&services, id, MailStatus::Sent, Duration::from_secs(20)).await.status,
            MailStatus::Sent
        );
    }
    // Give a duplicate time to show up, then count.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let received = server.messages();
    assert_eq!(received.len(), 2, "{received:?}");
    let to_ada = received.iter().find(|m| m.rcpt_tos == ["ada@school.test"]).unwrap();
    assert_eq!(to_ada.subject, "Lab <1> is ready");
    assert!(to_ada.text.contains("Hello ada Example,"));
    assert!(to_ada.text.contains("https://vle.test/events/3"));
    // Values are escaped in HTML (minijinja also escapes `/`, which mail
    // clients decode like any entity).
    let html = to_ada.html.replace("&#x2f;", "/");
    assert!(html.contains("the event Lab &lt;1&gt; has been deployed"), "{html}");
    assert!(html.contains("<a href=\"https://vle.test/events/3\">"), "{html}");
    let to_bea = received.iter().find(|m| m.rcpt_tos == ["bea@schule.test"]).unwrap();
    assert_eq!(to_bea.subject, "Lab <1> ist bereit");
    assert!(to_bea.text.starts_with("Hallo bea Example,"));

    // The caller's step running again (same key) makes no second mail.
    let key = Some("events_post_deployment_success:event-3:ada");
    let once = services.notify(MailAction::EventDeployed, ada, json!({}), Some(3), key).await.unwrap();
    let twice = services.notify(MailAction::EventDeployed, ada, json!({}), Some(3), key).await.unwrap();
    assert_eq!(once, twice);
    wait_status(&services, once.unwrap(), MailStatus::Sent, Duration::from_secs(10)).await;

    // Running the job again (a re-delivered message) sends nothing more.
    let sent = services.ports().mail.sent(first).await.unwrap().unwrap();
    assert!(sent.answer.starts_with("250"), "{}", sent.answer);
    services.deliver_mail(first, false).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.messages().len(), 3);

    stop.send(true).unwrap();
    worker.await.unwrap();
}
on_both_dialects!(mails_survive_a_server_outage_and_arrive_exactly_once);

async fn a_server_down_for_good_fails_the_mail_after_the_last_retry(db: Database) {
    let mut server = SmtpServer::start();
    let services = services(&db, Some(&server)).with_worker_max_retry(1);
    let ada = add_user(&services, "ada", "ada@school.test", Language::En).await;
    server.stop();
    let (stop, worker) = start_worker(&services);
    let mail = services.notify(MailAction::VmsReady, ada, json!({}), None, None).await.unwrap().unwrap();
    let failed = wait_status(&services, mail, MailStatus::Failed, Duration::from_secs(15)).await;
    assert_eq!(failed.status, MailStatus::Failed);
    assert!(failed.answer.contains("Connection refused"), "{}", failed.answer);
    let task = wait_task(&services, failed.task_id.unwrap(), TaskStatus::Failed).await;
    assert_eq!((task.status, task.attempts), (TaskStatus::Failed, 2));
    stop.send(true).unwrap();
    worker.await.unwrap();
}
on_both_dialects!(a_server_down_for_good_fails_the_mail_after_the_last_retry);

async fn refused_mails_fail_with_the_answer_and_can_be_resent(db: Database) {
    let server = SmtpServer::start();
    let services = services(&db, Some(&server));
    let me = add_user(&services, "root", "root@school.test", Language::En).await;
    let gone = add_user(&services, "gone", "gone@reject.test", Language::En).await;
    let (stop, worker) = start_worker(&services);
    let actor = admin(me);

    let mail = services.notify(MailAction::VmsReady, gone, json!({}), None, None).await.unwrap().unwrap();
    let failed = wait_status(&services, mail, MailStatus::Failed, Duration::from_secs(10)).await;
    assert_eq!(failed.answer, "550 5.1.1 <gone@reject.test>: Recipient address rejected: User unknown");
    // The row is written by the step, the task's status by the worker right after.
    let task = wait_task(&services, failed.task_id.unwrap(), TaskStatus::Failed).await;
    assert_eq!(task.status, TaskStatus::Failed);
    assert_eq!(task.last_error.as_deref(), Some(failed.answer.as_str()));

    // A mail that failed because no server was configured is sent once the
    // server is there: resend queues the same rendered mail in a new job.
    let unconfigured = services_without_server(&db);
    let stuck = unconfigured.notify(MailAction::VmsReady, me, json!({}), None, None).await.unwrap().unwrap();
    assert!(unconfigured.deliver_mail(stuck, false).await.is_err());
    let before = services.ports().mail.sent(stuck).await.unwrap().unwrap();
    assert_eq!(
        (before.status, before.answer.as_str()),
        (MailStatus::Failed, "no mail server configured (neither SMTP_HOST nor MAIL_DROP_DIR is set)")
    );
    services.resend_mail(&actor, stuck).await.unwrap();
    let after = wait_status(&services, stuck, MailStatus::Sent, Duration::from_secs(10)).await;
    assert_ne!(after.task_id, before.task_id, "resend runs a new job");
    assert_eq!(server.wait_for(1, Duration::from_secs(5)).await.len(), 1);
    let conflict = services.resend_mail(&actor, stuck).await.unwrap_err();
    assert!(matches!(conflict, domain::AppError::Conflict { .. }), "{conflict:?}");

    // No template bound to the action: no mail.
    let bound = services.ports().mail.template_for("events_ending_soon", Language::En).await.unwrap().unwrap();
    let de = services.ports().mail.template_for("events_ending_soon", Language::De).await.unwrap().unwrap();
    services.delete_mail_template(&actor, bound.id).await.unwrap();
    services.delete_mail_template(&actor, de.id).await.unwrap();
    assert_eq!(services.notify(MailAction::EventEndingSoon, me, json!({}), None, None).await.unwrap(), None);

    // "Send test" from a template goes to the actor, with sample values.
    let template = services.ports().mail.template_for("events_starting", Language::En).await.unwrap().unwrap();
    let test = services.send_template_test(&actor, template.id).await.unwrap();
    wait_status(&services, test, MailStatus::Sent, Duration::from_secs(10)).await;
    let got = server.wait_for(2, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 2);
    let m = got.iter().find(|m| m.subject == "Sample event starts at 2026-03-02 09:00 UTC").unwrap();
    assert_eq!(m.rcpt_tos, ["root@school.test"]);

    // "Send test mail to me" answers with the server's words, and is in the
    // sent log with them, sent or failed.
    let answer = services.send_test_mail(&actor).await.unwrap();
    assert!(answer.starts_with("250"), "{answer}");
    services.ports().users.update_profile(me, "root", "root@reject.test", Language::En, None).await.unwrap();
    let refused = services.send_test_mail(&actor).await.unwrap_err();
    let rejected = "550 5.1.1 <root@reject.test>: Recipient address rejected: User unknown";
    assert_eq!(refused, domain::AppError::CheckFailed { system: "SMTP".into(), message: rejected.into() });
    let test_mails = SentMailFilter { subject: Some("OpenVLE test mail".into()), ..Default::default() };
    let logged = services.list_sent_mails(&actor, test_mails, PageRequest::new(Some(1), Some(20))).await.unwrap();
    let logged: Vec<_> =
        logged.items.iter().map(|m| (m.recipient_email.as_str(), m.status, m.answer.as_str(), m.task_id)).collect();
    assert_eq!(
        logged,
        [
            ("root@reject.test", MailStatus::Failed, rejected, None),
            ("root@school.test", MailStatus::Sent, answer.as_str(), None)
        ]
    );

    stop.send(true).unwrap();
    worker.await.unwrap();
}
on_both_dialects!(refused_mails_fail_with_the_answer_and_can_be_resent);

async fn templates_are_validated_previewed_and_escaped(db: Database) {
    let services = services(&db, None);
    let me = add_user(&services, "root", "root@school.test", Language::En).await;
    let actor = admin(me);
    let form = TemplateForm {
        name: "Custom".into(),
        slug: "events_vms_ready".into(),
        language: "de".into(),
        subject: "Bereit: {event.name}".into(),
        html: "<p>{user.name}: {event.name}</p>".into(),
        text: "{user.name}".into(),
        reply_to: "lab@school.test".into(),
    };
    // Bound already (the seeded German default).
    let taken = services.save_mail_template(&actor, None, form.clone()).await.unwrap_err();
    assert_eq!(taken.field(), Some("slug"));
    let preview = services.preview_mail_template(&actor, form.clone()).await.unwrap();
    assert_eq!(preview.subject, "Bereit: Sample event");
    assert_eq!(preview.html, "<p>root Example: Sample event</p>");

    let broken = TemplateForm { html: "{% if x %}".into(), slug: String::new(), ..form.clone() };
    assert_eq!(services.save_mail_template(&actor, None, broken).await.unwrap_err().field(), Some("html"));
    let unknown = TemplateForm { slug: "nope".into(), ..form.clone() };
    assert_eq!(services.save_mail_template(&actor, None, unknown).await.unwrap_err().field(), Some("slug"));

    let free = TemplateForm { slug: String::new(), ..form };
    let id = services.save_mail_template(&actor, None, free).await.unwrap();
    let saved = services.get_mail_template(&actor, id).await.unwrap();
    assert_eq!((saved.slug, saved.reply_to.as_str()), (None, "lab@school.test"));

    // Students see none of it.
    let student =
        Actor { user_id: me, username: "s".into(), role_keys: vec![], grants: vec![], origin: Default::default() };
    assert_eq!(services.list_mail_templates(&student).await.unwrap_err(), domain::AppError::Forbidden);
}
on_both_dialects!(templates_are_validated_previewed_and_escaped);
