//! The REST endpoints, under `/guacamole/api`.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Form, Path, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::GuacError;
use super::json_auth;
use super::state::{Attributes, Connection, Group, Perms, Session, User, now_ms};
use super::{GuacamoleSim, state};

type Answer = Result<Response, GuacError>;

const ROOT: &str = "ROOT";
/// The data source of users signed in by encrypted JSON.
const JSON_DATA_SOURCE: &str = "json";

pub(crate) fn router(sim: GuacamoleSim) -> Router {
    let api = Router::new()
        .route("/tokens", post(create_token))
        .route("/tokens/{token}", axum::routing::delete(delete_token))
        .route("/session", axum::routing::delete(delete_session))
        .route("/session/data/{ds}/users", get(list_users).post(create_user))
        .route("/session/data/{ds}/users/{username}", get(get_user).put(update_user).delete(delete_user))
        .route("/session/data/{ds}/users/{username}/permissions", get(get_permissions).patch(patch_permissions))
        .route("/session/data/{ds}/connectionGroups", get(list_groups).post(create_group))
        .route("/session/data/{ds}/connectionGroups/{id}", get(get_group).put(update_group).delete(delete_group))
        .route("/session/data/{ds}/connections", get(list_connections).post(create_connection))
        .route(
            "/session/data/{ds}/connections/{id}",
            get(get_connection).put(update_connection).delete(delete_connection),
        )
        .route("/session/data/{ds}/connections/{id}/parameters", get(connection_parameters))
        .layer(middleware::from_fn_with_state(sim.clone(), count_writes))
        .with_state(sim);
    Router::new().nest("/guacamole/api", api)
}

async fn count_writes(State(sim): State<GuacamoleSim>, request: Request, next: Next) -> Response {
    let writes = request.method() != Method::GET && request.uri().path().contains("/session/data/");
    let response = next.run(request).await;
    if writes && response.status().is_success() {
        sim.state().writes += 1;
    }
    response
}

fn ok(value: Value) -> Answer {
    Ok(Json(value).into_response())
}

fn no_content() -> Answer {
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn not_found(identifier: &str) -> GuacError {
    GuacError::not_found(format!("Not found: \"{identifier}\""))
}

fn parse<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, GuacError> {
    serde_json::from_slice(body).map_err(|e| GuacError::bad_request(format!("Invalid JSON: {e}")))
}

/// The caller of a `/session/...` request: token from the `Guacamole-Token` header
/// or the `token` query parameter (older clients).
fn caller(sim: &GuacamoleSim, headers: &HeaderMap, query: &HashMap<String, String>) -> Result<Session, GuacError> {
    let token = headers
        .get("Guacamole-Token")
        .and_then(|v| v.to_str().ok())
        .or_else(|| query.get("token").map(String::as_str))
        .ok_or_else(GuacError::permission_denied)?;
    sim.state().touch(token).ok_or_else(GuacError::permission_denied)
}

/// A caller working in data source `ds`, who must administer it for `admin_only`.
fn in_data_source(
    sim: &GuacamoleSim,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    ds: &str,
    admin_only: bool,
) -> Result<String, GuacError> {
    let session = caller(sim, headers, query)?;
    let config = sim.config();
    let state = sim.state();
    let in_database = state.users.contains_key(&session.username);
    let allowed = ds == config.data_source && in_database || ds == JSON_DATA_SOURCE && session.via_json;
    if !allowed {
        return Err(GuacError::not_found(format!("No such data source: \"{ds}\"")));
    }
    if admin_only && (ds == JSON_DATA_SOURCE || !state.is_admin(&session.username)) {
        return Err(GuacError::permission_denied());
    }
    Ok(session.username)
}

// ----- tokens -----------------------------------------------------------------------

#[derive(Deserialize)]
struct TokenForm {
    username: Option<String>,
    password: Option<String>,
    token: Option<String>,
    data: Option<String>,
}

fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode_upper(bytes)
}

