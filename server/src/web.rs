//! The HTTP server: Leptos pages and server functions, static files, health
//! endpoints, and the request guards every request passes.

use std::net::SocketAddr;
use std::sync::Arc;

use app::api::context::{ClientIp, ServerState, usable_request_id};
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRef, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list, handle_server_fns_with_context};
use tokio::sync::watch;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::console::ConsoleState;
use crate::health;
use crate::wiring::{StartError, System};

const REQUEST_ID: &str = "x-request-id";

/// The router's state: Leptos' options plus what the handlers need.
#[derive(Clone)]
pub struct WebState {
    pub leptos: LeptosOptions,
    pub server: ServerState,
    pub system: System,
    pub guard: Arc<RequestGuard>,
}

impl FromRef<WebState> for LeptosOptions {
    fn from_ref(state: &WebState) -> LeptosOptions {
        state.leptos.clone()
    }
}

/// Which origins may send state-changing requests, and whether the proxy's
/// X-Forwarded-For can be believed.
pub struct RequestGuard {
    allowed_origins: Vec<String>,
    trust_proxy_headers: bool,
}

pub fn router(config: &Config, system: System) -> Router {
    let leptos = LeptosOptions::builder()
        .output_name("openvle")
        .site_root(config.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.listen)
        .build();
    let server = ServerState { services: system.services.clone(), secure_cookies: config.secure_cookies() };
    let guard = Arc::new(RequestGuard {
        allowed_origins: config.allowed_origins(),
        trust_proxy_headers: config.trust_proxy_headers,
    });
    // The built-in console: access by the VM records, channels through the cluster connection in use.
    let console = ConsoleState {
        services: system.services.clone(),
        access: Arc::new(system.services.clone()),
        backend: Arc::new(system.services.clone()),
    };
    let state = WebState { leptos: leptos.clone(), server: server.clone(), system, guard: guard.clone() };
    let context = move || provide_context(server.clone());
    let routes = app_routes();
    let shell_options = leptos.clone();

    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(&format!("{}{{*fn_name}}", app::api::SERVER_FN_PREFIX), get(server_fn_handler).post(server_fn_handler))
        .route("/events/tasks/{id}", get(crate::events::task_events))
        .route("/activities/export.csv", get(crate::activities::export_csv))
        .route("/events/event-vms/{id}", get(crate::events::event_vm_events))
        .route("/auth/oidc/start", get(crate::oidc::start))
        .route("/auth/oidc/callback", get(crate::oidc::callback))
        .route("/vms/{id}/guacamole", get(crate::guacamole::hand_off))
        .route("/vms/{id}/connect", get(crate::connect::connect))
        .merge(crate::console::router(console))
        .leptos_routes_with_context(&state, routes, context.clone(), move || app::shell(shell_options.clone()))
        .fallback(leptos_axum::file_and_error_handler_with_context::<WebState, _>(context, app::shell))
        .layer(middleware::from_fn_with_state(guard, guard_request))
        // The wasm bundle shrinks to about a third; students on slow links notice.
        .layer(CompressionLayer::new())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<Body>| {
            let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(middleware::from_fn(drop_unusable_request_id))
        .with_state(state)
}

/// The app's routes, listed once per process. Listing them renders the app
/// with resource loading switched off process-wide (leptos' global
/// `SuppressResourceLoad`); a page another router rendered in that moment
/// would wait forever for its data (leptos issue #4773). One process starts
/// one router, but the tests start many side by side.
fn app_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

/// A client's `x-request-id` is kept when it looks like a request id (a
/// proxy's, to follow one request through both logs); anything else is
/// dropped, so the layer inside gives the request a fresh id instead.
async fn drop_unusable_request_id(mut request: Request<Body>, next: Next) -> Response {
    if request.headers().get(REQUEST_ID).is_some_and(|v| !v.to_str().is_ok_and(usable_request_id)) {
        request.headers_mut().remove(REQUEST_ID);
    }
    next.run(request).await
}

async fn server_fn_handler(State(state): State<WebState>, request: Request<Body>) -> impl IntoResponse {
    let server = state.server.clone();
    handle_server_fns_with_context(move || provide_context(server.clone()), request).await
}

fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next()?;
    Some(format!("{}://{}", scheme.to_ascii_lowercase(), host.to_ascii_lowercase()))
}

