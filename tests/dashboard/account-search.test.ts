import { describe, expect, it } from "vitest";
import type { Account, ListPage } from "../../shared/admin";
import { adminApi } from "../helpers/admin";
import { errorOf } from "../helpers/api";

const a = adminApi();

async function search(q: string, extra = ""): Promise<ListPage<Account>> {
  const res = await a.admin("GET", `/accounts?q=${encodeURIComponent(q)}${extra}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as ListPage<Account>;
}

describe("GET /admin/v1/accounts?q=: the dashboard's account search", () => {
  it("finds accounts by any part of the name in any case, or by the start of the id, newest first", async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    const first = await a.createAccount(`Tutor Co ${tag} north`);
    const second = await a.createAccount(`tutor co ${tag} SOUTH`);
    await a.createAccount(`Other ${crypto.randomUUID().slice(0, 8)}`);
    expect((await search(`co ${tag}`)).data.map((x) => x.id)).toEqual([second.id, first.id]);
    expect((await search(`${tag} NORTH`)).data.map((x) => x.id)).toEqual([first.id]);
    expect((await search(first.id.slice(0, 12))).data.map((x) => x.id)).toContain(first.id);
    expect((await search(first.id.slice(6))).data.map((x) => x.id)).not.toContain(first.id);
  });

  it("matches the text literally: LIKE's wildcards find only themselves", async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    const percent = await a.createAccount(`100% ${tag}`);
    await a.createAccount(`100 ${tag}`);
    const underscore = await a.createAccount(`a_b ${tag}`);
    await a.createAccount(`axb ${tag}`);
    expect((await search(`% ${tag}`)).data.map((x) => x.id)).toEqual([percent.id]);
    expect((await search(`a_b ${tag}`)).data.map((x) => x.id)).toEqual([underscore.id]);
    expect((await search("%")).data.every((x) => x.name.includes("%"))).toBe(true);
  });

  it("pages through the matches with the cursor, and finds hostile names as they were stored", async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    const names = Array.from({ length: 5 }, (_, i) => `<img src=x onerror=alert(${i})> ${tag}`);
    for (const name of names) await a.createAccount(name);
    const one = await search(tag, "&limit=3");
    expect(one.data).toHaveLength(3);
    expect(one.has_more).toBe(true);
    const two = await search(tag, `&limit=3&after=${one.next_cursor}`);
    expect(two.has_more).toBe(false);
    expect([...one.data, ...two.data].map((x) => x.name).sort()).toEqual([...names].sort());
  });

  it("refuses an empty or overlong search", async () => {
    for (const q of ["", "   ", "x".repeat(201)]) {
      const res = await a.admin("GET", `/accounts?q=${encodeURIComponent(q)}`);
      expect(res.status, q).toBe(400);
      expect((await errorOf(res)).param).toBe("q");
    }
  });
});