async fn create_token(State(sim): State<GuacamoleSim>, Form(form): Form<TokenForm>) -> Answer {
    let config = sim.config().clone();
    let mut state = sim.state();
    // An existing token is re-used as it is (the web application re-authenticates this way).
    if let Some(token) = form.token.as_deref()
        && let Some(session) = state.touch(token)
    {
        return token_answer(&config, &state, token, &session);
    }
    let session = if let (Some(key), Some(data)) = (&config.json_secret_key, &form.data) {
        let (user_data, signature) = json_auth::open(key, data).ok_or_else(GuacError::invalid_login)?;
        state.forget_expired_json();
        if let Some(expires) = user_data.expires {
            if expires < now_ms() || state.used_json.contains_key(&signature) {
                return Err(GuacError::invalid_login());
            }
            state.used_json.insert(signature, expires);
        }
        Session { username: user_data.username, via_json: true, last_used: Instant::now() }
    } else {
        let username = form.username.unwrap_or_default();
        let password = form.password.unwrap_or_default();
        let user = state.users.get_mut(&username).ok_or_else(GuacError::invalid_login)?;
        let disabled = user.attributes.get("disabled").and_then(|v| v.as_deref()) == Some("true");
        if username.is_empty() || user.password != password || disabled {
            return Err(GuacError::invalid_login());
        }
        user.last_active = Some(now_ms());
        Session { username, via_json: false, last_used: Instant::now() }
    };
    let token = new_token();
    state.sessions.insert(token.clone(), session.clone());
    token_answer(&config, &state, &token, &session)
}

fn token_answer(config: &super::GuacSimConfig, state: &state::State, token: &str, session: &Session) -> Answer {
    let mut sources = Vec::new();
    if session.via_json {
        sources.push(JSON_DATA_SOURCE.to_owned());
    }
    // The database joins any signed-in user that has an account of the same name.
    if state.users.contains_key(&session.username) {
        sources.push(config.data_source.clone());
    }
    ok(json!({
        "authToken": token,
        "username": session.username,
        "dataSource": sources.first(),
        "availableDataSources": sources,
    }))
}

async fn delete_token(State(sim): State<GuacamoleSim>, Path(token): Path<String>) -> Answer {
    match sim.state().sessions.remove(&token) {
        Some(_) => no_content(),
        None => Err(GuacError::not_found("No such token.")),
    }
}

