/**
 * @module refusal-counter-service
 * Refusal counters for operators. Refusals the account object decides
 * (401/403 for a key of the account, 429 by limit) are counted by the object
 * itself in the call that refused them. Everything else the Worker refuses
 * before or after that call (400 bad input, 404 model, 409, 413, ...) is
 * counted here, per isolate: increments wait in memory and one call per
 * account carries them to its object, through `waitUntil`, off the response's
 * path. While that call runs, new refusals gather for the next one, so a
 * burst of N bad requests costs far fewer than N object calls, and an
 * admitted request never pays anything.
 */
import { REFUSAL_BUCKET_MS, type RefusalCount } from "../../../shared/refusals";
import { log } from "../../core/log";
import type { Env } from "../../env";
import { accountObject, type RefusalEvent } from "../account-rpc";
import type { Credential } from "../principal";

type RefusalEnv = Pick<Env, "ACCOUNTS">;

/** Statuses the account object counts itself (it decided them). */
const COUNTED_BY_THE_OBJECT = new Set([401, 403, 429]);

/** Pending increments: account id -> key hash -> "minute status code" -> count. */
const pending = new Map<string, Map<string, Map<string, number>>>();
/** The call carrying an account's increments, while it runs. */
const inFlight = new Map<string, Promise<void>>();

/**
 * Counts one refused request made with this credential, unless the account
 * object already did. Cheap: a map increment, and at most one object call
 * per account in flight.
 */
export function countRefusal(env: RefusalEnv, credential: Credential, status: number, code: string, now: number, waitUntil: (p: Promise<unknown>) => void): void {
  if (COUNTED_BY_THE_OBJECT.has(status) || status < 400 || status >= 500) return;
  const byKey = pending.get(credential.accountId) ?? new Map<string, Map<string, number>>();
  pending.set(credential.accountId, byKey);
  const counts = byKey.get(credential.keyHash) ?? new Map<string, number>();
  byKey.set(credential.keyHash, counts);
  const slot = `${Math.floor(now / REFUSAL_BUCKET_MS)} ${status} ${code}`;
  counts.set(slot, (counts.get(slot) ?? 0) + 1);
  if (!inFlight.has(credential.accountId)) waitUntil(drain(env, credential.accountId));
}

/** Carries an account's pending increments to its object until none are left. */
function drain(env: RefusalEnv, accountId: string): Promise<void> {
  const run = (async () => {
    for (let byKey = take(accountId); byKey; byKey = take(accountId)) {
      for (const [keyHash, counts] of byKey) {
        const events: RefusalEvent[] = [...counts].map(([slot, count]) => {
          const [minute, status, code] = slot.split(" ") as [string, string, string];
          return { at: Number(minute) * REFUSAL_BUCKET_MS, status: Number(status), code, count };
        });
        try {
          await accountObject(env, accountId).recordRefusals(accountId, keyHash, events);
        } catch (err) {
          // Counters are for operators' eyes, not billing: a lost batch is logged, not retried forever.
          log("warn", "refusal counters not recorded", { accountId, refusals: events.length, error: String(err) });
        }
      }
    }
  })().finally(() => {
    inFlight.delete(accountId);
    // An increment that landed as this call ended starts the next one.
    if (pending.has(accountId)) void drain(env, accountId);
  });
  inFlight.set(accountId, run);
  return run;
}

function take(accountId: string): Map<string, Map<string, number>> | undefined {
  const byKey = pending.get(accountId);
  pending.delete(accountId);
  return byKey;
}

/** The account's refusals over from ≤ t < to, after this isolate's pending increments for it are recorded. */
export async function accountRefusals(env: RefusalEnv, accountId: string, from: number, to: number): Promise<RefusalCount[]> {
  await inFlight.get(accountId);
  if (pending.has(accountId)) await drain(env, accountId);
  return accountObject(env, accountId).refusals(from, to);
}
