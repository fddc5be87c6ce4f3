//! Runtime settings.

use domain::access::ObjectType;
use domain::activity::ActivityTarget;
use domain::settings::{SettingView, Visibility, normalise};
use domain::{Action, Actor, AppError, Target};

use crate::{Services, authorize};

impl Services {
    /// Every setting, for the admin Settings page.
    pub async fn list_settings(&self, actor: &Actor) -> Result<Vec<SettingView>, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::Setting))?;
        Ok(self.ports.settings.list().await?)
    }

    /// Settings anyone may read, signed in or not (branding on the login page).
    pub async fn public_settings(&self) -> Result<Vec<SettingView>, AppError> {
        let all = self.ports.settings.list().await?;
        Ok(all.into_iter().filter(|s| s.visibility == Visibility::Public).collect())
    }

    /// Validates against the setting's type and saves; internal settings are read-only.
    pub async fn update_setting(&self, actor: &Actor, key: &str, raw: &str) -> Result<SettingView, AppError> {
        authorize(actor, Action::Update, Target::All(ObjectType::Setting))?;
        let current = self.ports.settings.get(key).await?.ok_or(AppError::NotFound)?;
        if current.visibility == Visibility::Internal {
            return Err(AppError::conflict("internal_setting"));
        }
        let range = domain::settings::definition(key).and_then(|d| d.range);
        let mut value = normalise(current.setting_type, range, raw)?;
        if key == domain::settings::SITE_TIME_ZONE {
            value = domain::zone::check("value", &value)?;
        }
        let mut activity = self.activity(actor, "settings.update", ActivityTarget::new("settings", key, key));
        activity.details = serde_json::json!({ "from": current.value, "to": value });
        self.ports.settings.set_value(key, &value, Some(&activity)).await?;
        Ok(SettingView { value, ..current })
    }
}
