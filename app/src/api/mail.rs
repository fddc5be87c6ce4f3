//! E-mail: templates, the sent log, test sends, and the password links
//! mails carry (set-password and forgot-password are for anonymous callers).

use domain::mail::{MailTemplateView, RenderedMail, SentMailView};
use domain::page::Page;
use leptos::prelude::*;

use crate::error::ApiResult;

#[server]
pub async fn list_mail_templates() -> ApiResult<Vec<MailTemplateView>> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.list_mail_templates(&actor).await?)
}

/// The template and its preview with sample values.
#[server]
pub async fn get_mail_template(id: i64) -> ApiResult<(MailTemplateView, RenderedMail)> {
    use super::context;
    let actor = context::actor().await?;
    let services = &context::state()?.services;
    let template = services.get_mail_template(&actor, id).await?;
    let form = services::mail::TemplateForm {
        name: template.name.clone(),
        slug: template.slug.clone().unwrap_or_default(),
        language: template.language.code().to_string(),
        subject: template.subject.clone(),
        html: template.html.clone(),
        text: template.text.clone(),
        reply_to: template.reply_to.clone(),
    };
    let preview = services.preview_mail_template(&actor, form).await?;
    Ok((template, preview))
}

/// Creates (no `id`) or updates a template, then shows it with its preview.
#[allow(clippy::too_many_arguments)]
#[server]
pub async fn save_mail_template(
    id: Option<i64>,
    name: String,
    slug: String,
    language: String,
    subject: String,
    html: String,
    text: String,
    reply_to: String,
) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let form = services::mail::TemplateForm { name, slug, language, subject, html, text, reply_to };
    let saved = context::state()?.services.save_mail_template(&actor, id, form).await?;
    let flash = if id.is_some() { super::flash::SAVED } else { super::flash::CREATED };
    context::redirect_with_flash(&format!("/admin/mail/templates/{saved}"), flash);
    Ok(())
}

#[server]
pub async fn delete_mail_template(id: i64) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.delete_mail_template(&actor, id).await?;
    context::redirect_with_flash("/admin/mail/templates", super::flash::DELETED);
    Ok(())
}

/// Queues the template, with sample values, to the caller.
#[server]
pub async fn send_template_test(id: i64) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.send_template_test(&actor, id).await?;
    context::redirect_with_flash("/admin/mail/sent", super::flash::QUEUED);
    Ok(())
}

/// Where mail goes (`host:port (security)`, empty when unset).
#[server]
pub async fn mail_server() -> ApiResult<String> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.mail_server(&actor)?)
}

/// Sends a test mail to the caller now; a failure shows the server's answer.
#[server]
pub async fn send_test_mail() -> ApiResult<String> {
    use super::context;
    let actor = context::actor().await?;
    let answer = context::state()?.services.send_test_mail(&actor).await?;
    context::redirect_with_flash("/admin/mail/sent", super::flash::TEST_MAIL_SENT);
    Ok(answer)
}

#[server]
pub async fn list_sent_mails(
    status: Option<String>,
    recipient: Option<String>,
    subject: Option<String>,
    template: Option<i64>,
    page: Option<u32>,
) -> ApiResult<Page<SentMailView>> {
    use super::context;
    let actor = context::actor().await?;
    let filter = services::mail::ports::SentMailFilter {
        status: status.as_deref().and_then(domain::mail::MailStatus::from_key),
        recipient,
        subject,
        template_id: template,
    };
    let page = domain::page::PageRequest::new(page, Some(25));
    Ok(context::state()?.services.list_sent_mails(&actor, filter, page).await?)
}

#[server]
pub async fn get_sent_mail(id: i64) -> ApiResult<SentMailView> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.get_sent_mail(&actor, id).await?)
}

#[server]
pub async fn resend_mail(id: i64) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.resend_mail(&actor, id).await?;
    context::redirect_with_flash(&format!("/admin/mail/sent/{id}"), super::flash::QUEUED);
    Ok(())
}

/// "Forgot password": always answers the same (it does not reveal accounts).
#[server]
pub async fn request_password_reset(username: String) -> ApiResult<()> {
    use super::context;
    context::state()?.services.request_password_reset(&username, &context::origin()).await?;
    context::redirect_with_flash("/login", super::flash::RESET_SENT);
    Ok(())
}

/// Sets a password through the link of an invitation or reset mail.
#[server]
pub async fn set_password_with_token(token: String, password: String, confirm_password: String) -> ApiResult<()> {
    use super::context;
    if password != confirm_password {
        return Err(domain::AppError::conflict("passwords_differ").into());
    }
    context::state()?.services.set_password_with_token(&token, &password, &context::origin()).await?;
    context::redirect_with_flash("/login", super::flash::PASSWORD_CHANGED);
    Ok(())
}
