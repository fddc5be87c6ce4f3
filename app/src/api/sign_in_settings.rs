//! The institution's sign-in as administrators see it: the effective LDAP and OpenID
//! Connect configuration, and "Test" actions that change nothing.

use domain::sign_in::{DirectoryCheck, ProviderCheck, SignInOverview};
use leptos::prelude::*;

use crate::error::ApiResult;

#[server]
pub async fn sign_in_methods() -> ApiResult<SignInOverview> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.sign_in_overview(&actor).await?)
}

/// Looks `username` up in the directory with the service account.
#[server]
pub async fn test_directory(username: String) -> ApiResult<DirectoryCheck> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.test_directory(&actor, &username).await?)
}

/// Fetches the OpenID provider's discovery document and signing keys.
#[server]
pub async fn test_identity_provider() -> ApiResult<ProviderCheck> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.test_identity_provider(&actor).await?)
}
