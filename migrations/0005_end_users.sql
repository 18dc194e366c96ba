-- Tutoring platforms (issue 14): one API key serving many end users.
-- Every usage record names its end user (the request's safety_identifier, else
-- a `user` of at most 64 characters, or the client token's), so the usage API
-- can filter by it and the dashboard can rank end users.
ALTER TABLE usage_records ADD COLUMN end_user TEXT;
CREATE INDEX usage_records_by_end_user ON usage_records (account_id, end_user, created_at);
-- The account's per-end-user limits and require_end_user, as one JSON object
-- ({"limits": {...}, "require_end_user": bool}; shared/end-users.ts).
ALTER TABLE accounts ADD COLUMN end_user_settings TEXT NOT NULL DEFAULT '{}';
