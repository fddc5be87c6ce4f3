//! The provider harness lives in the crate (`oidc_connector::testing`, feature `testing`)
//! so that the product's HTTP tests use the same provider.

pub use oidc_connector::testing::*;
