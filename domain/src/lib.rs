//! The vocabulary of OpenVLE, shared by the server and the browser bundle.
//!
//! Nothing here does I/O, so it compiles to wasm and every rule in it can be
//! unit-tested without a database.

pub mod access;
pub mod activity;
pub mod catalogue;
pub mod classroom;
pub mod cluster;
pub mod dashboard;
pub mod error;
pub mod guacamole;
pub mod health;
pub mod mail;
pub mod page;
pub mod policy;
pub mod reconcile;
pub mod redirect;
pub mod secret;
pub mod settings;
pub mod sign_in;
pub mod task;
pub mod time;
pub mod user;
pub mod validate;
pub mod zone;

pub use access::{AccessLevel, Action, Actor, Grant, ObjectType, Target, can};
pub use error::{AppError, Field};
pub use secret::SecretText;
pub use user::{AuthBackend, Language, UserStatus};
