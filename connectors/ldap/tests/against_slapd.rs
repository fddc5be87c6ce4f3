//! The connector against a real OpenLDAP server (see `support`): sign-in outcomes, group
//! sources, filter injection, TLS modes and failures, an unreachable directory and
//! misconfiguration messages.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ldap_connector::{DirectoryUser, LdapConfig, LdapDirectory, LdapError, vars};
use support::{GROUPS, PEOPLE, READER_DN, READER_PW, Slapd};

/// Settings for `url` with the service account and the seed's disabled marker; `extra`
/// overrides (an empty value unsets).
fn config(url: &str, extra: &[(&str, &str)]) -> LdapConfig {
    let mut vars: HashMap<&str, String> = HashMap::from([
        (vars::ENABLED, "True".to_string()),
        (vars::URL, url.to_string()),
        (vars::DN_PEOPLE, PEOPLE.to_string()),
        (vars::BIND_DN, READER_DN.to_string()),
        (vars::BIND_PASSWORD, READER_PW.to_string()),
        (vars::ATTR_DISABLED, "employeeType".to_string()),
        (vars::DISABLED_VALUE, "disabled".to_string()),
        (vars::TIMEOUT_SECS, "5".to_string()),
    ]);
    for (key, value) in extra {
        vars.insert(key, value.to_string());
    }
    LdapConfig::from_lookup(|var| vars.get(var).cloned()).unwrap().unwrap()
}

fn directory(url: &str, extra: &[(&str, &str)]) -> LdapDirectory {
    LdapDirectory::new(config(url, extra)).unwrap()
}

fn group_names(user: &DirectoryUser) -> Vec<&str> {
    let mut names: Vec<&str> = user.groups.iter().map(|g| g.name.as_str()).collect();
    names.sort();
    names
}

fn assert_invalid(outcome: Result<DirectoryUser, LdapError>, what: &str) {
    match outcome {
        Err(LdapError::InvalidCredentials) => {}
        other => panic!("{what}: expected InvalidCredentials, got {other:?}"),
    }
}

#[tokio::test]
async fn good_login_maps_attributes_and_member_of_groups() {
    let slapd = Slapd::start().await;
    let dir = directory(&slapd.ldap_url(), &[]);
    let alice = dir.authenticate("alice", "alicepw").await.unwrap();
    assert_eq!(alice.dn, format!("uid=alice,{PEOPLE}"));
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.email.as_deref(), Some("alice@example.org"));
    assert_eq!(alice.given_name.as_deref(), Some("Alice"));
    assert_eq!(alice.surname.as_deref(), Some("Example"));
    assert_eq!(alice.display_name.as_deref(), Some("Alice Example"));
    assert!(!alice.disabled);
    assert_eq!(group_names(&alice), ["admins", "teachers"]);
    assert!(alice.groups.iter().any(|g| g.dn.eq_ignore_ascii_case(&format!("cn=admins,{GROUPS}"))), "{alice:?}");

    // uid matching is case-insensitive in the directory; the stored spelling comes back.
    let again = dir.authenticate("ALICE", "alicepw").await.unwrap();
    assert_eq!(again.username, "alice");

    let bob = dir.authenticate("bob", "bobpw").await.unwrap();
    assert_eq!(group_names(&bob), ["students"]);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    let slapd = Slapd::start().await;
    let dir = directory(&slapd.ldap_url(), &[]);
    let wrong = dir.authenticate("alice", "bobpw").await.unwrap_err();
    let unknown = dir.authenticate("mallory", "alicepw").await.unwrap_err();
    assert!(matches!(wrong, LdapError::InvalidCredentials), "{wrong:?}");
    assert!(matches!(unknown, LdapError::InvalidCredentials), "{unknown:?}");
    assert_eq!(wrong.to_string(), unknown.to_string());
}

#[tokio::test]
async fn empty_password_is_refused_without_asking_the_server() {
    let slapd = Slapd::start().await;
    let dir = directory(&slapd.ldap_url(), &[]);
    assert_invalid(dir.authenticate("alice", "").await, "empty password");
    assert_invalid(dir.authenticate("", "alicepw").await, "empty username");
    // Even with no server at all: nothing is sent, so the answer cannot be "unreachable".
    let nowhere = directory(&format!("ldap://127.0.0.1:{}", support::free_port()), &[]);
    assert_invalid(nowhere.authenticate("alice", "").await, "empty password, no server");
}

