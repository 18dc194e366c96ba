/**
 * The OpenAPI document is generated at build time (scripts/build-openapi.ts)
 * and served as built; the Worker's bundle has zod-openapi's routes and
 * validators but not its generator (worker/http/openapi/zod-openapi-runtime.ts,
 * wrangler.toml's [alias]). These tests generate the document again, here,
 * from the routes the app registers, and fail when the served one differs:
 * a route added or changed without rebuilding the document is caught.
 */
import { describe, expect, it } from "vitest";
// The generator first: it extends zod before the app's schemas are made, as in the build.
import { generateOpenApiDocument } from "../../worker/http/openapi/generate-document";
import { newApp } from "../../worker/app";
import { adminApi } from "../helpers/admin";
import { api } from "../helpers/api";

/** The document as JSON would carry it (the generator's output may hold undefined values). */
const asJson = (document: object) => JSON.parse(JSON.stringify(document)) as { paths: Record<string, unknown> };

describe("the built OpenAPI document", () => {
  it("is exactly what the generator makes of the app's routes", async () => {
    const served = (await (await adminApi().fetch("/openapi.json")).json()) as object;
    const generated = asJson(generateOpenApiDocument(newApp()));
    expect(Object.keys(generated.paths).length).toBeGreaterThan(10);
    expect(served).toEqual(generated);
  });

  it("without ADMIN_TOKEN, is that document without the admin API", async () => {
    const res = await api({ ADMIN_TOKEN: undefined }).fetch("/openapi.json");
    expect(res.headers.get("content-type")).toContain("application/json");
    const served = (await res.json()) as { paths: Record<string, unknown>; components: { securitySchemes: Record<string, unknown> } };
    const generated = asJson(generateOpenApiDocument(newApp()));
    expect(Object.keys(served.paths)).toEqual(Object.keys(generated.paths).filter((p) => !p.startsWith("/admin/")));
    expect(Object.keys(served.components.securitySchemes)).toEqual(["ApiKey"]);
  });

  it("is not generated in the Worker: its app has the registry, not the generator", () => {
    expect(() => newApp().getOpenAPI31Document({ openapi: "3.1.0", info: { title: "x", version: "1" } })).toThrow(/build time/);
  });
});
