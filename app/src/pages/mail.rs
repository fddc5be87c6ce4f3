//! E-mail administration: templates (edit, preview with sample values,
//! send a test), the mail server with "send test mail to me", and the sent
//! log with resend; plus the anonymous pages mails link to (set a password,
//! forgot password). Every form is an `ActionForm` or a GET form.

use domain::ObjectType;
use domain::mail::{MailAction, MailStatus, MailTemplateView, RenderedMail, SentMailView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::auth::load_shell;
use crate::api::mail::*;
use crate::components::forms::{
    ActionError, BUTTON_CLASS, DANGER_BUTTON_CLASS, Field, INPUT_CLASS, LINK_CLASS, SECONDARY_BUTTON_CLASS, Submit,
};
use crate::components::layout::{Flash, WithShell};
use crate::components::pager::Pager;
use crate::components::{EmptyState, PageHeader, t, use_lang};
use crate::i18n::{Msg, error_text, mail_action_text, mail_status_text};
use crate::pages::route_id;

fn status_class(status: MailStatus) -> &'static str {
    match status {
        MailStatus::Queued => "bg-slate-100 text-slate-700",
        MailStatus::Sent => "bg-emerald-100 text-emerald-800",
        MailStatus::Failed => "bg-red-100 text-red-800",
    }
}

#[component]
fn MailStatusBadge(status: MailStatus) -> impl IntoView {
    view! {
        <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium {}", status_class(status)) data-status=status.key()>
            {mail_status_text(status, use_lang())}
        </span>
    }
}

/// The HTML body in a sandboxed frame: no scripts, no access to this page.
#[component]
fn HtmlFrame(html: String) -> impl IntoView {
    view! { <iframe sandbox="" srcdoc=html title=t(Msg::HtmlBody) class="h-64 w-full rounded border border-slate-200 bg-white"></iframe> }
}

#[component]
fn MailTabs() -> impl IntoView {
    view! {
        <nav class="mb-4 flex gap-4 text-sm">
            <a class=LINK_CLASS href="/admin/mail/templates">{t(Msg::MailTemplates)}</a>
            <a class=LINK_CLASS href="/admin/mail/sent">{t(Msg::SentMails)}</a>
        </nav>
    }
}

#[component]
pub fn MailTemplatesPage() -> impl IntoView {
    let templates = Resource::new(|| (), |_| list_mail_templates());
    view! {
        <WithShell readers_of=ObjectType::Setting>
        <Title text=t(Msg::MailTemplates)/>
        <PageHeader title=t(Msg::MailTemplates).to_string()>
            <a href="/admin/mail/templates/new" class=BUTTON_CLASS>{t(Msg::NewMailTemplate)}</a>
        </PageHeader>
        <MailTabs/>
        <MailServerSection/>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match templates.await {
                    Ok(list) if list.is_empty() => view! { <EmptyState message=t(Msg::NoMailTemplates)/> }.into_any(),
                    Ok(list) => view! { <TemplateTable templates=list/> }.into_any(),
                    Err(e) => view! { <p role="alert" class="text-red-700">{error_text(&e.0, use_lang())}</p> }.into_any(),
                }
            })}
        </Suspense>
        </WithShell>
    }
}