#[tokio::test]
async fn disabled_account_is_refused_only_with_the_right_password() {
    let slapd = Slapd::start().await;
    let dir = directory(&slapd.ldap_url(), &[]);
    let err = dir.authenticate("carol", "carolpw").await.unwrap_err();
    assert!(matches!(err, LdapError::AccountDisabled), "{err:?}");
    assert_invalid(dir.authenticate("carol", "wrong").await, "disabled account, wrong password");
    let carol = dir.lookup("carol").await.unwrap().unwrap();
    assert!(carol.disabled);
    // Without the rule the same account signs in.
    let lenient = directory(&slapd.ldap_url(), &[(vars::ATTR_DISABLED, ""), (vars::DISABLED_VALUE, "")]);
    assert!(!lenient.authenticate("carol", "carolpw").await.unwrap().disabled);
}

#[tokio::test]
async fn groups_from_a_group_search() {
    let slapd = Slapd::start().await;
    let dir = directory(&slapd.ldap_url(), &[(vars::GROUP_BASE, GROUPS)]);
    let alice = dir.authenticate("alice", "alicepw").await.unwrap();
    let dns: Vec<&str> = alice.groups.iter().map(|g| g.dn.as_str()).collect();
    assert_eq!(dns, [format!("cn=admins,{GROUPS}"), format!("cn=teachers,{GROUPS}")]);
    assert_eq!(group_names(&alice), ["admins", "teachers"]);
    let bob = dir.lookup("bob").await.unwrap().unwrap();
    assert_eq!(group_names(&bob), ["students"]);
    let john = dir.authenticate("jo,hn", "johnpw").await.unwrap();
    assert!(john.groups.is_empty(), "{john:?}");

    let custom = directory(
        &slapd.ldap_url(),
        &[(vars::GROUP_BASE, GROUPS), (vars::GROUP_FILTER, "(&(objectClass=groupOfNames)(member={dn})(cn=t*))")],
    );
    assert_eq!(group_names(&custom.authenticate("alice", "alicepw").await.unwrap()), ["teachers"]);
}

#[tokio::test]
async fn filter_metacharacters_in_the_username_match_nobody() {
    let slapd = Slapd::start().await;
    let dir = directory(&slapd.ldap_url(), &[]);
    // Unescaped, "al*" alone would select alice and her password would then succeed.
    let attempts =
        ["al*", "*", "*)(uid=*", "alice)(|(uid=*", "*)(|(objectClass=*", "alice)", "(uid=alice)", "alice\\", "a\0"];
    for username in attempts {
        assert_invalid(dir.authenticate(username, "alicepw").await, username);
        assert_eq!(dir.lookup(username).await.unwrap(), None, "lookup({username:?})");
    }
    // The same in the group filter: the DN and username are escaped there too.
    let grouped = directory(&slapd.ldap_url(), &[(vars::GROUP_BASE, GROUPS)]);
    assert_invalid(grouped.authenticate("*", "alicepw").await, "* with group search");
}

#[tokio::test]
async fn direct_bind_with_a_dn_template_escapes_the_username() {
    let slapd = Slapd::start().await;
    let template = format!("uid={{username}},{PEOPLE}");
    let dir = directory(
        &slapd.ldap_url(),
        &[(vars::USER_DN_TEMPLATE, &template), (vars::BIND_DN, ""), (vars::BIND_PASSWORD, ""), (vars::DN_PEOPLE, "")],
    );
    let alice = dir.authenticate("alice", "alicepw").await.unwrap();
    assert_eq!(group_names(&alice), ["admins", "teachers"]);
    // "jo,hn" only works if the comma is escaped per RFC 4514.
    let john = dir.authenticate("jo,hn", "johnpw").await.unwrap();
    assert_eq!(john.username, "jo,hn");
    assert_eq!(john.email, None);
    assert_invalid(dir.authenticate("alice", "wrong").await, "wrong password");
    assert_invalid(dir.authenticate("nobody", "alicepw").await, "unknown user");
    assert_invalid(dir.authenticate(&format!("alice,{PEOPLE}"), "alicepw").await, "DN injection");
    assert_eq!(dir.lookup("bob").await.unwrap().unwrap().dn, format!("uid=bob,{PEOPLE}"));
    assert_eq!(dir.lookup("nobody").await.unwrap(), None);
    let err = dir.authenticate("carol", "carolpw").await.unwrap_err();
    assert!(matches!(err, LdapError::AccountDisabled), "{err:?}");
}

#[tokio::test]
async fn anonymous_search_without_a_service_account() {
    let slapd = Slapd::start().await;
    let dir = directory(&slapd.ldap_url(), &[(vars::BIND_DN, ""), (vars::BIND_PASSWORD, "")]);
    assert_eq!(dir.authenticate("bob", "bobpw").await.unwrap().username, "bob");
    assert_invalid(dir.authenticate("bob", "alicepw").await, "wrong password");
}

