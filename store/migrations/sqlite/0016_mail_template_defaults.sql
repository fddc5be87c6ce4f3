-- Default mail templates seeded (SQLite dialect): each (slug, language) of
-- `services::mail::defaults` is seeded once ever (store/src/seed.rs), so a
-- default an admin deleted stays deleted and one a new release adds arrives.

CREATE TABLE mail_template_defaults (
    slug TEXT NOT NULL,
    language TEXT NOT NULL,
    PRIMARY KEY (slug, language)
);

-- Installations that have templates were seeded with every one of these
-- defaults at once (releases before this one shipped exactly these, in both
-- languages, into an empty table): they count as seeded, so a default an
-- admin deleted before the upgrade stays deleted. Without templates nothing
-- counts as seeded, and the next start seeds them all, as before.
INSERT INTO mail_template_defaults (slug, language)
SELECT d.slug, l.language FROM (
    SELECT 'events_post_deployment_success' AS slug
    UNION ALL SELECT 'events_post_deployment_failed'
    UNION ALL SELECT 'events_decommission_started'
    UNION ALL SELECT 'events_post_decommission_failed'
    UNION ALL SELECT 'users_account_created'
    UNION ALL SELECT 'users_password_reset'
    UNION ALL SELECT 'events_starting'
    UNION ALL SELECT 'events_vms_ready'
    UNION ALL SELECT 'events_ending_soon'
) d CROSS JOIN (SELECT 'en' AS language UNION ALL SELECT 'de') l
WHERE EXISTS (SELECT 1 FROM mail_templates);