/// Where mail goes and "Send test mail to me" with the server's answer
/// (shown on the mail templates page and the Settings page).
#[component]
pub fn MailServerSection() -> impl IntoView {
    let test = ServerAction::<SendTestMail>::new();
    let server = Resource::new(|| (), |_| mail_server());
    let pending = Memo::new(move |_| test.pending().get());
    view! {
        <section class="mb-6 rounded-lg bg-white p-4 shadow-sm" data-mail-section="">
            <h2 class="font-semibold">{t(Msg::MailServer)}</h2>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match server.await {
                        Ok(s) if s.is_empty() => view! { <p class="text-sm text-slate-600">{t(Msg::MailServerUnset)}</p> }.into_any(),
                        Ok(s) => view! { <p class="text-sm text-slate-600" data-mail-server="">{s}</p> }.into_any(),
                        Err(e) => view! { <p role="alert" class="text-red-700">{error_text(&e.0, use_lang())}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <ActionError value=test.value()/>
            {move || test.value().get().and_then(Result::ok).map(|answer| view! {
                <p role="status" class="mt-2 text-sm text-emerald-800" data-mail-answer="">
                    {t(Msg::TestMailAnswer)} " " <code>{answer}</code>
                </p>
            })}
            <ActionForm action=test attr:class="mt-2">
                <Submit label=t(Msg::SendTestMail) pending=pending class=SECONDARY_BUTTON_CLASS/>
            </ActionForm>
        </section>
    }
}

#[component]
fn TemplateTable(templates: Vec<MailTemplateView>) -> impl IntoView {
    let lang = use_lang();
    view! {
        <div class="overflow-x-auto rounded-lg bg-white shadow-sm">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-100 text-left text-slate-600">
                    <tr>
                        <th scope="col" class="px-4 py-2">{t(Msg::Name)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::MailAction)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Language)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Subject)}</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {templates.into_iter().map(|m| view! {
                        <tr data-template=m.id>
                            <td class="px-4 py-2"><a class=LINK_CLASS href=format!("/admin/mail/templates/{}", m.id)>{m.name.clone()}</a></td>
                            <td class="px-4 py-2">
                                {match m.slug.as_deref().and_then(MailAction::from_slug) {
                                    Some(action) => view! {
                                        {mail_action_text(action, lang)}
                                        <code class="block text-xs text-slate-500">{action.slug()}</code>
                                    }.into_any(),
                                    None => "—".into_any(),
                                }}
                            </td>
                            <td class="px-4 py-2">{m.language.native_name()}</td>
                            <td class="px-4 py-2">{m.subject.clone()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// One form for new (`template` = `None`) and existing templates.
#[component]
fn TemplateForm(template: Option<MailTemplateView>) -> impl IntoView {
    let save = ServerAction::<SaveMailTemplate>::new();
    let pending = Memo::new(move |_| save.pending().get());
    let m = template.clone();
    let value = move |f: fn(&MailTemplateView) -> String| m.as_ref().map(f).unwrap_or_default();
    let slug = template.as_ref().and_then(|m| m.slug.clone()).unwrap_or_default();
    let language = template.as_ref().map(|m| m.language).unwrap_or_default();
    let lang = use_lang();
    view! {
        <ActionError value=save.value()/>
        <ActionForm action=save attr:class="max-w-3xl rounded-lg bg-white p-6 shadow-sm">
            {template.as_ref().map(|m| view! { <input type="hidden" name="id" value=m.id/> })}
            <Field label=t(Msg::Name) name="name" value=value(|m| m.name.clone()) required=true maxlength=128/>
            <div class="mb-4">
                <label for="field-slug" class="block text-sm font-medium text-slate-700">{t(Msg::MailAction)}</label>
                <select id="field-slug" name="slug" class=INPUT_CLASS>
                    <option value="" selected=slug.is_empty()>{t(Msg::MailNoAction)}</option>
                    {MailAction::ALL.into_iter().map(|a| view! {
                        <option value=a.slug() selected=slug == a.slug()>{format!("{} ({})", mail_action_text(a, lang), a.slug())}</option>
                    }).collect_view()}
                </select>
            </div>
            <crate::components::forms::LanguageSelect selected=language/>
            <Field label=t(Msg::Subject) name="subject" value=value(|m| m.subject.clone()) required=true maxlength=500/>
            <div class="mb-4">
                <label for="field-html" class="block text-sm font-medium text-slate-700">{t(Msg::HtmlBody)}</label>
                <textarea id="field-html" name="html" rows="8" class=INPUT_CLASS>{value(|m| m.html.clone())}</textarea>
            </div>
            <div class="mb-4">
                <label for="field-text" class="block text-sm font-medium text-slate-700">{t(Msg::TextBody)}</label>
                <textarea id="field-text" name="text" rows="8" class=INPUT_CLASS>{value(|m| m.text.clone())}</textarea>
                <p class="mt-1 text-xs text-slate-500">{t(Msg::Placeholders)}</p>
            </div>
            <Field label=t(Msg::ReplyTo) name="reply_to" kind="email" value=value(|m| m.reply_to.clone()) maxlength=254/>
            <Submit label=if template.is_some() { t(Msg::Save) } else { t(Msg::Create) } pending=pending/>
        </ActionForm>
    }
}

#[component]
pub fn NewMailTemplatePage() -> impl IntoView {
    view! {
        <WithShell readers_of=ObjectType::Setting>
            <Title text=t(Msg::NewMailTemplate)/>
            <PageHeader title=t(Msg::NewMailTemplate).to_string()/>
            <MailTabs/>
            <TemplateForm template=None/>
        </WithShell>
    }
}

#[component]
pub fn MailTemplatePage() -> impl IntoView {
    let id = route_id();
    let test = ServerAction::<SendTemplateTest>::new();
    let delete = ServerAction::<DeleteMailTemplate>::new();
    let template = Resource::new(move || id.get(), |id| get_mail_template(id.unwrap_or_default()));
    view! {
        <WithShell>
        <MailTabs/>
        <ActionError value=test.value()/>
        <ActionError value=delete.value()/>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match template.await {
                    Ok((m, preview)) => {
                        let id = m.id;
                        view! {
                            <Title text=m.name.clone()/>
                            <PageHeader title=m.name.clone()>
                                <a class=SECONDARY_BUTTON_CLASS href=format!("/admin/mail/sent?template={id}")>{t(Msg::SentWithTemplate)}</a>
                                <ActionForm action=test>
                                    <input type="hidden" name="id" value=id/>
                                    <button type="submit" class=SECONDARY_BUTTON_CLASS>{t(Msg::SendTest)}</button>
                                </ActionForm>
                            </PageHeader>
                            <div class="grid gap-6 lg:grid-cols-2">
                                <TemplateForm template=Some(m)/>
                                <PreviewPanel preview=preview/>
                            </div>
                            <details class="mt-6 max-w-3xl">
                                <summary class="cursor-pointer text-sm text-red-700">{t(Msg::Delete)}</summary>
                                <ActionForm action=delete attr:class="mt-2">
                                    <input type="hidden" name="id" value=id/>
                                    <p class="mb-2 text-sm">{t(Msg::ConfirmDelete)}</p>
                                    <button type="submit" class=DANGER_BUTTON_CLASS>{t(Msg::Delete)}</button>
                                </ActionForm>
                            </details>
                        }.into_any()
                    }
                    Err(e) => crate::components::page_error_view(&e),
                }
            })}
        </Suspense>
        </WithShell>
    }
}

#[component]
fn PreviewPanel(preview: RenderedMail) -> impl IntoView {
    view! {
        <section class="rounded-lg bg-white p-6 shadow-sm" aria-label=t(Msg::Preview)>
            <h2 class="mb-2 font-semibold">{t(Msg::Preview)}</h2>
            <p class="mb-2 text-sm"><span class="font-medium">{t(Msg::Subject)}": "</span><span data-preview="subject">{preview.subject}</span></p>
            <HtmlFrame html=preview.html/>
            <pre class="mt-2 whitespace-pre-wrap rounded bg-slate-50 p-3 text-xs" data-preview="text">{preview.text}</pre>
        </section>
    }
}

#[component]
pub fn SentMailsPage() -> impl IntoView {
    let query = use_query_map();
    let mails = Resource::new(
        move || {
            query.with(|q| {
                (
                    q.get("status"),
                    q.get("recipient"),
                    q.get("subject"),
                    q.get("template").and_then(|v| v.parse().ok()),
                    q.get("page").and_then(|p| p.parse().ok()),
                )
            })
        },
        |(status, recipient, subject, template, page)| list_sent_mails(status, recipient, subject, template, page),
    );
    let current = move |key: &str| query.with_untracked(|q| q.get(key)).unwrap_or_default();
    view! {
        <WithShell readers_of=ObjectType::Setting>
            <Title text=t(Msg::SentMails)/>
            <PageHeader title=t(Msg::SentMails).to_string()/>
            <MailTabs/>
            <Form method="GET" action="" attr:class="mb-4 flex flex-wrap items-end gap-3">
                <div>
                    <label for="status" class="block text-sm font-medium text-slate-700">{t(Msg::Status)}</label>
                    <select id="status" name="status" class=INPUT_CLASS>
                        <option value="">{t(Msg::Any)}</option>
                        {MailStatus::ALL.into_iter().map(|s| view! {
                            <option value=s.key() selected=current("status") == s.key()>{mail_status_text(s, use_lang())}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="recipient" class="block text-sm font-medium text-slate-700">{t(Msg::Recipient)}</label>
                    <input id="recipient" name="recipient" type="search" value=current("recipient") class=INPUT_CLASS/>
                </div>
                <div>
                    <label for="subject" class="block text-sm font-medium text-slate-700">{t(Msg::Subject)}</label>
                    <input id="subject" name="subject" type="search" value=current("subject") class=INPUT_CLASS/>
                </div>
                <button type="submit" class=SECONDARY_BUTTON_CLASS>{t(Msg::Filter)}</button>
            </Form>
            <Transition fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match mails.await {
                        Ok(page) if page.items.is_empty() => view! { <EmptyState message=t(Msg::NoSentMails)/> }.into_any(),
                        Ok(page) => {
                            let pages = page.page_count();
                            view! {
                                <SentTable mails=page.items/>
                                <Pager page=page.page pages=pages total=page.total base="/admin/mail/sent"/>
                            }.into_any()
                        }
                        Err(e) => view! { <p role="alert" class="text-red-700">{error_text(&e.0, use_lang())}</p> }.into_any(),
                    }
                })}
            </Transition>
        </WithShell>
    }
}

#[component]
fn SentTable(mails: Vec<SentMailView>) -> impl IntoView {
    view! {
        <div class="overflow-x-auto rounded-lg bg-white shadow-sm">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-100 text-left text-slate-600">
                    <tr>
                        <th scope="col" class="px-4 py-2">{t(Msg::Created)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Recipient)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Subject)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Template)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Status)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::ServerAnswer)}</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {mails.into_iter().map(|m| view! {
                        <tr data-mail=m.id>
                            <td class="px-4 py-2">{crate::components::local_time(m.created_at)}</td>
                            <td class="px-4 py-2">{m.recipient_email.clone()}</td>
                            <td class="px-4 py-2"><a class=LINK_CLASS href=format!("/admin/mail/sent/{}", m.id)>{m.subject.clone()}</a></td>
                            <td class="px-4 py-2">{m.template_name.clone()}</td>
                            <td class="px-4 py-2"><MailStatusBadge status=m.status/></td>
                            <td class="max-w-xs truncate px-4 py-2" title=m.answer.clone()>{m.answer.clone()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
pub fn SentMailPage() -> impl IntoView {
    let id = route_id();
    let resend = ServerAction::<ResendMail>::new();
    let mail =
        Resource::new(move || (id.get(), resend.version().get()), |(id, _)| get_sent_mail(id.unwrap_or_default()));
    view! {
        <WithShell>
        <MailTabs/>
        <ActionError value=resend.value()/>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match mail.await {
                    Ok(m) => view! {
                        <Title text=m.subject.clone()/>
                        <PageHeader title=m.subject.clone()>
                            {(m.status == MailStatus::Failed).then(|| view! {
                                <ActionForm action=resend>
                                    <input type="hidden" name="id" value=m.id/>
                                    <button type="submit" class=BUTTON_CLASS>{t(Msg::Resend)}</button>
                                </ActionForm>
                            })}
                        </PageHeader>
                        <dl class="mb-4 grid max-w-3xl grid-cols-[10rem_1fr] gap-2 rounded-lg bg-white p-4 text-sm shadow-sm">
                            <dt class="font-medium">{t(Msg::Recipient)}</dt><dd>{format!("{} <{}>", m.recipient_name, m.recipient_email)}</dd>
                            <dt class="font-medium">{t(Msg::Status)}</dt><dd><MailStatusBadge status=m.status/></dd>
                            <dt class="font-medium">{t(Msg::ServerAnswer)}</dt><dd data-answer="">{m.answer.clone()}</dd>
                            <dt class="font-medium">{t(Msg::Template)}</dt>
                            <dd>{match m.template_id {
                                Some(tid) => view! { <a class=LINK_CLASS href=format!("/admin/mail/templates/{tid}")>{m.template_name.clone()}</a> }.into_any(),
                                None => view! { <span>{m.template_name.clone()}</span> }.into_any(),
                            }}</dd>
                            <dt class="font-medium">{t(Msg::Task)}</dt>
                            <dd>{m.task_id.map(|task| view! { <a class=LINK_CLASS href=format!("/admin/tasks/{task}")>{format!("#{task}")}</a> })}</dd>
                            <dt class="font-medium">{t(Msg::ReplyTo)}</dt><dd>{m.reply_to.clone()}</dd>
                            <dt class="font-medium">{t(Msg::Created)}</dt><dd>{crate::components::local_time(m.created_at)}</dd>
                        </dl>
                        <HtmlFrame html=m.html.clone()/>
                        <pre class="mt-2 whitespace-pre-wrap rounded bg-white p-3 text-xs shadow-sm">{m.text.clone()}</pre>
                    }.into_any(),
                    Err(e) => crate::components::page_error_view(&e),
                }
            })}
        </Suspense>
        </WithShell>
    }
}

/// A page for anonymous visitors, in the language the shell chose.
#[component]
fn PublicCard(title: Msg, children: ChildrenFn) -> impl IntoView {
    let shell = Resource::new(|| (), |_| load_shell());
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let info = shell.await.ok();
                if let Some(info) = info.clone() {
                    provide_context(info);
                }
                view! {
                    <Title text=t(title)/>
                    <main class="flex min-h-screen items-center justify-center bg-slate-100 px-4">
                        <div class="w-full max-w-sm rounded-lg bg-white p-8 shadow">
                            <h1 class="mb-4 text-xl font-semibold text-slate-900">{t(title)}</h1>
                            <Flash/>
                            {children.with_value(|c| c())}
                        </div>
                    </main>
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn SetPasswordPage() -> impl IntoView {
    let set = ServerAction::<SetPasswordWithToken>::new();
    let pending = Memo::new(move |_| set.pending().get());
    let query = use_query_map();
    let token = move || query.with_untracked(|q| q.get("token")).unwrap_or_default();
    view! {
        <PublicCard title=Msg::SetOwnPassword>
            <ActionError value=set.value()/>
            <ActionForm action=set>
                <input type="hidden" name="token" value=token()/>
                <Field label=t(Msg::NewPassword) name="password" kind="password" required=true autocomplete="new-password"/>
                <Field label=t(Msg::ConfirmPassword) name="confirm_password" kind="password" required=true autocomplete="new-password"/>
                <Submit label=t(Msg::Save) pending=pending/>
            </ActionForm>
        </PublicCard>
    }
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let request = ServerAction::<RequestPasswordReset>::new();
    let pending = Memo::new(move |_| request.pending().get());
    view! {
        <PublicCard title=Msg::ForgotPassword>
            <ActionError value=request.value()/>
            <ActionForm action=request>
                <Field label=t(Msg::Username) name="username" required=true autocomplete="username"/>
                <Submit label=t(Msg::SendResetLink) pending=pending/>
            </ActionForm>
        </PublicCard>
    }
}
