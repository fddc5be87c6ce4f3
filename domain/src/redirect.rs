//! Where a redirect may lead when the target came from the request (a
//! login's `next`, a form's `back`): only a path on this site. Anything else
//! would make the page an open redirect.

/// `candidate` when it is a path on this site, else `None`.
///
/// Accepted: a single leading `/` followed by printable ASCII. Refused:
/// `//host` and `/\host` (browsers read both as another host; a backslash
/// anywhere is refused, since browsers treat it as a slash), a scheme
/// (`https:`, `javascript:`: no leading slash), control characters, spaces
/// and anything else that is not printable ASCII (browsers drop tabs and line
/// breaks, so `/\t/host` would become `//host`; the value also ends up in a
/// Location header).
pub fn local_path(candidate: &str) -> Option<&str> {
    let rest = candidate.strip_prefix('/')?;
    let safe = !rest.starts_with('/') && !candidate.contains('\\') && candidate.chars().all(|c| c.is_ascii_graphic());
    safe.then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn paths_on_this_site_pass() {
        for ok in ["/", "/admin/users?page=2", "/events/7#vms", "/vms/3?ok=done&x=%2F%2Fa", "/a//b"] {
            assert_eq!(local_path(ok), Some(ok), "{ok}");
        }
    }

    #[test]
    fn everything_that_leaves_the_site_is_refused() {
        for bad in [
            "",
            "evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/x\\..\\..\\evil",
            "/\t/evil.example",
            "/\n/evil.example",
            "/x\r\nSet-Cookie: a=b",
            "/ /evil.example",
            "/\u{0}",
            "/\u{7f}",
            "/évil",
            " /events",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }
}
