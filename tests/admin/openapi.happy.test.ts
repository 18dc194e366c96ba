import { describe, expect, it } from "vitest";
import { newApp } from "../../worker/app";
import { adminApi } from "../helpers/admin";

/** Routes that serve the documentation itself rather than the API. */
const DOCUMENTATION_ROUTES = new Set(["GET /openapi.json", "GET /docs"]);

interface Document {
  openapi: string;
  paths: Record<string, Record<string, { security?: Record<string, unknown>[]; requestBody?: unknown }>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { type: string; scheme: string }> };
}

describe("OpenAPI document and reference", () => {
  const a = adminApi();

  it("serves an OpenAPI 3.1 document without a key, covering public and admin routes", async () => {
    const res = await a.fetch("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Document;
    expect(doc.openapi).toBe("3.1.0");
    // Every route is documented (later routes add to the list).
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/admin/v1/accounts",
        "/admin/v1/accounts/{id}",
        "/admin/v1/accounts/{id}/keys",
        "/admin/v1/keys/{key_id}",
        "/admin/v1/keys/{key_id}/rotate",
        "/healthz",
        "/v1/chat/completions",
        "/v1/completions",
        "/v1/models",
        "/v1/models/{id}",
        "/admin/v1/accounts/{id}/usage",
        "/v1/usage",
      ]),
    );
    expect(doc.components.securitySchemes).toMatchObject({ ApiKey: { type: "http", scheme: "bearer" }, AdminToken: { type: "http", scheme: "bearer" } });
    expect(doc.paths["/v1/chat/completions"]!.post!.security).toEqual([{ ApiKey: [] }]);
    expect(doc.paths["/admin/v1/accounts"]!.post!.security).toEqual([{ AdminToken: [] }]);
    for (const id of ["ChatCompletionRequest", "CreateAccountRequest", "CreateKeyRequest", "Account", "ApiKey", "CreatedApiKey", "Error"]) {
      expect(doc.components.schemas).toHaveProperty(id);
    }
  });

  it("documents exactly the routes the app registers, each method once", async () => {
    const doc = (await (await a.fetch("/openapi.json")).json()) as Document;
    const documented = Object.entries(doc.paths).flatMap(([path, operations]) => Object.keys(operations).map((m) => `${m.toUpperCase()} ${path}`));
    // Hono's `:id` (with an optional pattern, `:id{.+}`) is OpenAPI's `{id}`; `ALL` entries are middleware.
    const registered = new Set(
      newApp()
        .routes.filter((r) => r.method !== "ALL")
        .map((r) => `${r.method} ${r.path.replaceAll(/:(\w+)(\{[^}]*\})?/g, "{$1}")}`)
        .filter((route) => !DOCUMENTATION_ROUTES.has(route)),
    );
    expect(documented.toSorted()).toEqual([...registered].toSorted());
    expect(documented).toEqual(expect.arrayContaining(["GET /v1/generations/{id}", "GET /v1/generations/{id}/stream", "POST /v1/generations/{id}/cancel"]));
  });

  it("serves an API reference page", async () => {
    const res = await a.fetch("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("/openapi.json");
  });
});
