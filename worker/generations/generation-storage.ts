/**
 * @module generation-storage
 * A generation object's SQLite: one row per run (its metadata as JSON) and
 * its events in batches, one row per batch (never a write per token; a batch
 * stays far below the ~2 MB row limit). Only the newest run is kept.
 *
 * Schema (version 1):
 *   runs(run INTEGER PRIMARY KEY, meta TEXT)            -- RunMeta as JSON
 *   batches(run INTEGER, first INTEGER, events TEXT,    -- events[first..] and the tokens each carried,
 *           PRIMARY KEY (run, first))                   --   as JSON {"events":[...],"tokens":[...]}
 *
 * An event's tokens are the backend's own count (streams/token-counter), which
 * the event no longer holds, so a restarted object bills what it relays as the
 * live one did. A batch written before the counts were kept is a bare JSON
 * array of events: those are counted by the old rule (`legacyTokens`).
 */
import { classifyEvent } from "../streams/stream-events";
import { fallbackTokens } from "../streams/token-counter";
import type { RunMeta, StoredEvents } from "./generation-run";

/** Events per stored batch, and bytes: whichever is reached first ends the batch. */
export const BATCH_MAX_EVENTS = 1024;
export const BATCH_MAX_BYTES = 512 * 1024;
/** Longest a batch of events waits in memory before it is written, in ms. */
const BATCH_FLUSH_DELAY_MS = 250;

export class GenerationStorage {
  readonly #storage: DurableObjectStorage;
  readonly #sql: SqlStorage;
  #migrated = false;
  /** A begun run whose metadata is not written yet (`beginRun`). */
  #unwritten: RunMeta | null = null;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
    this.#sql = storage.sql;
  }

  /**
   * Creates the tables if they are not there: before a run's first write, not
   * when the object is made, so an object that never starts a run (a spare,
   * a refused request's) stores nothing at all.
   */
  migrate(): void {
    if (this.#migrated) return;
    this.#sql.exec("CREATE TABLE IF NOT EXISTS runs (run INTEGER PRIMARY KEY, meta TEXT NOT NULL)");
    this.#sql.exec(
      "CREATE TABLE IF NOT EXISTS batches (run INTEGER NOT NULL, first INTEGER NOT NULL, events TEXT NOT NULL, PRIMARY KEY (run, first))",
    );
    this.#migrated = true;
  }

  /** Deletes everything the object stores, the tables with the rows: the next run makes them again. */
  async deleteAll(): Promise<void> {
    this.#unwritten = null;
    await this.#storage.deleteAll();
    this.#migrated = false;
  }

  /** The newest run's metadata; null in an object that never stored one (without reading a table that is not there). */
  latest(): RunMeta | null {
    const made = this.#sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs'").toArray().length > 0;
    if (!made) return null;
    this.migrate();
    const row = this.#sql.exec<{ meta: string }>("SELECT meta FROM runs ORDER BY run DESC LIMIT 1").toArray()[0];
    return row ? (JSON.parse(row.meta) as RunMeta) : null;
  }

  /** Writes a run's metadata. */
  putRun(meta: RunMeta): void {
    this.writeBegun();
    this.#sql.exec("INSERT OR REPLACE INTO runs (run, meta) VALUES (?, ?)", meta.run, JSON.stringify(meta));
  }

  /**
   * A new run, written by `writeBegun` or by the next write, whichever comes
   * first; not now. Its first write (for a new object, making its database)
   * is committed on the isolate's thread before a request made in the same
   * task leaves: written before the backend call, it kept that call from the
   * backend for about 3 ms of a stream's time to first byte. The object calls
   * `writeBegun` a task after the call was made.
   */
  beginRun(meta: RunMeta): void {
    this.writeBegun();
    this.#unwritten = meta;
  }

  /** Writes the begun run (its metadata as it is now) and forgets the older runs; false when there was none to write. */
  writeBegun(): boolean {
    const meta = this.#unwritten;
    if (!meta) return false;
    this.#unwritten = null;
    this.migrate();
    this.#startRun(meta);
    return true;
  }

  /** Writes a new run's metadata and forgets the older runs (there are none before the first). */
  #startRun(meta: RunMeta): void {
    this.putRun(meta);
    if (meta.run === 1) return;
    this.#sql.exec("DELETE FROM runs WHERE run < ?", meta.run);
    this.#sql.exec("DELETE FROM batches WHERE run < ?", meta.run);
  }

  appendBatch(run: number, first: number, events: string[], tokens: number[]): void {
    this.writeBegun();
    this.#sql.exec("INSERT OR REPLACE INTO batches (run, first, events) VALUES (?, ?, ?)", run, first, JSON.stringify({ events, tokens }));
  }

  /** A run's stored events, in order, with the tokens each carried. */
  events(run: number): StoredEvents {
    const out: StoredEvents = { events: [], tokens: [] };
    for (const row of this.#sql.exec<{ events: string }>("SELECT events FROM batches WHERE run = ? ORDER BY first", run)) {
      const batch = JSON.parse(row.events) as string[] | StoredEvents;
      const events = Array.isArray(batch) ? batch : batch.events;
      const tokens = Array.isArray(batch) ? batch.map(legacyTokens) : batch.tokens;
      for (let i = 0; i < events.length; i++) {
        out.events.push(events[i]!);
        out.tokens.push(tokens[i] ?? 0);
      }
    }
    return out;
  }
}

/** An event of a batch stored without counts: a chunk with text was one token. */
function legacyTokens(event: string): number {
  return classifyEvent(event).kind === "chunk" ? fallbackTokens(event) : 0;
}


/**
 * Writes one run's events in batches as they come (never a write per token):
 * a batch ends at BATCH_MAX_EVENTS events or BATCH_MAX_BYTES, or
 * BATCH_FLUSH_DELAY_MS after its first event. Stored batches are slices of
 * the run's own event list, so nothing is copied until it is written.
 */
export class BatchWriter {
  readonly #storage: GenerationStorage;
  readonly #run: number;
  readonly #events: readonly string[];
  /** Tokens in events[0..i] (the run's `tokensAt`). */
  readonly #tokensAt: readonly number[];
  /** The first unwritten event's position (the rest follow it in `events`), and their size. */
  #pending: { first: number; bytes: number } | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  constructor(storage: GenerationStorage, run: number, events: readonly string[], tokensAt: readonly number[]) {
    this.#storage = storage;
    this.#run = run;
    this.#events = events;
    this.#tokensAt = tokensAt;
  }

  /** The event just appended to the run's list. */
  added(event: string): void {
    const pending = (this.#pending ??= { first: this.#events.length - 1, bytes: 0 });
    pending.bytes += event.length;
    if (this.#events.length - pending.first >= BATCH_MAX_EVENTS || pending.bytes >= BATCH_MAX_BYTES) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), BATCH_FLUSH_DELAY_MS);
  }

  /** Writes what is pending now. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const pending = this.#pending;
    this.#pending = null;
    if (!pending || pending.first >= this.#events.length || this.#closed) return;
    const end = this.#events.length;
    const tokens: number[] = [];
    for (let i = pending.first; i < end; i++) tokens.push((this.#tokensAt[i] ?? 0) - (i > 0 ? (this.#tokensAt[i - 1] ?? 0) : 0));
    this.#storage.appendBatch(this.#run, pending.first, this.#events.slice(pending.first, end), tokens);
  }

  /** The run was replaced or forgotten: nothing more of it is written. */
  close(): void {
    this.#closed = true;
    this.flush();
  }
}