impl RequestGuard {
    /// A state-changing request must come from a page of this site: its
    /// Origin (or, failing that, Referer) must be our public URL, an allowed
    /// origin, or the host the request was sent to.
    fn same_origin(&self, headers: &HeaderMap) -> bool {
        let claimed = headers
            .get(header::ORIGIN)
            .or_else(|| headers.get(header::REFERER))
            .and_then(|v| v.to_str().ok())
            .and_then(origin_of);
        let Some(claimed) = claimed else {
            return false;
        };
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase);
        let matches_host = host.is_some_and(|h| claimed.ends_with(&format!("://{h}")));
        matches_host || self.allowed_origins.iter().any(|o| origin_of(o).as_deref() == Some(claimed.as_str()))
    }

    fn client_ip(&self, request: &Request<Body>) -> String {
        if self.trust_proxy_headers
            && let Some(forwarded) = request.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok())
            && let Some(nearest) = forwarded.rsplit(',').next().map(str::trim).filter(|s| !s.is_empty())
        {
            // The right-most entry is the one our own proxy added; entries to
            // its left come from the client and can be forged.
            return nearest.to_string();
        }
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into())
    }
}

/// Cross-site request refusal (CSRF) and client address for every request.
async fn guard_request(State(guard): State<Arc<RequestGuard>>, mut request: Request<Body>, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !guard.same_origin(request.headers()) {
        tracing::warn!(path = %request.uri().path(), "refused a cross-site or origin-less state-changing request");
        return (
            StatusCode::FORBIDDEN,
            "Refused: this request did not come from a page of this site (Origin/Referer check).",
        )
            .into_response();
    }
    let ip = guard.client_ip(&request);
    request.extensions_mut().insert(ClientIp(ip));
    next.run(request).await
}

/// Checks the browser bundle and takes the listening address: done before
/// anything else starts, so a missing build or a taken port stops start-up
/// with its message instead of leaving a worker running behind no web server.
pub async fn bind(config: &Config) -> Result<tokio::net::TcpListener, StartError> {
    let bundle = config.site_root.join("pkg").join("openvle.js");
    if !bundle.exists() {
        return Err(StartError::Site(config.site_root.display().to_string()));
    }
    tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Listen { addr: config.listen.to_string(), source })
}

/// Connections accepted with Nagle's delay off: console frames and keystrokes
/// go out as they come (with it, a frame's last segment waited for the peer's
/// delayed ACK, 40 ms).
pub fn without_nagle(
    listener: tokio::net::TcpListener,
) -> axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)> {
    listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    })
}

/// Serves on `listener` until `shutdown` turns true, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: &Config,
    system: System,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), StartError> {
    // The bound address: with port 0 the system picked one.
    let addr = listener.local_addr().map_or_else(|_| config.listen.to_string(), |a| a.to_string());
    tracing::info!(%addr, "listening");
    axum::serve(without_nagle(listener), router(config, system).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        })
        .await
        .map_err(StartError::Serve)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> RequestGuard {
        RequestGuard { allowed_origins: vec!["https://vle.example.org".into()], trust_proxy_headers: false }
    }

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), v.parse().unwrap());
        }
        h
    }

    #[test]
    fn same_origin_posts_pass_and_others_are_refused() {
        let g = guard();
        assert!(
            g.same_origin(&headers(&[(header::ORIGIN, "http://127.0.0.1:8000"), (header::HOST, "127.0.0.1:8000")]))
        );
        assert!(
            g.same_origin(&headers(&[(header::ORIGIN, "https://VLE.example.org"), (header::HOST, "10.0.0.5:8000")]))
        );
        assert!(g.same_origin(&headers(&[
            (header::REFERER, "http://127.0.0.1:8000/admin"),
            (header::HOST, "127.0.0.1:8000")
        ])));
        assert!(
            !g.same_origin(&headers(&[(header::ORIGIN, "https://evil.example"), (header::HOST, "127.0.0.1:8000")]))
        );
        assert!(!g.same_origin(&headers(&[
            (header::ORIGIN, "http://127.0.0.1:8000.evil.example"),
            (header::HOST, "127.0.0.1:8000")
        ])));
        assert!(!g.same_origin(&headers(&[(header::HOST, "127.0.0.1:8000")])));
        assert!(!g.same_origin(&headers(&[(header::ORIGIN, "null"), (header::HOST, "127.0.0.1:8000")])));
    }
}
