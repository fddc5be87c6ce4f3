//! `GET /activities/export.csv`: the Activities page's filtered list as CSV,
//! streamed page by page (keyset pages of 1,000), never built in memory.
//! The same rules as the page: a signed-in caller, administrators get every
//! activity, everyone else their own.

use app::api::activities::ActivityQuery;
use app::api::context::{SESSION_COOKIE, cookie_value};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Actor;
use domain::activity::{ActivityFilter, CSV_HEADER, csv_line};
use services::Services;

use crate::web::WebState;

const EXPORT_PAGE: u32 = 1000;

enum Step {
    Header,
    Page(Option<String>),
    Done,
}

pub async fn export_csv(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(query): Query<ActivityQuery>,
) -> Response {
    let services = state.system.services.clone();
    let user = match cookie_value(&headers, SESSION_COOKIE) {
        Some(token) => services.session_user(&token).await.ok().flatten(),
        None => None,
    };
    let Some(user) = user.filter(|u| u.pending_policies.is_empty()) else {
        return (StatusCode::UNAUTHORIZED, "sign in first").into_response();
    };
    let filter = match query.filter() {
        Ok(filter) => filter,
        // A sentence, as the page would show it: the download is opened from a link.
        Err(e) => return (StatusCode::BAD_REQUEST, app::i18n::error_text(&e, user.language)).into_response(),
    };
    // Fused: the compression layer polls the body once more after its end,
    // which an unfolded stream answers with a panic (and a broken download).
    let body = Body::from_stream(futures_util::StreamExt::fuse(rows(services, user.actor, filter)));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"activities.csv\""),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// The header, then one chunk per page; an error ends the download early
/// (the client sees a broken transfer rather than a silently short file).
fn rows(
    services: Services,
    actor: Actor,
    filter: ActivityFilter,
) -> impl futures_util::Stream<Item = Result<String, std::io::Error>> {
    futures_util::stream::unfold(Step::Header, move |step| {
        let (services, actor, filter) = (services.clone(), actor.clone(), filter.clone());
        async move {
            match step {
                Step::Header => Some((Ok(CSV_HEADER.to_string()), Step::Page(None))),
                Step::Page(cursor) => {
                    match services.list_activities(&actor, &filter, cursor.as_deref(), Some(EXPORT_PAGE)).await {
                        Ok(page) => {
                            let chunk: String = page.items.iter().map(csv_line).collect();
                            let next = page.next.map_or(Step::Done, |c| Step::Page(Some(c)));
                            Some((Ok(chunk), next))
                        }
                        Err(e) => Some((Err(std::io::Error::other(e.to_string())), Step::Done)),
                    }
                }
                Step::Done => None,
            }
        }
    })
}
