/**
 * @module generate-document
 * The OpenAPI document, admin API included, as zod-to-openapi's generator
 * makes it from an app's route registry: what scripts/build-openapi.ts writes
 * and the Worker serves, and what tests/admin/openapi-build.test.ts checks it
 * against. Only the build and the tests import this module, and before the
 * app (it extends zod, as `@hono/zod-openapi` does when it loads); the
 * Worker's bundle must not (it would bring the generator and all of zod back).
 */
import { extendZodWithOpenApi, OpenApiGeneratorV31 } from "@asteasolutions/zod-to-openapi";
import * as z from "zod";
import type { App } from "../hono-env";

extendZodWithOpenApi(z);

/** `schema.openapi(refId)`, also for a schema made before zod was extended (its instance lacks the method). */
function withRefId(schema: z.ZodType, refId: string): z.ZodType {
  return z.ZodType.prototype.openapi.call(schema, refId);
}

type Definitions = ConstructorParameters<typeof OpenApiGeneratorV31>[0];

export function generateOpenApiDocument(app: App): object {
  // zod-openapi-runtime's registry keeps a named schema's refId beside it; zod-to-openapi's applies it.
  const definitions = (app.openAPIRegistry.definitions as unknown as Record<string, unknown>[]).map((d) =>
    d.type === "schema" && typeof d.refId === "string" ? { type: "schema", schema: withRefId(d.schema as z.ZodType, d.refId) } : d,
  ) as unknown as Definitions;
  return new OpenApiGeneratorV31(definitions).generateDocument({
    openapi: "3.1.0",
    info: {
      title: "LIMO Reasoning API",
      version: "1.0.0",
      description:
        "An OpenAI-compatible API for the LIMO reasoning model (GAIR/LIMO). Every OpenAI client works unchanged: " +
        "point its base URL at `/v1` and use your API key. Errors use OpenAI's envelope; `x-request-id` identifies each request.",
    },
  });
}