#[tokio::test]
async fn starttls_and_ldaps_with_the_ca_file() {
    let slapd = Slapd::start().await;
    let ca = slapd.ca_file();
    let ca = ca.to_str().unwrap();
    let starttls = directory(&slapd.ldap_url(), &[(vars::STARTTLS, "True"), (vars::CA_FILE, ca)]);
    assert_eq!(starttls.authenticate("alice", "alicepw").await.unwrap().username, "alice");
    let ldaps = directory(&slapd.ldaps_url(), &[(vars::CA_FILE, ca)]);
    assert_eq!(ldaps.authenticate("bob", "bobpw").await.unwrap().username, "bob");
    assert_invalid(ldaps.authenticate("bob", "alicepw").await, "wrong password over LDAPS");
    let localhost = directory(&format!("ldaps://localhost:{}", slapd.ldaps_port), &[(vars::CA_FILE, ca)]);
    assert!(localhost.lookup("alice").await.unwrap().is_some());
}

#[tokio::test]
async fn untrusted_certificate_fails_with_a_hint_unless_skip_verify() {
    let slapd = Slapd::start().await;
    for dir in [directory(&slapd.ldaps_url(), &[]), directory(&slapd.ldap_url(), &[(vars::STARTTLS, "True")])] {
        match dir.authenticate("alice", "alicepw").await {
            Err(LdapError::TlsFailure { hint, .. }) => assert!(hint.contains(vars::CA_FILE), "{hint}"),
            other => panic!("expected TlsFailure, got {other:?}"),
        }
    }
    let skip = directory(&slapd.ldaps_url(), &[(vars::SKIP_VERIFY, "True")]);
    assert_eq!(skip.authenticate("alice", "alicepw").await.unwrap().username, "alice");
}

#[tokio::test]
async fn certificate_for_another_host_fails_with_a_host_hint() {
    let slapd = Slapd::start_with_cert_names("DNS:ldap.example.org").await;
    let ca = slapd.ca_file();
    let dir = directory(&slapd.ldaps_url(), &[(vars::CA_FILE, ca.to_str().unwrap())]);
    match dir.authenticate("alice", "alicepw").await {
        Err(LdapError::TlsFailure { hint, .. }) => assert!(hint.contains("host"), "{hint}"),
        other => panic!("expected TlsFailure, got {other:?}"),
    }
}

#[tokio::test]
async fn ldaps_against_the_plain_port_explains_itself() {
    let slapd = Slapd::start().await;
    let ca = slapd.ca_file();
    let dir = directory(&format!("ldaps://127.0.0.1:{}", slapd.ldap_port), &[(vars::CA_FILE, ca.to_str().unwrap())]);
    match dir.authenticate("alice", "alicepw").await {
        Err(LdapError::TlsFailure { hint, .. }) => assert!(hint.contains("LDAPS"), "{hint}"),
        other => panic!("expected TlsFailure, got {other:?}"),
    }
}

#[tokio::test]
async fn self_signed_server_certificate_is_explained() {
    // What `openssl req -x509` makes (and OpenSSL-based ldapsearch accepts): a CA
    // certificate used as the server's own, which rustls rightly refuses.
    let slapd = Slapd::start_self_signed().await;
    let ca = slapd.ca_file();
    let dir = directory(&slapd.ldaps_url(), &[(vars::CA_FILE, ca.to_str().unwrap())]);
    match dir.authenticate("alice", "alicepw").await {
        Err(LdapError::TlsFailure { hint, .. }) => assert!(hint.contains("CA certificate as its own"), "{hint}"),
        other => panic!("expected TlsFailure, got {other:?}"),
    }
}

