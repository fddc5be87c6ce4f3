//! Pagination shared by every list.

use serde::{Deserialize, Serialize};

pub const DEFAULT_PER_PAGE: u32 = 25;
pub const MAX_PER_PAGE: u32 = 200;

/// A requested page; constructed through [`PageRequest::new`] so it is always in range.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    page: u32,
    per_page: u32,
}

impl PageRequest {
    /// Pages are numbered from 1; out-of-range input is clamped, not refused,
    /// because it comes from URLs people edit by hand.
    pub fn new(page: Option<u32>, per_page: Option<u32>) -> PageRequest {
        PageRequest {
            page: page.unwrap_or(1).max(1),
            per_page: per_page.unwrap_or(DEFAULT_PER_PAGE).clamp(1, MAX_PER_PAGE),
        }
    }

    pub fn page(self) -> u32 {
        self.page
    }

    pub fn per_page(self) -> u32 {
        self.per_page
    }

    pub fn offset(self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.per_page)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

impl<T> Page<T> {
    pub fn page_count(&self) -> u32 {
        let per_page = u64::from(self.per_page.max(1));
        u32::try_from(self.total.div_ceil(per_page)).unwrap_or(u32::MAX).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_and_computes_offsets() {
        let r = PageRequest::new(Some(0), Some(10_000));
        assert_eq!((r.page(), r.per_page(), r.offset()), (1, MAX_PER_PAGE, 0));
        let r = PageRequest::new(Some(3), Some(10));
        assert_eq!(r.offset(), 20);
        let p: Page<()> = Page { items: vec![], total: 21, page: 1, per_page: 10 };
        assert_eq!(p.page_count(), 3);
        let empty: Page<()> = Page { items: vec![], total: 0, page: 1, per_page: 10 };
        assert_eq!(empty.page_count(), 1);
    }
}
