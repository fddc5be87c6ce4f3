//! What the simulated Guacamole database and session map hold.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{GuacSimConfig, Inventory};

pub(crate) type Attributes = BTreeMap<String, Option<String>>;

#[derive(Debug, Default, Clone)]
pub(crate) struct Perms {
    pub system: BTreeSet<String>,
    pub connection: BTreeMap<String, BTreeSet<String>>,
    pub connection_group: BTreeMap<String, BTreeSet<String>>,
    pub user: BTreeMap<String, BTreeSet<String>>,
}

impl Perms {
    /// The set a JSON Patch path addresses, and the object id within it.
    pub fn object_set(&mut self, kind: &str, id: &str) -> Option<&mut BTreeSet<String>> {
        let map = match kind {
            "connectionPermissions" => &mut self.connection,
            "connectionGroupPermissions" => &mut self.connection_group,
            "userPermissions" => &mut self.user,
            _ => return None,
        };
        Some(map.entry(id.to_owned()).or_default())
    }

    /// Drops empty entries, so an emptied set disappears from the JSON as in Guacamole.
    pub fn tidy(&mut self) {
        self.connection.retain(|_, s| !s.is_empty());
        self.connection_group.retain(|_, s| !s.is_empty());
        self.user.retain(|_, s| !s.is_empty());
    }
}

#[derive(Debug, Clone)]
pub(crate) struct User {
    pub password: String,
    pub attributes: Attributes,
    pub perms: Perms,
    pub last_active: Option<u64>,
}

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub name: String,
    pub parent: String,
    pub kind: String,
    pub attributes: Attributes,
}

#[derive(Debug, Clone)]
pub(crate) struct Connection {
    pub name: String,
    pub parent: String,
    pub protocol: String,
    pub parameters: BTreeMap<String, String>,
    pub attributes: Attributes,
}

#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub username: String,
    /// Signed in through the JSON extension (its own data source, `json`).
    pub via_json: bool,
    pub last_used: Instant,
}

pub(crate) struct State {
    pub users: BTreeMap<String, User>,
    pub groups: BTreeMap<String, Group>,
    pub connections: BTreeMap<String, Connection>,
    next_group: u64,
    next_connection: u64,
    pub sessions: HashMap<String, Session>,
    /// Signatures of JSON data already used, with their expiry (ms).
    pub used_json: HashMap<Vec<u8>, u64>,
    pub writes: usize,
    timeout: Duration,
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_millis() as u64
}

impl State {
    pub fn new(config: &GuacSimConfig) -> State {
        let mut admin_perms = Perms::default();
        for p in ["ADMINISTER", "CREATE_USER", "CREATE_USER_GROUP", "CREATE_CONNECTION", "CREATE_CONNECTION_GROUP"] {
            admin_perms.system.insert(p.into());
        }
        let admin = User {
            password: config.admin_password.clone(),
            attributes: Attributes::new(),
            perms: admin_perms,
            last_active: None,
        };
        State {
            users: BTreeMap::from([(config.admin_username.clone(), admin)]),
            groups: BTreeMap::new(),
            connections: BTreeMap::new(),
            next_group: 1,
            next_connection: 1,
            sessions: HashMap::new(),
            used_json: HashMap::new(),
            writes: 0,
            timeout: config.session_timeout,
        }
    }

    pub fn inventory(&self) -> Inventory {
        Inventory {
            users: self.users.len(),
            connection_groups: self.groups.len(),
            connections: self.connections.len(),
            writes: self.writes,
        }
    }

    pub fn new_group_id(&mut self) -> String {
        let id = self.next_group;
        self.next_group += 1;
        id.to_string()
    }

    pub fn new_connection_id(&mut self) -> String {
        let id = self.next_connection;
        self.next_connection += 1;
        id.to_string()
    }

    /// The session for a token, refreshed; idle sessions end as in Guacamole.
    pub fn touch(&mut self, token: &str) -> Option<Session> {
        let timeout = self.timeout;
        let session = self.sessions.get_mut(token)?;
        if session.last_used.elapsed() > timeout {
            self.sessions.remove(token);
            return None;
        }
        session.last_used = Instant::now();
        Some(session.clone())
    }

    pub fn is_admin(&self, username: &str) -> bool {
        self.users.get(username).is_some_and(|u| u.perms.system.contains("ADMINISTER"))
    }

    pub fn may_read_connection(&self, username: &str, id: &str) -> bool {
        self.is_admin(username)
            || self.users.get(username).and_then(|u| u.perms.connection.get(id)).is_some_and(|s| s.contains("READ"))
    }

    /// Deletes a group with everything below it (the database cascades).
    pub fn delete_group(&mut self, id: &str) {
        let children: Vec<String> =
            self.groups.iter().filter(|(_, g)| g.parent == id).map(|(gid, _)| gid.clone()).collect();
        for child in children {
            self.delete_group(&child);
        }
        let connections: Vec<String> =
            self.connections.iter().filter(|(_, c)| c.parent == id).map(|(cid, _)| cid.clone()).collect();
        for connection in connections {
            self.delete_connection(&connection);
        }
        self.groups.remove(id);
        for user in self.users.values_mut() {
            user.perms.connection_group.remove(id);
        }
    }

    pub fn delete_connection(&mut self, id: &str) {
        self.connections.remove(id);
        for user in self.users.values_mut() {
            user.perms.connection.remove(id);
        }
    }

    pub fn forget_expired_json(&mut self) {
        let now = now_ms();
        self.used_json.retain(|_, expires| *expires >= now);
    }
}
