-- Daily totals kept up by a trigger: one row updated per record inserted,
-- instead of recomputing every touched day from its records on each roll-up
-- (that read the whole day's records again, so a busy account's roll-ups grew
-- with the day). The trigger fires only for a record really inserted: a
-- retried roll-up's duplicates (ON CONFLICT DO NOTHING) add nothing, so the
-- totals stay idempotent.
CREATE TRIGGER usage_records_daily AFTER INSERT ON usage_records
BEGIN
  INSERT INTO usage_daily (account_id, key_id, model, day, requests, prompt_tokens, completion_tokens, cached_requests, cost_micro_usd)
  VALUES (NEW.account_id, NEW.key_id, NEW.model, NEW.day, 1, NEW.prompt_tokens, NEW.completion_tokens, NEW.cached, NEW.cost_micro_usd)
  ON CONFLICT (account_id, key_id, model, day) DO UPDATE SET
    requests = requests + 1,
    prompt_tokens = prompt_tokens + excluded.prompt_tokens,
    completion_tokens = completion_tokens + excluded.completion_tokens,
    cached_requests = cached_requests + excluded.cached_requests,
    cost_micro_usd = cost_micro_usd + excluded.cost_micro_usd;
END;

-- The totals as of now, recomputed once from the records (the old roll-ups kept them exact: this changes nothing).
INSERT OR REPLACE INTO usage_daily (account_id, key_id, model, day, requests, prompt_tokens, completion_tokens, cached_requests, cost_micro_usd)
SELECT account_id, key_id, model, day, COUNT(*), SUM(prompt_tokens), SUM(completion_tokens), SUM(cached), SUM(cost_micro_usd)
FROM usage_records GROUP BY account_id, key_id, model, day;
