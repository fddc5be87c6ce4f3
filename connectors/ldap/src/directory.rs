//! Signing in against the directory, and looking users up for the admin "Test" action.
//!
//! Connections are pooled: a few idle ones are kept, which saves the TCP and TLS
//! set-up when a class signs in at once. A connection serves one call at a time, and
//! every call begins with a bind (the service account, anonymous, or the user), so an
//! identity never carries over from one user's sign-in to the next. A pooled
//! connection the server has closed meanwhile is replaced by a new one and the call
//! tried once more; a connection that failed in any other way is not kept. Every step
//! has a time limit (`LDAP_TIMEOUT_SECS`): connecting (TCP, TLS, StartTLS) and each
//! operation.

use std::sync::{Arc, Mutex};

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapResult, Scope, SearchEntry, SearchOptions};
use rustls::ClientConfig;

use crate::config::{GroupSource, LdapConfig, TlsVerification, UserLocator, vars};
use crate::error::{LdapError, describe, rc};
use crate::escape;
use crate::tls;
use crate::user::{DirectoryGroup, DirectoryUser, Entry, first_rdn_value};

const SUCCESS: u32 = 0;
const SIZE_LIMIT_EXCEEDED: u32 = 4;

/// Idle connections kept for the next call.
const IDLE_CONNECTIONS: usize = 4;

/// A configured directory with its idle connections. Share it (`Arc`) between requests.
pub struct LdapDirectory {
    config: LdapConfig,
    /// Built once, so an unusable `LDAP_CA_FILE` is reported at start, not at first sign-in.
    tls: Option<Arc<ClientConfig>>,
    idle: Mutex<Vec<Ldap>>,
}

impl std::fmt::Debug for LdapDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LdapDirectory").field("config", &self.config).finish_non_exhaustive()
    }
}

/// Where a call's connection came from.
enum Source {
    Pool,
    New,
}

