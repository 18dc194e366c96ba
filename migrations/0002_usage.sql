-- The usage ledger, rolled up from each account's Durable Object (which holds
-- the authoritative copy) by its alarm. Idempotent by request_id: a retried
-- roll-up inserts nothing twice, and daily totals are recomputed from records.

CREATE TABLE usage_records (
  request_id         TEXT PRIMARY KEY,      -- the x-request-id the client saw
  account_id         TEXT NOT NULL,
  key_id             TEXT NOT NULL,
  model              TEXT NOT NULL,
  backend            TEXT NOT NULL,
  mode               TEXT NOT NULL CHECK (mode IN ('live', 'test')),
  prompt_tokens      INTEGER NOT NULL,
  completion_tokens  INTEGER NOT NULL,
  cached             INTEGER NOT NULL DEFAULT 0,
  status             TEXT NOT NULL CHECK (status IN ('ok', 'client_disconnected', 'backend_error', 'timeout')),
  ttft_ms            INTEGER,
  duration_ms        INTEGER NOT NULL,
  cost_micro_usd     INTEGER NOT NULL,
  created_at         INTEGER NOT NULL,      -- Unix milliseconds (admission)
  day                TEXT NOT NULL          -- UTC YYYY-MM-DD of created_at
);

-- Newest first per account, the usage API's cursor order.
CREATE INDEX usage_records_by_account ON usage_records (account_id, created_at DESC, request_id DESC);

CREATE TABLE usage_daily (
  account_id         TEXT NOT NULL,
  key_id             TEXT NOT NULL,
  model              TEXT NOT NULL,
  day                TEXT NOT NULL,
  requests           INTEGER NOT NULL,
  prompt_tokens      INTEGER NOT NULL,
  completion_tokens  INTEGER NOT NULL,
  cached_requests    INTEGER NOT NULL,
  cost_micro_usd     INTEGER NOT NULL,
  PRIMARY KEY (account_id, key_id, model, day)
);