#[tokio::test]
async fn directory_down_is_unreachable_quickly() {
    let mut slapd = Slapd::start().await;
    let dir = directory(&slapd.ldap_url(), &[]);
    assert!(dir.authenticate("alice", "alicepw").await.is_ok());
    slapd.stop();
    let started = Instant::now();
    let err = dir.authenticate("alice", "alicepw").await.unwrap_err();
    assert!(matches!(err, LdapError::Unreachable { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    let err = dir.lookup("alice").await.unwrap_err();
    assert!(matches!(err, LdapError::Unreachable { .. }), "{err:?}");
}

#[tokio::test]
async fn silent_server_times_out() {
    // Accepts connections and never answers, like a directory behind a dropping firewall.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ldap://{}", listener.local_addr().unwrap());
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let dir = directory(&url, &[(vars::TIMEOUT_SECS, "1")]);
    let started = Instant::now();
    let err = dir.authenticate("alice", "alicepw").await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(&err, LdapError::Unreachable { message, .. } if message.contains("1 s")), "{err:?}");
    assert!(elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(3), "took {elapsed:?}");
    holder.abort();
}

#[tokio::test]
async fn misconfiguration_messages_name_the_setting() {
    let slapd = Slapd::start().await;
    let url = slapd.ldap_url();

    let wrong_secret = directory(&url, &[(vars::BIND_PASSWORD, "not-the-password")]);
    for outcome in [
        wrong_secret.authenticate("alice", "alicepw").await.map(|_| ()),
        wrong_secret.lookup("alice").await.map(|_| ()),
    ] {
        match outcome {
            Err(LdapError::Misconfigured(message)) => {
                assert!(message.contains(vars::BIND_DN) && message.contains(vars::BIND_PASSWORD), "{message}");
                assert!(!message.contains("not-the-password"), "{message}");
            }
            other => panic!("expected Misconfigured, got {other:?}"),
        }
    }

    let wrong_base = directory(&url, &[(vars::DN_PEOPLE, "ou=staff,dc=example,dc=org")]);
    match wrong_base.authenticate("alice", "alicepw").await {
        Err(LdapError::Misconfigured(message)) => assert!(message.contains(vars::DN_PEOPLE), "{message}"),
        other => panic!("expected Misconfigured, got {other:?}"),
    }

    let wrong_group_base = directory(&url, &[(vars::GROUP_BASE, "ou=teams,dc=example,dc=org")]);
    match wrong_group_base.authenticate("alice", "alicepw").await {
        Err(LdapError::Misconfigured(message)) => assert!(message.contains(vars::GROUP_BASE), "{message}"),
        other => panic!("expected Misconfigured, got {other:?}"),
    }

    let ambiguous = directory(&url, &[(vars::USER_FILTER, "(|(uid={username})(objectClass=inetOrgPerson))")]);
    match ambiguous.authenticate("alice", "alicepw").await {
        Err(LdapError::Misconfigured(message)) => assert!(message.contains(vars::USER_FILTER), "{message}"),
        other => panic!("expected Misconfigured, got {other:?}"),
    }

    let broken_filter = directory(&url, &[(vars::USER_FILTER, "(&(uid={username})")]);
    match broken_filter.lookup("alice").await {
        Err(LdapError::Misconfigured(message)) => assert!(message.contains(vars::USER_FILTER), "{message}"),
        other => panic!("expected Misconfigured, got {other:?}"),
    }
}

#[tokio::test]
async fn lookup_returns_the_mapped_user_without_a_password() {
    let slapd = Slapd::start().await;
    let dir = directory(&slapd.ldap_url(), &[]);
    let alice = dir.lookup("alice").await.unwrap().unwrap();
    assert_eq!(alice.display_name.as_deref(), Some("Alice Example"));
    assert_eq!(group_names(&alice), ["admins", "teachers"]);
    assert_eq!(dir.lookup("mallory").await.unwrap(), None);
    assert_eq!(dir.lookup("  ").await.unwrap(), None);
}

#[tokio::test]
async fn connections_are_reused_and_replaced_after_a_directory_restart() {
    let mut slapd = Slapd::start().await;
    let dir = directory(&slapd.ldap_url(), &[]);
    assert_eq!(dir.idle_connections(), 0);
    // One after another, the same connection serves every call, whatever the outcome.
    dir.authenticate("alice", "alicepw").await.unwrap();
    assert_invalid(dir.authenticate("bob", "wrong").await, "wrong password on a pooled connection");
    assert!(dir.lookup("bob").await.unwrap().is_some());
    // A pooled connection starts with a bind of its own: after bob's failed bind the
    // next call still searches as the service account, and alice's groups are hers.
    let alice = dir.authenticate("alice", "alicepw").await.unwrap();
    assert_eq!(group_names(&alice), ["admins", "teachers"]);
    assert_eq!(dir.idle_connections(), 1);

    // Calls at the same time each get a connection; a few are kept afterwards.
    let dir = std::sync::Arc::new(dir);
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let dir = dir.clone();
        calls.spawn(async move { dir.authenticate("bob", "bobpw").await.map(|_| ()) });
    }
    while let Some(outcome) = calls.join_next().await {
        outcome.unwrap().unwrap();
    }
    assert!((1..=4).contains(&dir.idle_connections()), "{}", dir.idle_connections());

    // The directory restarts: the idle connections are dead, the next call opens a new one.
    slapd.restart();
    dir.authenticate("alice", "alicepw").await.unwrap();
    assert_eq!(dir.idle_connections(), 1, "the dead ones are dropped");
    slapd.stop();
    match dir.authenticate("alice", "alicepw").await {
        Err(LdapError::Unreachable { .. }) => {}
        other => panic!("expected Unreachable once the directory is down, got {other:?}"),
    }
    assert_eq!(dir.idle_connections(), 0, "failed connections are not kept");
}
