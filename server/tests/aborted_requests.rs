//! A browser that leaves a page before it has loaded (a click on another link,
//! Esc, a closed tab) leaves nothing in the log at ERROR: administrators read
//! every such line as something to act on. Such pages logged "server state
//! missing" before: a resource still running after the request was gone.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Backend, TestApp};
use tracing_subscriber::layer::{Context, SubscriberExt};

/// Every ERROR event, as "target: message".
struct ErrorLines(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ErrorLines {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if *event.metadata().level() == tracing::Level::ERROR {
            let mut line = format!("{}:", event.metadata().target());
            event.record(&mut |field: &tracing::field::Field, value: &dyn std::fmt::Debug| {
                line.push_str(&format!(" {}={value:?}", field.name()));
            });
            self.0.lock().unwrap().push(line);
        }
    }
}

#[tokio::test]
async fn pages_left_half_loaded_log_no_error() {
    let errors = Arc::new(Mutex::new(Vec::new()));
    // This test's runtime runs every task on this thread, the server's too.
    let _log = tracing::subscriber::set_default(tracing_subscriber::registry().with(ErrorLines(errors.clone())));
    let app = TestApp::start(Backend::Sqlite).await;
    let admin = app.signed_in("admin").await;
    let mut whole = 0;
    for round in 0..40u64 {
        for path in ["/", "/admin/users/1", "/activities", "/events"] {
            // Leaves after 1 to 9 ms, wherever the page is by then.
            let page = async { admin.http.get(app.url(path)).send().await?.text().await };
            if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(1 + round % 9), page).await {
                whole += 1;
            }
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(whole < 160, "every page loaded in time: nothing was left half loaded");
    let errors = errors.lock().unwrap();
    assert!(errors.is_empty(), "{errors:#?}");
}
