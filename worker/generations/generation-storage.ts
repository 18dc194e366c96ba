/**
 * @module generation-storage
 * A generation object's SQLite: one row per run (its metadata as JSON) and
 * its events in batches, one row per batch (never a write per token; a batch
 * stays far below the ~2 MB row limit). Only the newest run is kept.
 *
 * Schema (version 1):
 *   runs(run INTEGER PRIMARY KEY, meta TEXT)            -- RunMeta as JSON
 *   batches(run INTEGER, first INTEGER, events TEXT,    -- events[first..] as a JSON array
 *           PRIMARY KEY (run, first))
 */
import type { RunMeta } from "./generation-run";

/** Events per stored batch, and bytes: whichever is reached first ends the batch. */
export const BATCH_MAX_EVENTS = 1024;
export const BATCH_MAX_BYTES = 512 * 1024;

export class GenerationStorage {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  migrate(): void {
    this.#sql.exec("CREATE TABLE IF NOT EXISTS runs (run INTEGER PRIMARY KEY, meta TEXT NOT NULL)");
    this.#sql.exec(
      "CREATE TABLE IF NOT EXISTS batches (run INTEGER NOT NULL, first INTEGER NOT NULL, events TEXT NOT NULL, PRIMARY KEY (run, first))",
    );
  }

  latest(): RunMeta | null {
    const row = this.#sql.exec<{ meta: string }>("SELECT meta FROM runs ORDER BY run DESC LIMIT 1").toArray()[0];
    return row ? (JSON.parse(row.meta) as RunMeta) : null;
  }

  /** Writes a run's metadata. */
  putRun(meta: RunMeta): void {
    this.#sql.exec("INSERT OR REPLACE INTO runs (run, meta) VALUES (?, ?)", meta.run, JSON.stringify(meta));
  }

  /** Writes a new run's metadata and forgets the older runs (there are none before the first). */
  startRun(meta: RunMeta): void {
    this.putRun(meta);
    if (meta.run === 1) return;
    this.#sql.exec("DELETE FROM runs WHERE run < ?", meta.run);
    this.#sql.exec("DELETE FROM batches WHERE run < ?", meta.run);
  }

  appendBatch(run: number, first: number, events: string[]): void {
    this.#sql.exec("INSERT OR REPLACE INTO batches (run, first, events) VALUES (?, ?, ?)", run, first, JSON.stringify(events));
  }

  events(run: number): string[] {
    const out: string[] = [];
    for (const row of this.#sql.exec<{ events: string }>("SELECT events FROM batches WHERE run = ? ORDER BY first", run)) {
      out.push(...(JSON.parse(row.events) as string[]));
    }
    return out;
  }
}