impl LdapDirectory {
    /// Checks the TLS settings; does not connect (the directory may be down at start).
    pub fn new(config: LdapConfig) -> Result<LdapDirectory, LdapError> {
        let uses_tls = config.starttls || config.url.scheme() == "ldaps";
        let tls = if uses_tls { Some(tls::client_config(&config.tls)?) } else { None };
        if uses_tls && config.tls == TlsVerification::SkipVerify {
            tracing::warn!(
                url = %config.url,
                "{}=true: the LDAP server certificate is NOT verified; passwords can be intercepted",
                vars::SKIP_VERIFY
            );
        }
        let loopback = match config.url.host() {
            Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        if !uses_tls && !loopback {
            tracing::warn!(
                url = %config.url,
                "LDAP without TLS: passwords cross the network in clear text; use ldaps:// or {}=true",
                vars::STARTTLS
            );
        }
        Ok(LdapDirectory { config, tls, idle: Mutex::new(Vec::new()) })
    }

    pub fn config(&self) -> &LdapConfig {
        &self.config
    }

    /// How many connections wait for the next call.
    pub fn idle_connections(&self) -> usize {
        self.idle.lock().map(|idle| idle.len()).unwrap_or(0)
    }

    /// Checks a username and password against the directory and returns the user with
    /// their groups. Wrong password and unknown user give the same
    /// [`LdapError::InvalidCredentials`]; an empty password is refused without asking the
    /// server, because LDAP treats a bind with an empty password as an anonymous bind
    /// that "succeeds" (RFC 4513 §5.1.2).
    ///
    /// The password is checked before the account's disabled flag is looked at, so only
    /// someone who knows the password learns that the account is disabled.
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<DirectoryUser, LdapError> {
        if username.trim().is_empty() || password.is_empty() {
            return Err(LdapError::InvalidCredentials);
        }
        let (mut ldap, source) = self.checkout().await?;
        let mut outcome = self.authenticate_on(&mut ldap, username, password).await;
        if retry_on_new_connection(&source, &outcome) {
            self.forget_idle();
            ldap = self.connect().await?;
            outcome = self.authenticate_on(&mut ldap, username, password).await;
        }
        self.checkin(ldap, &outcome).await;
        outcome
    }

    /// Finds a user with the service identity (`LDAP_BIND_DN`, or anonymously) without
    /// their password, for the admin "Test" action: `Ok(None)` when no entry matches. A
    /// disabled account is returned with [`DirectoryUser::disabled`] set.
    pub async fn lookup(&self, username: &str) -> Result<Option<DirectoryUser>, LdapError> {
        if username.trim().is_empty() {
            return Ok(None);
        }
        let (mut ldap, source) = self.checkout().await?;
        let mut outcome = self.lookup_on(&mut ldap, username).await;
        if retry_on_new_connection(&source, &outcome) {
            self.forget_idle();
            ldap = self.connect().await?;
            outcome = self.lookup_on(&mut ldap, username).await;
        }
        self.checkin(ldap, &outcome).await;
        outcome
    }

    /// An idle connection, or a new one.
    async fn checkout(&self) -> Result<(Ldap, Source), LdapError> {
        let pooled = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match pooled {
            Some(ldap) => Ok((ldap, Source::Pool)),
            None => Ok((self.connect().await?, Source::New)),
        }
    }

    /// Drops every idle connection: one found dead means the server went away, and
    /// the others went with it.
    fn forget_idle(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }

    /// Keeps the connection for the next call when the directory answered properly
    /// (whatever the answer), and room is left; otherwise closes it.
    async fn checkin<T>(&self, mut ldap: Ldap, outcome: &Result<T, LdapError>) {
        let healthy = matches!(outcome, Ok(_) | Err(LdapError::InvalidCredentials | LdapError::AccountDisabled));
        if healthy
            && let Ok(mut idle) = self.idle.lock()
            && idle.len() < IDLE_CONNECTIONS
        {
            idle.push(ldap);
            return;
        }
        // Best effort: the server drops the connection anyway when the socket closes.
        let _ = ldap.unbind().await;
    }

    async fn authenticate_on(
        &self,
        ldap: &mut Ldap,
        username: &str,
        password: &str,
    ) -> Result<DirectoryUser, LdapError> {
        let entry = match &self.config.locator {
            UserLocator::Search { base, filter } => {
                self.bind_service(ldap).await?;
                let entry =
                    self.search_user(ldap, base, filter, username).await?.ok_or(LdapError::InvalidCredentials)?;
                self.bind_user(ldap, &entry.dn, password).await?;
                // Read groups with the same identity as `lookup` does.
                self.bind_service(ldap).await?;
                entry
            }
            UserLocator::DnTemplate(template) => {
                let dn = escape::fill(template, &[("username", &escape::dn_value(username))]);
                self.bind_user(ldap, &dn, password).await?;
                let entry = self.read_entry(ldap, &dn).await?.ok_or_else(|| {
                    LdapError::Misconfigured(format!(
                        "signed in as {dn} but cannot read that entry: let users read their own entry \
                         (or check {})",
                        vars::USER_DN_TEMPLATE
                    ))
                })?;
                if self.config.service_account.is_some() {
                    self.bind_service(ldap).await?;
                }
                entry
            }
        };
        if entry.is_disabled(self.config.disabled.as_ref()) {
            return Err(LdapError::AccountDisabled);
        }
        let groups = self.groups(ldap, &entry).await?;
        Ok(entry.into_user(&self.config.attributes, username, groups, false))
    }

    async fn lookup_on(&self, ldap: &mut Ldap, username: &str) -> Result<Option<DirectoryUser>, LdapError> {
        self.bind_service(ldap).await?;
        let entry = match &self.config.locator {
            UserLocator::Search { base, filter } => self.search_user(ldap, base, filter, username).await?,
            UserLocator::DnTemplate(template) => {
                let dn = escape::fill(template, &[("username", &escape::dn_value(username))]);
                self.read_entry(ldap, &dn).await?
            }
        };
        let Some(entry) = entry else { return Ok(None) };
        let disabled = entry.is_disabled(self.config.disabled.as_ref());
        let groups = self.groups(ldap, &entry).await?;
        Ok(Some(entry.into_user(&self.config.attributes, username, groups, disabled)))
    }

    async fn connect(&self) -> Result<Ldap, LdapError> {
        let mut settings =
            LdapConnSettings::new().set_conn_timeout(self.config.timeout).set_starttls(self.config.starttls);
        if let Some(tls) = &self.tls {
            settings = settings.set_config(tls.clone());
        }
        let (conn, ldap) = LdapConnAsync::from_url_with_settings(settings, &self.config.url)
            .await
            .map_err(|e| self.transport_error(e))?;
        tokio::spawn(async move {
            if let Err(error) = conn.drive().await {
                tracing::debug!(%error, "LDAP connection ended with an error");
            }
        });
        Ok(ldap)
    }

    fn transport_error(&self, error: ldap3::LdapError) -> LdapError {
        LdapError::from_transport(self.config.url.as_str(), error, self.config.timeout)
    }

    /// Binds as the service account, or anonymously when none is configured.
    async fn bind_service(&self, ldap: &mut Ldap) -> Result<(), LdapError> {
        let (dn, password) = match &self.config.service_account {
            Some(account) => (account.dn.as_str(), account.password.as_str()),
            None => ("", ""),
        };
        let result = ldap.with_timeout(self.config.timeout).simple_bind(dn, password).await;
        let result = result.map_err(|e| self.transport_error(e))?;
        match result.rc {
            SUCCESS => Ok(()),
            rc::BUSY | rc::UNAVAILABLE => Err(self.unavailable(&result)),
            _ if dn.is_empty() => Err(LdapError::Misconfigured(format!(
                "the server refuses anonymous binds ({}): set {} and {} to a service account that may search {}",
                describe(&result),
                vars::BIND_DN,
                vars::BIND_PASSWORD,
                vars::DN_PEOPLE
            ))),
            rc::INVALID_CREDENTIALS => Err(LdapError::Misconfigured(format!(
                "the server rejected the service account {dn} ({}): check {} and {}",
                describe(&result),
                vars::BIND_DN,
                vars::BIND_PASSWORD
            ))),
            _ => Err(LdapError::Misconfigured(format!(
                "binding as the service account {dn} failed ({}): check {}",
                describe(&result),
                vars::BIND_DN
            ))),
        }
    }

    /// Binds as the user; the outcome decides the sign-in.
    async fn bind_user(&self, ldap: &mut Ldap, dn: &str, password: &str) -> Result<(), LdapError> {
        let result = ldap.with_timeout(self.config.timeout).simple_bind(dn, password).await;
        let result = result.map_err(|e| self.transport_error(e))?;
        match result.rc {
            SUCCESS => Ok(()),
            // Active Directory says why in the diagnostic text: 533 disabled, 775 locked.
            rc::INVALID_CREDENTIALS if ["data 533", "data 775"].iter().any(|code| result.text.contains(code)) => {
                Err(LdapError::AccountDisabled)
            }
            rc::INVALID_CREDENTIALS | rc::INAPPROPRIATE_AUTH => Err(LdapError::InvalidCredentials),
            rc::INVALID_DN_SYNTAX => Err(LdapError::Misconfigured(format!(
                "the user DN {dn} is not a valid DN ({}): check {}",
                describe(&result),
                vars::USER_DN_TEMPLATE
            ))),
            rc::BUSY | rc::UNAVAILABLE => Err(self.unavailable(&result)),
            _ => Err(LdapError::Protocol(format!("bind as {dn} failed: {}", describe(&result)))),
        }
    }

    fn unavailable(&self, result: &LdapResult) -> LdapError {
        LdapError::Unreachable { url: self.config.url.to_string(), message: describe(result) }
    }

    /// The attributes read from a user's entry.
    fn user_attributes(&self) -> Vec<&str> {
        let a = &self.config.attributes;
        let mut attrs = vec![a.username.as_str(), &a.mail, &a.given_name, &a.surname, &a.display_name];
        if let GroupSource::MemberOfAttribute(attr) = &self.config.groups {
            attrs.push(attr);
        }
        if let Some(rule) = &self.config.disabled {
            attrs.push(&rule.attribute);
        }
        attrs
    }

    async fn search_user(
        &self,
        ldap: &mut Ldap,
        base: &str,
        template: &str,
        username: &str,
    ) -> Result<Option<Entry>, LdapError> {
        let filter = escape::fill(
            template,
            &[("attr", &self.config.attributes.username), ("username", &escape::filter_value(username))],
        );
        // Two are enough to notice an ambiguous filter without reading the whole directory.
        let outcome = ldap
            .with_search_options(SearchOptions::new().sizelimit(2))
            .with_timeout(self.config.timeout)
            .search(base, Scope::Subtree, &filter, self.user_attributes())
            .await;
        let (entries, result) = match outcome {
            Ok(search) => (search.0, search.1),
            Err(ldap3::LdapError::FilterParsing) => {
                return Err(LdapError::Misconfigured(format!("{} is not a valid LDAP filter", vars::USER_FILTER)));
            }
            Err(e) => return Err(self.transport_error(e)),
        };
        match result.rc {
            SUCCESS => {}
            SIZE_LIMIT_EXCEEDED => return Err(ambiguous()),
            code => return Err(self.search_failed(code, &result, vars::DN_PEOPLE, base)),
        }
        let mut entries = entries.into_iter().map(|e| Entry::new(SearchEntry::construct(e)));
        match (entries.next(), entries.next()) {
            (None, _) => Ok(None),
            (Some(entry), None) => Ok(Some(entry)),
            (Some(_), Some(_)) => Err(ambiguous()),
        }
    }

    /// The entry at exactly this DN, or `None` when there is none.
    async fn read_entry(&self, ldap: &mut Ldap, dn: &str) -> Result<Option<Entry>, LdapError> {
        let outcome = ldap
            .with_timeout(self.config.timeout)
            .search(dn, Scope::Base, "(objectClass=*)", self.user_attributes())
            .await
            .map_err(|e| self.transport_error(e))?;
        match outcome.1.rc {
            SUCCESS => Ok(outcome.0.into_iter().next().map(|e| Entry::new(SearchEntry::construct(e)))),
            rc::NO_SUCH_OBJECT => Ok(None),
            code => Err(self.search_failed(code, &outcome.1, vars::USER_DN_TEMPLATE, dn)),
        }
    }

    async fn groups(&self, ldap: &mut Ldap, entry: &Entry) -> Result<Vec<DirectoryGroup>, LdapError> {
        match &self.config.groups {
            GroupSource::MemberOfAttribute(attr) => {
                Ok(entry.values(attr).iter().map(|dn| DirectoryGroup::from_dn(dn.clone())).collect())
            }
            GroupSource::Search { base, filter } => {
                let username = entry.first(&self.config.attributes.username).unwrap_or_default();
                let filter = escape::fill(
                    filter,
                    &[("dn", &escape::filter_value(&entry.dn)), ("username", &escape::filter_value(&username))],
                );
                let outcome =
                    ldap.with_timeout(self.config.timeout).search(base, Scope::Subtree, &filter, ["cn"]).await;
                let (entries, result) = match outcome {
                    Ok(search) => (search.0, search.1),
                    Err(ldap3::LdapError::FilterParsing) => {
                        return Err(LdapError::Misconfigured(format!(
                            "{} is not a valid LDAP filter",
                            vars::GROUP_FILTER
                        )));
                    }
                    Err(e) => return Err(self.transport_error(e)),
                };
                if result.rc != SUCCESS {
                    return Err(self.search_failed(result.rc, &result, vars::GROUP_BASE, base));
                }
                let mut groups: Vec<DirectoryGroup> = entries
                    .into_iter()
                    .map(|e| {
                        let group = Entry::new(SearchEntry::construct(e));
                        let name = group.first("cn").unwrap_or_else(|| first_rdn_value(&group.dn));
                        DirectoryGroup { dn: group.dn, name }
                    })
                    .collect();
                groups.sort_by(|a, b| a.dn.cmp(&b.dn));
                Ok(groups)
            }
        }
    }

    fn search_failed(&self, code: u32, result: &LdapResult, var: &'static str, base: &str) -> LdapError {
        match code {
            rc::NO_SUCH_OBJECT | rc::INVALID_DN_SYNTAX => {
                LdapError::Misconfigured(format!("{var}: {base} does not exist on the server ({})", describe(result)))
            }
            rc::INSUFFICIENT_ACCESS => LdapError::Misconfigured(format!(
                "the service identity may not search {base} ({}): grant it read access or set {}",
                describe(result),
                vars::BIND_DN
            )),
            rc::BUSY | rc::UNAVAILABLE => self.unavailable(result),
            _ => LdapError::Protocol(format!("search in {base} failed: {}", describe(result))),
        }
    }
}

fn ambiguous() -> LdapError {
    LdapError::Misconfigured(format!(
        "more than one entry matches one username: make {} / {} select a unique attribute",
        vars::ATTR_USER,
        vars::USER_FILTER
    ))
}

/// A pooled connection that fails to carry the call was most likely closed by the
/// server while idle (restart, idle timeout): the call deserves one more try.
fn retry_on_new_connection<T>(source: &Source, outcome: &Result<T, LdapError>) -> bool {
    matches!(source, Source::Pool) && matches!(outcome, Err(LdapError::Unreachable { .. }))
}
