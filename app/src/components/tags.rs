//! Tags on templates, environments and VMs: the chips lists show, the
//! section of an object's page that adds and removes them, and the list
//! filter field (`name` or `name=value`).

use domain::catalogue::{ObjectTags, Tag, Taggable};
use leptos::prelude::*;

use crate::api::catalogue::{AddTag, RemoveTag, list_tags};
use crate::components::forms::{ActionError, INPUT_CLASS, SECONDARY_BUTTON_CLASS};
use crate::components::t;
use crate::i18n::Msg;

const CHIP: &str = "inline-flex items-center gap-1 rounded-full bg-slate-100 px-2 py-0.5 text-xs text-slate-700";

/// A row's tags as chips (nothing when it has none).
#[component]
pub fn TagChips(tags: Vec<Tag>) -> impl IntoView {
    view! {
        <span class="flex flex-wrap gap-1" data-testid="tags">
            {tags.into_iter().map(|tag| view! { <span class=CHIP>{tag.label()}</span> }).collect_view()}
        </span>
    }
}

/// The tags of object `id` among the tags a list fetched for its rows.
pub fn tags_for(all: &[ObjectTags], id: i64) -> Vec<Tag> {
    all.iter().find(|o| o.id == id).map(|o| o.tags.clone()).unwrap_or_default()
}

/// The tag filter of a list's search form.
#[component]
pub fn TagFilterField(current: String) -> impl IntoView {
    view! {
        <div>
            <label for="f-tag" class="block text-sm font-medium text-slate-700">{t(Msg::TagsFilter)}</label>
            <input id="f-tag" name="tag" value=current placeholder=t(Msg::TagsFilterHint) class=INPUT_CLASS/>
        </div>
    }
}

/// An object's tags; with `editable`, forms to add one and to remove each.
#[component]
pub fn TagsSection(object: Taggable, id: i64, editable: bool) -> impl IntoView {
    let add = ServerAction::<AddTag>::new();
    let remove = ServerAction::<RemoveTag>::new();
    let tags = Resource::new(
        move || (add.version().get(), remove.version().get()),
        move |_| list_tags(object.key().to_string(), id),
    );
    view! {
        <section class="mt-6 max-w-3xl rounded-lg bg-white p-6 shadow-sm" data-testid="tags-section">
            <h2 class="mb-3 text-lg font-semibold">{t(Msg::Tags)}</h2>
            <ActionError value=add.value()/>
            <ActionError value=remove.value()/>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match tags.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="text-sm text-slate-500">{t(Msg::TagsNone)}</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="flex flex-wrap gap-2">
                                {list.into_iter().map(|tag| view! {
                                    <li class=CHIP>
                                        <span>{tag.label()}</span>
                                        {editable.then(|| view! {
                                            <ActionForm action=remove attr:class="inline">
                                                <input type="hidden" name="object" value=object.key()/>
                                                <input type="hidden" name="id" value=id/>
                                                <input type="hidden" name="tag_id" value=tag.id/>
                                                <button type="submit" class="font-bold text-slate-500 hover:text-red-700"
                                                    aria-label=format!("{} {}", t(Msg::TagsRemove), tag.label())>"×"</button>
                                            </ActionForm>
                                        })}
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => crate::components::error_view(&e),
                    }
                })}
            </Suspense>
            {editable.then(|| view! {
                <ActionForm action=add attr:class="mt-4 flex flex-wrap items-end gap-2">
                    <input type="hidden" name="object" value=object.key()/>
                    <input type="hidden" name="id" value=id/>
                    <div>
                        <label for="tag-name" class="block text-sm font-medium text-slate-700">{t(Msg::TagsName)}</label>
                        <input id="tag-name" name="name" required=true maxlength="64" class=INPUT_CLASS/>
                    </div>
                    <div>
                        <label for="tag-value" class="block text-sm font-medium text-slate-700">{t(Msg::TagsValue)}</label>
                        <input id="tag-value" name="value" maxlength="64" class=INPUT_CLASS/>
                    </div>
                    <button type="submit" class=SECONDARY_BUTTON_CLASS>{t(Msg::TagsAdd)}</button>
                </ActionForm>
                <p class="mt-1 text-xs text-slate-500">{t(Msg::TagsSyntaxHint)}</p>
            })}
        </section>
    }
}
