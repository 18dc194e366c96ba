-- The control plane: accounts and their API keys. D1 is the source of truth;
-- each account's Durable Object (AccountDO) holds the copy the hot path reads.
-- Times are Unix milliseconds. Secrets are never stored: a key is kept only as
-- SHA-256(key) in hex plus a short visible prefix.

CREATE TABLE accounts (
  id          TEXT PRIMARY KEY,             -- acct_ + 16 base62 (the keys' routing part)
  name        TEXT NOT NULL,
  plan        TEXT NOT NULL DEFAULT 'free',
  status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  limits      TEXT NOT NULL DEFAULT '{}',   -- JSON: requests_per_minute, tokens_per_minute, max_concurrent_requests, monthly_token_quota
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);

-- Newest first, with the id as a tie-breaker: the admin API's cursor order.
CREATE INDEX accounts_by_created ON accounts (created_at DESC, id DESC);

CREATE TABLE api_keys (
  id            TEXT PRIMARY KEY,           -- key_ + 16 base62
  account_id    TEXT NOT NULL REFERENCES accounts (id),
  name          TEXT,
  mode          TEXT NOT NULL CHECK (mode IN ('live', 'test')),
  hash          TEXT NOT NULL UNIQUE,       -- hex SHA-256 of the secret
  prefix        TEXT NOT NULL,              -- e.g. limo_sk_Ab3dE5gH, for people to recognise a key
  models        TEXT,                       -- JSON array of public model ids, NULL for all
  origins       TEXT,                       -- JSON array of browser origins, NULL for any
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER,
  revoked_at    INTEGER,                    -- may be in the future: the end of a rotation's grace
  rotated_to    TEXT,                       -- id of the key that replaced this one
  last_used_at  INTEGER                     -- flushed from the Durable Object by its alarm
);

CREATE INDEX api_keys_by_account ON api_keys (account_id, created_at DESC, id DESC);
