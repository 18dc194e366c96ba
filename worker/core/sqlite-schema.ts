/**
 * @module sqlite-schema
 * How a Durable Object brings its SQLite schema up to date: a one-row
 * `schema_version` table, and a list of migrations each upgrading the schema
 * by one version. Run it inside `blockConcurrencyWhile`, before any request.
 */

/** Applies every migration after the stored version, then records the new version. Never edit a shipped entry. */
export function migrateSchema(sql: SqlStorage, migrations: readonly string[]): void {
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const row = sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray()[0];
  const current = row?.version ?? 0;
  for (let v = current; v < migrations.length; v++) sql.exec(migrations[v]!);
  if (!row) sql.exec("INSERT INTO schema_version (version) VALUES (?)", migrations.length);
  else if (current < migrations.length) sql.exec("UPDATE schema_version SET version = ?", migrations.length);
}
