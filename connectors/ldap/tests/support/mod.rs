//! The slapd harness lives in the crate (`ldap_connector::testing`, feature `testing`) so
//! that the product's tests (`server/tests`) use the same directory.

pub use ldap_connector::testing::*;
