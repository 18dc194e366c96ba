-- The operators' dashboard reads every account's ledger by time (GET
-- /admin/v1/usage/series: one range scan per bucket); the existing index leads
-- with the account, so without this one each bucket would scan the whole table.
CREATE INDEX usage_records_by_time ON usage_records (created_at);
