//! Renders mail templates. Placeholders are written as in the original
//! product, `{user.name}`; minijinja parses them (custom syntax: `{ }` for
//! values, `{% %}` for blocks such as `{% if event.end %}`), escapes values
//! in the HTML body and leaves subject and plain text unescaped. Unknown
//! placeholders render empty, so an edited template never fails at send time
//! for a missing value; syntax errors are refused when the template is saved.

use domain::mail::RenderedMail;
use minijinja::syntax::SyntaxConfig;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde_json::Value;

/// A template that does not parse; the message names the part and line.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{part}: {message}")]
pub struct TemplateError {
    /// `subject`, `html` or `text`.
    pub part: &'static str,
    pub message: String,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    let syntax = SyntaxConfig::builder()
        .block_delimiters("{%", "%}")
        .variable_delimiters("{", "}")
        .comment_delimiters("{#", "#}")
        .build();
    // The delimiters above are constants that minijinja accepts; a failure
    // here would be a programming error caught by every test.
    if let Ok(syntax) = syntax {
        env.set_syntax(syntax);
    }
    // Chainable: `{event.name}` renders empty when a mail has no event.
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_auto_escape_callback(|name| if name == "html" { AutoEscape::Html } else { AutoEscape::None });
    env
}

fn one(env: &Environment<'_>, part: &'static str, source: &str, context: &Value) -> Result<String, TemplateError> {
    let error = |e: minijinja::Error| TemplateError { part, message: e.to_string() };
    let template = env.template_from_named_str(part, source).map_err(error)?;
    template.render(context).map_err(error)
}

/// Renders all three parts with `context` (a JSON object such as
/// `{"user": {"name": "Ada"}, "link": "https://..."}`).
pub fn render(subject: &str, html: &str, text: &str, context: &Value) -> Result<RenderedMail, TemplateError> {
    let env = environment();
    Ok(RenderedMail {
        // A subject is one line: a value with a line break must not add headers.
        subject: one(&env, "subject", subject, context)?.replace(['\r', '\n'], " "),
        html: one(&env, "html", html, context)?,
        text: one(&env, "text", text, context)?,
    })
}

/// Checks that the three parts parse (on save).
pub fn check(subject: &str, html: &str, text: &str) -> Result<(), TemplateError> {
    render(subject, html, text, &Value::Object(Default::default())).map(|_| ())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn placeholders_in_braces_are_filled_and_escaped_only_in_html() {
        let context = json!({"user": {"name": "Ada <admin> & Co"}, "event": {"name": "Lab 1"}});
        let out = render(
            "Hello {user.name}",
            "<p>Hi {user.name}, welcome to <b>{event.name}</b>{% if event.end %} until {event.end}{% endif %}.</p>",
            "Hi {user.name}, welcome to {event.name}.",
            &context,
        )
        .unwrap();
        assert_eq!(out.subject, "Hello Ada <admin> & Co");
        assert_eq!(out.html, "<p>Hi Ada &lt;admin&gt; &amp; Co, welcome to <b>Lab 1</b>.</p>");
        assert_eq!(out.text, "Hi Ada <admin> & Co, welcome to Lab 1.");
    }

    #[test]
    fn unknown_placeholders_render_empty_and_syntax_errors_name_the_part() {
        let out = render("{nothing.here}x{user.name}", "", "", &json!({"user": {}})).unwrap();
        assert_eq!(out.subject, "x");
        let error = check("ok", "<p>{% if user.name %}unclosed</p>", "").unwrap_err();
        assert_eq!(error.part, "html");
    }

    #[test]
    fn a_line_break_in_a_value_does_not_reach_the_subject() {
        let out = render("Hi {user.name}", "", "", &json!({"user": {"name": "a\r\nBcc: x@y"}})).unwrap();
        assert_eq!(out.subject, "Hi a  Bcc: x@y");
    }
}
