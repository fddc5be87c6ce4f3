-- Single sign-on sessions keep the OpenID provider's ID token, sent back as
-- `id_token_hint` when the user signs out (RP-initiated logout) (MariaDB dialect).

ALTER TABLE sessions ADD COLUMN id_token TEXT NULL;
