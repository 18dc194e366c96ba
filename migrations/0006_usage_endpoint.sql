-- The Responses API (issue 13): every usage record names the endpoint it was
-- for (`chat.completions`, `completions`, `responses`, `answers.check`), so
-- the usage API and its CSV can tell them apart. Records written before this
-- migration, and reservations that expired unsettled, have none (NULL).
ALTER TABLE usage_records ADD COLUMN endpoint TEXT;
