//! Each person's time zone: their own choice (profile), else the site's
//! `site.time_zone`, else UTC. Event times are typed and shown in it.

use async_trait::async_trait;
use domain::activity::{Activity, ActivityTarget};
use domain::settings::SITE_TIME_ZONE;
use domain::zone::{DEFAULT_ZONE, TimeZoneChoice, check};
use domain::{Actor, AppError};

use crate::{Services, StoreError};

#[async_trait]
pub trait TimeZoneRepo: Send + Sync {
    /// The zone the user chose (`None`: none, the site's applies).
    async fn user_zone(&self, user_id: i64) -> Result<Option<String>, StoreError>;
    /// `None` goes back to the site's zone.
    async fn set_user_zone(
        &self,
        user_id: i64,
        zone: Option<&str>,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError>;
}

impl Services {
    async fn site_zone(&self) -> Result<String, AppError> {
        let value = self.ports.settings.get(SITE_TIME_ZONE).await?.map(|s| s.value).unwrap_or_default();
        Ok(check("value", &value).unwrap_or_else(|_| DEFAULT_ZONE.to_string()))
    }

    /// The zone `user_id` sees and types times in.
    pub async fn time_zone_of(&self, user_id: i64) -> Result<String, AppError> {
        match self.ports.time_zones.user_zone(user_id).await? {
            Some(own) if check("time_zone", &own).is_ok() => Ok(own),
            _ => self.site_zone().await,
        }
    }

    /// The actor's own choice, the site's zone and the one that applies.
    pub async fn own_time_zone(&self, actor: &Actor) -> Result<TimeZoneChoice, AppError> {
        let own = self.ports.time_zones.user_zone(actor.user_id).await?.unwrap_or_default();
        let site = self.site_zone().await?;
        let effective = self.time_zone_of(actor.user_id).await?;
        Ok(TimeZoneChoice { own, site, effective, available: domain::zone::names() })
    }

    /// Sets the actor's own zone (an IANA name); empty: the site's applies.
    pub async fn set_own_time_zone(&self, actor: &Actor, raw: &str) -> Result<(), AppError> {
        let zone = match raw.trim() {
            "" => None,
            name => Some(check("time_zone", name)?),
        };
        let mut activity =
            self.activity(actor, "user.time_zone", ActivityTarget::new("users", actor.user_id, &actor.username));
        activity.details = serde_json::json!({ "to": zone.clone().unwrap_or_default() });
        Ok(self.ports.time_zones.set_user_zone(actor.user_id, zone.as_deref(), Some(&activity)).await?)
    }
}
