//! Terms of use that users must accept before they use OpenVLE.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyView {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// Markdown, rendered as plain paragraphs.
    pub content: String,
    pub active: bool,
    pub accepted_count: u64,
}
