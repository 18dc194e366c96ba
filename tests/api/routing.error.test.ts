import { describe, expect, it } from "vitest";
import { api, errorOf, TEST_API_KEY } from "../helpers/api";

describe("routing and auth", () => {
  const a = api();

  it("answers an unknown path with a 404 envelope", async () => {
    const res = await a.get("/v1/nope");
    expect(res.status).toBe(404);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(await errorOf(res)).toMatchObject({ code: "not_found" });
  });

  it("answers a wrong method with a 405 and Allow", async () => {
    const res = await a.get("/v1/chat/completions");
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toContain("POST");
    expect(await errorOf(res)).toMatchObject({ code: "method_not_allowed" });
  });

  it("serves /healthz without auth", async () => {
    const res = await a.fetch("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  it.each([
    ["no Authorization header", undefined],
    ["a wrong key", "Bearer limo_wrong"],
    ["a malformed header", `Basic ${TEST_API_KEY}`],
    ["an empty bearer", "Bearer "],
  ])("refuses %s with 401 invalid_api_key", async (_name, header) => {
    const res = await a.fetch("/v1/models", { headers: header ? { authorization: header } : {} });
    expect(res.status).toBe(401);
    const error = await errorOf(res);
    expect(error.code).toBe("invalid_api_key");
    expect(JSON.stringify(error)).not.toContain(TEST_API_KEY);
  });

  it("refuses the dev key outside development", async () => {
    const prod = api({ ENVIRONMENT: "production" });
    const res = await prod.get("/v1/models");
    expect(res.status).toBe(401);
  });

  it("validates auth before the body", async () => {
    const res = await a.fetch("/v1/chat/completions", { method: "POST", body: "{not json" });
    expect(res.status).toBe(401);
  });
});

describe("models", () => {
  const a = api();

  it("lists every deployed model with its context length", async () => {
    const res = await a.get("/v1/models");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; data: { id: string; object: string; max_model_len: number }[] };
    expect(body.object).toBe("list");
    expect(body.data.map((m) => m.id)).toEqual(["limo", "limo-v2"]);
    expect(body.data[0]).toMatchObject({ object: "model", max_model_len: 32768, owned_by: "GAIR" });
  });

  it("lists only models some backend serves", async () => {
    const only = api({ BACKENDS: JSON.stringify([{ name: "a", url: "http://127.0.0.1:1", models: ["GAIR/LIMO-v2"] }]) });
    const body = (await (await only.get("/v1/models")).json()) as { data: { id: string }[] };
    expect(body.data.map((m) => m.id)).toEqual(["limo-v2"]);
  });

  it("retrieves one model by alias or served name", async () => {
    expect(((await (await a.get("/v1/models/limo")).json()) as { id: string }).id).toBe("limo");
    expect(((await (await a.get("/v1/models/GAIR/LIMO")).json()) as { id: string }).id).toBe("limo");
  });

  it("answers an unknown model with a 404", async () => {
    const res = await a.get("/v1/models/gpt-4o");
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toMatchObject({ code: "model_not_found" });
  });

  it("answers a misconfigured BACKENDS with a 500 that names nothing internal", async () => {
    const bad = api({ BACKENDS: '[{"name":"x"}]' });
    const res = await bad.get("/v1/models");
    expect(res.status).toBe(500);
    const error = await errorOf(res);
    expect(error.code).toBe("misconfigured");
    expect(error.message).not.toMatch(/BACKENDS|url/);
  });
});
