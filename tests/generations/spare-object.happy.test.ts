/**
 * The isolate's spare generation object (worker/generations/spare-object):
 * made ahead, it stores nothing until a run starts, so an unused or refused
 * one leaves no data; the next uncached generation takes it.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { prepareGenerationObject } from "../../worker/generations/durable-generation-service";
import { generationObject } from "../../worker/generations/generation-rpc";
import { GenerationStorage } from "../../worker/generations/generation-storage";
import { SpareObject } from "../../worker/generations/spare-object";

const UNCACHED = { background: false, cache: null };

/** How many tables and rows the object's SQLite holds. */
function stored(name: string): Promise<number> {
  return runInDurableObject(generationObject(env, name), (_, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master").one().n);
}

async function madeSpare(): Promise<{ spare: SpareObject; name: string }> {
  const spare = new SpareObject({ delayMs: 0 });
  const pending: Promise<unknown>[] = [];
  spare.refill(env, (p) => pending.push(p));
  spare.refill(env, (p) => pending.push(p)); // one is being made: no second
  expect(pending).toHaveLength(1);
  await Promise.all(pending);
  const name = spare.take();
  expect(name).toMatch(/^[0-9a-f]{32}$/);
  expect(spare.take()).toBeNull();
  return { spare, name: name! };
}

describe("the spare generation object", () => {
  it("exists before any request uses it and stores nothing", async () => {
    const { name } = await madeSpare();
    expect(await stored(name)).toBe(0);
  });

  it("is what the next uncached generation's object is, and only once", async () => {
    const spare = new SpareObject({ delayMs: 0 });
    const pending: Promise<unknown>[] = [];
    spare.refill(env, (p) => pending.push(p));
    await Promise.all(pending);
    const first = prepareGenerationObject(env, UNCACHED, () => {}, spare)!;
    const second = prepareGenerationObject(env, UNCACHED, () => {}, spare)!;
    expect(first.name).not.toBe(second.name);
    expect(spare.take()).toBeNull();
    // Cached plans name their object by the cache key: no spare is taken for them.
    spare.refill(env, (p) => pending.push(p));
    await Promise.all(pending);
    expect(prepareGenerationObject(env, { background: false, cache: { scope: "key", read: true, ttlSeconds: 60 } } as never, () => {}, spare)).toBeNull();
    expect(spare.take()).not.toBeNull();
  });

  it("leaves nothing when its request is refused", async () => {
    const spare = new SpareObject({ delayMs: 0 });
    const pending: Promise<unknown>[] = [];
    spare.refill(env, (p) => pending.push(p));
    await Promise.all(pending);
    const prepared = prepareGenerationObject(env, UNCACHED, (p) => pending.push(p), spare)!;
    await prepared.ready;
    prepared.discard();
    await Promise.all(pending);
    expect(await stored(prepared.name)).toBe(0);
  });
});

describe("generation storage", () => {
  it("makes its tables before a run's first write, and again after deleteAll took them", async () => {
    const { name } = await madeSpare();
    await runInDurableObject(generationObject(env, name), async (_, state) => {
      const storage = new GenerationStorage(state.storage);
      expect(storage.latest()).toBeNull();
      const meta = { run: 1 } as never;
      storage.migrate();
      storage.putRun(meta);
      expect(storage.latest()).toMatchObject({ run: 1 });
      await storage.deleteAll();
      expect(storage.latest()).toBeNull();
      storage.migrate();
      storage.putRun(meta);
      expect(storage.latest()).toMatchObject({ run: 1 });
    });
  });

  it("writes a begun run only when told, or before any other write, and once", async () => {
    const { name } = await madeSpare();
    await runInDurableObject(generationObject(env, name), async (_, state) => {
      const tables = () => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master").one().n;
      const storage = new GenerationStorage(state.storage);
      storage.beginRun({ run: 1, status: "running" } as never);
      // Begun, nothing is written: not even the tables (the backend call goes out first).
      expect(tables()).toBe(0);
      expect(storage.writeBegun()).toBe(true);
      expect(storage.latest()).toMatchObject({ run: 1 });
      expect(storage.writeBegun()).toBe(false);

      // The next run: a batch written before writeBegun writes the run first, then forgets the older one.
      storage.putRun({ run: 1, status: "completed" } as never);
      storage.appendBatch(1, 0, ["data: old"], [1]);
      const second = { run: 2, status: "running" } as { run: number; status: string };
      storage.beginRun(second as never);
      expect(storage.latest()).toMatchObject({ run: 1 });
      second.status = "completed"; // the metadata as it is when written
      storage.appendBatch(2, 0, ["data: new"], [1]);
      expect(storage.latest()).toMatchObject({ run: 2, status: "completed" });
      expect(storage.events(1).events).toEqual([]);
      expect(storage.events(2).events).toEqual(["data: new"]);
      expect(storage.writeBegun()).toBe(false);

      // Beginning another run writes the one still unwritten; deleteAll forgets an unwritten one.
      storage.beginRun({ run: 3 } as never);
      storage.beginRun({ run: 4 } as never);
      expect(storage.latest()).toMatchObject({ run: 3 });
      await storage.deleteAll();
      expect(storage.writeBegun()).toBe(false);
      expect(tables()).toBe(0);
    });
  });
});
