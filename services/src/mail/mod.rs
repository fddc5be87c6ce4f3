//! E-mail: templates bound to actions, rendering, the sent log and delivery
//! through the `mails` job queue.

pub mod ports;
pub mod render;