async fn delete_session(
    State(sim): State<GuacamoleSim>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    caller(&sim, &headers, &query)?;
    let token = headers
        .get("Guacamole-Token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| query.get("token").cloned())
        .unwrap_or_default();
    sim.state().sessions.remove(&token);
    no_content()
}

// ----- users ---------------------------------------------------------------------------

fn user_json(username: &str, user: &User) -> Value {
    json!({ "username": username, "attributes": user.attributes, "lastActive": user.last_active, "disabled": false })
}

async fn list_users(
    State(sim): State<GuacamoleSim>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    Path(ds): Path<String>,
) -> Answer {
    let me = in_data_source(&sim, &headers, &query, &ds, false)?;
    let state = sim.state();
    let admin = state.is_admin(&me);
    let users: serde_json::Map<String, Value> = state
        .users
        .iter()
        .filter(|(name, _)| admin || **name == me)
        .map(|(name, user)| (name.clone(), user_json(name, user)))
        .collect();
    ok(Value::Object(users))
}

#[derive(Deserialize)]
struct UserBody {
    username: Option<String>,
    password: Option<String>,
    #[serde(default)]
    attributes: Attributes,
}

async fn create_user(
    State(sim): State<GuacamoleSim>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    Path(ds): Path<String>,
    body: Bytes,
) -> Answer {
    in_data_source(&sim, &headers, &query, &ds, true)?;
    let body: UserBody = parse(&body)?;
    let username = body.username.unwrap_or_default();
    if username.trim().is_empty() {
        return Err(GuacError::bad_request("The username must not be blank."));
    }
    let mut state = sim.state();
    if state.users.contains_key(&username) {
        return Err(GuacError::bad_request(format!("User \"{username}\" already exists.")));
    }
    let user = User {
        password: body.password.unwrap_or_default(),
        attributes: body.attributes,
        perms: Perms::default(),
        last_active: None,
    };
    let answer = user_json(&username, &user);
    state.users.insert(username, user);
    ok(answer)
}

async fn get_user(
    State(sim): State<GuacamoleSim>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    Path((ds, username)): Path<(String, String)>,
) -> Answer {
    let me = in_data_source(&sim, &headers, &query, &ds, false)?;
    let state = sim.state();
    if me != username && !state.is_admin(&me) {
        return Err(not_found(&username));
    }
    let user = state.users.get(&username).ok_or_else(|| not_found(&username))?;
    ok(user_json(&username, user))
}

async fn update_user(
    State(sim): State<GuacamoleSim>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    Path((ds, username)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    in_data_source(&sim, &headers, &query, &ds, true)?;
    let body: UserBody = parse(&body)?;
    if body.username.as_deref() != Some(username.as_str()) {
        return Err(GuacError::bad_request("Username in path does not match username provided JSON data."));
    }
    let mut state = sim.state();
    let user = state.users.get_mut(&username).ok_or_else(|| not_found(&username))?;
    user.attributes.extend(body.attributes);
    if let Some(password) = body.password {
        user.password = password;
    }
    no_content()
}

async fn delete_user(
    State(sim): State<GuacamoleSim>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    Path((ds, username)): Path<(String, String)>,
) -> Answer {
    let me = in_data_source(&sim, &headers, &query, &ds, true)?;
    if me == username {
        return Err(GuacError::bad_request("Users may not delete their own accounts."));
    }
    let mut state = sim.state();
    state.users.remove(&username).ok_or_else(|| not_found(&username))?;
    for user in state.users.values_mut() {
        user.perms.user.remove(&username);
    }
    no_content()
}

// ----- permissions ---------------------------------------------------------------------

fn permissions_json(perms: &Perms) -> Value {
    json!({
        "connectionPermissions": perms.connection,
        "connectionGroupPermissions": perms.connection_group,
        "sharingProfilePermissions": {},
        "activeConnectionPermissions": {},
        "userPermissions": perms.user,
        "userGroupPermissions": {},
        "systemPermissions": perms.system,
    })
}

async fn get_permissions(
    State(sim): State<GuacamoleSim>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    Path((ds, username)): Path<(String, String)>,
) -> Answer {
    let me = in_data_source(&sim, &headers, &query, &ds, false)?;
    let state = sim.state();
    if me != username && !state.is_admin(&me) {
        return Err(GuacError::permission_denied());
    }
    let user = state.users.get(&username).ok_or_else(|| not_found(&username))?;
    ok(permissions_json(&user.perms))
}

#[derive(Deserialize)]
struct PatchOp {
    op: String,
    path: String,
    value: String,
}

const OBJECT_PERMISSIONS: [&str; 4] = ["READ", "UPDATE", "DELETE", "ADMINISTER"];
const SYSTEM_PERMISSIONS: [&str; 6] =
    ["ADMINISTER", "CREATE_USER", "CREATE_USER_GROUP", "CREATE_CONNECTION", "CREATE_CONNECTION_GROUP", "AUDIT"];

async fn patch_permissions(
    State(sim): State<GuacamoleSim>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    Path((ds, username)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    in_data_source(&sim, &headers, &query, &ds, true)?;
    let ops: Vec<PatchOp> = parse(&body)?;
    let mut state = sim.state();
    // Validate everything first: Guacamole applies a patch completely or not at all.
    let mut perms = state.users.get(&username).ok_or_else(|| not_found(&username))?.perms.clone();
    for op in &ops {
        let add = match op.op.as_str() {
            "add" => true,
            "remove" => false,
            other => return Err(GuacError::bad_request(format!("Unsupported patch operation: \"{other}\""))),
        };
        let unsupported_path = || GuacError::bad_request(format!("Unsupported patch path: \"{}\"", op.path));
        let mut parts = op.path.trim_start_matches('/').splitn(2, '/');
        let kind = parts.next().unwrap_or_default();
        let set = if kind == "systemPermissions" {
            if !SYSTEM_PERMISSIONS.contains(&op.value.as_str()) {
                return Err(GuacError::bad_request(format!("Invalid permission type: \"{}\"", op.value)));
            }
            &mut perms.system
        } else {
            let id = parts.next().filter(|id| !id.is_empty()).ok_or_else(unsupported_path)?;
            if !OBJECT_PERMISSIONS.contains(&op.value.as_str()) {
                return Err(GuacError::bad_request(format!("Invalid permission type: \"{}\"", op.value)));
            }
            perms.object_set(kind, id).ok_or_else(unsupported_path)?
        };
        if add {
            set.insert(op.value.clone());
        } else {
            set.remove(&op.value);
        }
    }
    perms.tidy();
    if let Some(user) = state.users.get_mut(&username) {
        user.perms = perms;
    }
    no_content()
}

// ----- connection groups ----------------------------------------------------------------

fn group_json(id: &str, group: &Group) -> Value {
    json!({
        "name": group.name,
        "identifier": id,
        "parentIdentifier": group.parent,
        "type": group.kind,
        "activeConnections": 0,
        "attributes": group.attributes,
    })
}

async fn list_groups(
    State(sim): State<GuacamoleSim>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    Path(ds): Path<String>,
) -> Answer {
    let me = in_data_source(&sim, &headers, &query, &ds, false)?;
    let state = sim.state();
    let admin = state.is_admin(&me);
    let mine = state.users.get(&me).map(|u| u.perms.connection_group.clone()).unwrap_or_default();
    let groups: serde_json::Map<String, Value> = state
        .groups
        .iter()
        .filter(|(id, _)| admin || mine.get(*id).is_some_and(|s| s.contains("READ")))
        .map(|(id, g)| (id.clone(), group_json(id, g)))
        .collect();
    ok(Value::Object(groups))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupBody {
    name: Option<String>,
    parent_identifier: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    attributes: Attributes,
}

fn check_group(state: &state::State, body: &GroupBody, except: Option<&str>) -> Result<Group, GuacError> {
    let name = body.name.clone().unwrap_or_default();
    if name.trim().is_empty() {
        return Err(GuacError::bad_request("Connection group names must not be blank."));
    }
    let parent = body.parent_identifier.clone().unwrap_or_else(|| ROOT.into());
    if parent != ROOT && !state.groups.contains_key(&parent) {
        return Err(GuacError::bad_request(format!("No such connection group: \"{parent}\"")));
    }
    let kind = body.kind.clone().unwrap_or_default();
    if kind != "ORGANIZATIONAL" && kind != "BALANCING" {
        return Err(GuacError::bad_request(format!("Invalid connection group type: \"{kind}\"")));
    }
    if state.groups.iter().any(|(id, g)| Some(id.as_str()) != except && g.parent == parent && g.name == name) {
        return Err(GuacError::bad_request(format!("The connection group \"{name}\" already exists.")));
    }
    Ok(Group { name, parent, kind, attributes: body.attributes.clone() })
}

async fn create_group(
    State(sim): State<GuacamoleSim>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    Path(ds): Path<String>,
    body: Bytes,
) -> Answer {
    in_data_source(&sim, &headers, &query, &ds, true)?;
    let body: GroupBody = parse(&body)?;
    let mut state = sim.state();
    let group = check_group(&state, &body, None)?;
    let id = state.new_group_id();
    let answer = group_json(&id, &group);
    state.groups.insert(id, group);
    ok(answer)
}

async fn get_group(
    State(sim): State<GuacamoleSim>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    Path((ds, id)): Path<(String, String)>,
) -> Answer {
    in_data_source(&sim, &headers, &query, &ds, false)?;
    if id == ROOT {
        return ok(json!({
            "name": ROOT, "identifier": ROOT, "type": "ORGANIZATIONAL", "activeConnections": 0, "attributes": {}
        }));
    }
    let state = sim.state();
    let group = state.groups.get(&id).ok_or_else(|| not_found(&id))?;
    ok(group_json(&id, group))
}

async fn update_group(
    State(sim): State<GuacamoleSim>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    Path((ds, id)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    in_data_source(&sim, &headers, &query, &ds, true)?;
    let body: GroupBody = parse(&body)?;
    let mut state = sim.state();
    if !state.groups.contains_key(&id) {
        return Err(not_found(&id));
    }
    let group = check_group(&state, &body, Some(&id))?;
    state.groups.insert(id, group);
    no_content()
}

async fn delete_group(
    State(sim): State<GuacamoleSim>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    Path((ds, id)): Path<(String, String)>,
) -> Answer {
    in_data_source(&sim, &headers, &query, &ds, true)?;
    let mut state = sim.state();
    if !state.groups.contains_key(&id) {
        return Err(not_found(&id));
    }
    state.delete_group(&id);
    no_content()
}

// ----- connections -----------------------------------------------------------------------

fn connection_json(id: &str, connection: &Connection) -> Value {
    json!({
        "name": connection.name,
        "identifier": id,
        "parentIdentifier": connection.parent,
        "protocol": connection.protocol,
        "attributes": connection.attributes,
        "activeConnections": 0,
        "lastActive": null,
    })
}

async fn list_connections(
    State(sim): State<GuacamoleSim>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    Path(ds): Path<String>,
) -> Answer {
    let me = in_data_source(&sim, &headers, &query, &ds, false)?;
    let state = sim.state();
    let connections: serde_json::Map<String, Value> = state
        .connections
        .iter()
        .filter(|(id, _)| state.may_read_connection(&me, id))
        .map(|(id, c)| (id.clone(), connection_json(id, c)))
        .collect();
    ok(Value::Object(connections))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionBody {
    name: Option<String>,
    parent_identifier: Option<String>,
    protocol: Option<String>,
    #[serde(default)]
    parameters: BTreeMap<String, Option<String>>,
    #[serde(default)]
    attributes: Attributes,
}

fn check_connection(
    state: &state::State,
    body: &ConnectionBody,
    except: Option<&str>,
) -> Result<Connection, GuacError> {
    let name = body.name.clone().unwrap_or_default();
    if name.trim().is_empty() {
        return Err(GuacError::bad_request("Connection names must not be blank."));
    }
    let parent = body.parent_identifier.clone().unwrap_or_else(|| ROOT.into());
    if parent != ROOT && !state.groups.contains_key(&parent) {
        return Err(GuacError::bad_request(format!("No such connection group: \"{parent}\"")));
    }
    let protocol = body.protocol.clone().unwrap_or_default();
    if protocol.trim().is_empty() {
        return Err(GuacError::bad_request("Connection protocol must not be blank."));
    }
    if state.connections.iter().any(|(id, c)| Some(id.as_str()) != except && c.parent == parent && c.name == name) {
        return Err(GuacError::bad_request(format!("The connection \"{name}\" already exists.")));
    }
    // The database keeps only parameters with a value.
    let parameters = body
        .parameters
        .iter()
        .filter_map(|(k, v)| v.as_ref().filter(|v| !v.is_empty()).map(|v| (k.clone(), v.clone())))
        .collect();
    Ok(Connection { name, parent, protocol, parameters, attributes: body.attributes.clone() })
}

async fn create_connection(
    State(sim): State<GuacamoleSim>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    Path(ds): Path<String>,
    body: Bytes,
) -> Answer {
    in_data_source(&sim, &headers, &query, &ds, true)?;
    let body: ConnectionBody = parse(&body)?;
    let mut state = sim.state();
    let connection = check_connection(&state, &body, None)?;
    let id = state.new_connection_id();
    let answer = connection_json(&id, &connection);
    state.connections.insert(id, connection);
    ok(answer)
}

async fn get_connection(
    State(sim): State<GuacamoleSim>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    Path((ds, id)): Path<(String, String)>,
) -> Answer {
    let me = in_data_source(&sim, &headers, &query, &ds, false)?;
    let state = sim.state();
    let connection = state.connections.get(&id).filter(|_| state.may_read_connection(&me, &id));
    ok(connection_json(&id, connection.ok_or_else(|| not_found(&id))?))
}

async fn connection_parameters(
    State(sim): State<GuacamoleSim>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    Path((ds, id)): Path<(String, String)>,
) -> Answer {
    // Parameters (passwords included) are for those who may change the connection.
    in_data_source(&sim, &headers, &query, &ds, true)?;
    let state = sim.state();
    let connection = state.connections.get(&id).ok_or_else(|| not_found(&id))?;
    ok(json!(connection.parameters))
}

async fn update_connection(
    State(sim): State<GuacamoleSim>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    Path((ds, id)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    in_data_source(&sim, &headers, &query, &ds, true)?;
    let body: ConnectionBody = parse(&body)?;
    let mut state = sim.state();
    if !state.connections.contains_key(&id) {
        return Err(not_found(&id));
    }
    let connection = check_connection(&state, &body, Some(&id))?;
    state.connections.insert(id, connection);
    no_content()
}

async fn delete_connection(
    State(sim): State<GuacamoleSim>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    Path((ds, id)): Path<(String, String)>,
) -> Answer {
    in_data_source(&sim, &headers, &query, &ds, true)?;
    let mut state = sim.state();
    if !state.connections.contains_key(&id) {
        return Err(not_found(&id));
    }
    state.delete_connection(&id);
    no_content()
}
