/**
 * @module zod-openapi-runtime
 * What the Worker's bundle has in place of `@hono/zod-openapi` (wrangler.toml's
 * `[alias]`): `OpenAPIHono` with `app.openapi` (the same validators, from
 * `@hono/zod-validator`, the same hook, the same routing) and a route registry
 * that records definitions exactly as zod-to-openapi's `OpenAPIRegistry` does,
 * plus `createRoute`; but not the document generator, which no request needs,
 * nor `extendZodWithOpenApi(z)` at load, which pulls all of zod (its locales
 * and JSON-schema converters) into the bundle.
 *
 * The document is generated at build time from the same routes
 * (scripts/build-openapi.ts, with the real package) and served as built
 * (openapi-routes.ts); tests/admin/openapi-build.test.ts generates it again
 * from this registry, in workerd, and fails when the two differ. Route
 * authors change nothing: `createRoute`, `app.openapi` and `documentedRoute`
 * work as before.
 *
 * Ported from @hono/zod-openapi 1.6.3 (MIT), `src/index.ts`: `openapi`,
 * `openapiRoutes`, `createRoute` and the media-type checks, unchanged in
 * behaviour; `route()` of sub-apps and `basePath()` are not used here and
 * throw, so nothing silently differs.
 */
import { zValidator } from "@hono/zod-validator";
import { Hono, type Env, type MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";

type Definition = { type: string } & Record<string, unknown>;
type AnyHook = (result: unknown, c: unknown) => unknown;
type Validated = Parameters<typeof zValidator>;

interface Route {
  method: string;
  path: string;
  middleware?: MiddlewareHandler | MiddlewareHandler[];
  hide?: boolean;
  request?: {
    query?: unknown;
    params?: unknown;
    headers?: unknown;
    cookies?: unknown;
    body?: { content?: Record<string, { schema?: unknown } | undefined>; required?: boolean };
  };
}

const UNSUPPORTED = "not used by this Worker: add it to worker/http/openapi/zod-openapi-runtime.ts first";

/** zod-to-openapi's `OpenAPIRegistry`, the recording half: the generator reads `definitions`. */
export class OpenAPIRegistry {
  readonly _definitions: Definition[] = [];

  get definitions(): Definition[] {
    return [...this._definitions];
  }

  registerPath(route: unknown): void {
    this._definitions.push({ type: "route", route });
  }

  registerWebhook(webhook: unknown): void {
    this._definitions.push({ type: "webhook", webhook });
  }

  registerComponent(componentType: string, name: string, component: unknown): { name: string; ref: { $ref: string } } {
    this._definitions.push({ type: "component", componentType, name, component });
    return { name, ref: { $ref: `#/components/${componentType}/${name}` } };
  }

  /**
   * Records a named schema. zod-to-openapi's returns the schema with its
   * refId (`schema.openapi(refId)`, which needs zod extended); this one
   * returns the schema itself and keeps the refId beside it, for
   * generate-document.ts to apply (the routes never use the returned schema).
   */
  register<T>(refId: string, schema: T): T {
    this._definitions.push({ type: "schema", refId, schema });
    return schema;
  }

  registerParameter(): never {
    throw new Error(`OpenAPIRegistry#registerParameter is ${UNSUPPORTED}`);
  }
}

function isZod(x: unknown): boolean {
  if (!x || typeof x !== "object") return false;
  const s = x as Record<string, unknown>;
  return typeof s.parse === "function" && typeof s.safeParse === "function" && typeof s.parseAsync === "function" && typeof s.safeParseAsync === "function";
}

export class OpenAPIHono<E extends Env = Env> extends Hono<E> {
  openAPIRegistry = new OpenAPIRegistry();
  defaultHook: AnyHook | undefined;

  constructor(init?: ConstructorParameters<typeof Hono<E>>[0] & { defaultHook?: AnyHook }) {
    super(init);
    this.defaultHook = init?.defaultHook;
  }

  openapi = ({ middleware: routeMiddleware, hide, ...route }: Route, handler: MiddlewareHandler, hook?: AnyHook): this => {
    if (!hide) this.openAPIRegistry.registerPath(route);
    const effectiveHook = (hook ?? ((result: unknown, c: unknown) => this.defaultHook?.(result, c))) as Validated[2];
    const validators: MiddlewareHandler[] = [];
    const validate = (target: Validated[0], schema: unknown) => zValidator(target, schema as Validated[1], effectiveHook) as MiddlewareHandler;
    if (route.request?.query) validators.push(validate("query", route.request.query));
    if (route.request?.params) validators.push(validate("param", route.request.params));
    if (route.request?.headers) validators.push(validate("header", route.request.headers));
    if (route.request?.cookies) validators.push(validate("cookie", route.request.cookies));
    const bodyContent = route.request?.body?.content;
    if (bodyContent) {
      const declaredMediaTypes = Object.keys(bodyContent);
      if (declaredMediaTypes.some((m) => isZod(bodyContent[m]?.schema) && (isJSONContentType(m) || isFormContentType(m)))) {
        validators.push(async (c, next) => {
          const contentType = c.req.header("content-type");
          if (contentType) {
            if (!declaredMediaTypes.some((m) => matchesMediaType(contentType, m))) throw new HTTPException(415, { message: "Unsupported Media Type" });
          } else if (await hasRequestBody(c.req.raw, () => c.req.arrayBuffer())) throw new HTTPException(415, { message: "Unsupported Media Type" });
          await next();
        });
      }
      for (const mediaType of declaredMediaTypes) {
        const schema = bodyContent[mediaType]?.schema;
        if (!isZod(schema)) continue;
        for (const [target, matches] of [["json", isJSONContentType], ["form", isFormContentType]] as const) {
          if (!matches(mediaType)) continue;
          const validator = validate(target, schema);
          if (route.request?.body?.required) validators.push(validator);
          else {
            validators.push(async (c, next) => {
              const contentType = c.req.header("content-type");
              if (contentType && matches(contentType)) return validator(c, next);
              c.req.addValidatedData(target, {});
              await next();
            });
          }
        }
      }
    }
    const middleware = routeMiddleware ? (Array.isArray(routeMiddleware) ? routeMiddleware : [routeMiddleware]) : [];
    this.on([route.method], [route.path.replaceAll(/\/{(.+?)}/g, "/:$1")], ...(middleware as []), ...(validators as []), handler as never);
    return this;
  };

  openapiRoutes = (inputs: { route: Route; handler: MiddlewareHandler; hook?: AnyHook; addRoute?: boolean }[]): this => {
    for (const { route, handler, hook, addRoute } of inputs) if (addRoute !== false) this.openapi(route, handler, hook);
    return this;
  };

  getOpenAPIDocument = (): never => {
    throw new Error("The OpenAPI document is generated at build time (scripts/build-openapi.ts), not in the Worker.");
  };

  getOpenAPI31Document = this.getOpenAPIDocument;

  override route(): never {
    throw new Error(`OpenAPIHono#route is ${UNSUPPORTED}`);
  }

  override basePath(): never {
    throw new Error(`OpenAPIHono#basePath is ${UNSUPPORTED}`);
  }
}

export const createRoute = <R extends Route>(routeConfig: R): R => {
  const route = { ...routeConfig, getRoutingPath: () => routeConfig.path.replaceAll(/\/{(.+?)}/g, "/:$1") };
  return Object.defineProperty(route, "getRoutingPath", { enumerable: false });
};

export const $ = <T>(app: T): T => app;
export const defineOpenAPIRoute = <T>(def: T): T => def;

export function extendZodWithOpenApi(): never {
  throw new Error(`extendZodWithOpenApi is ${UNSUPPORTED}`);
}

function isJSONContentType(contentType: string): boolean {
  return /^application\/([a-z-.]+\+)?json/i.test(contentType);
}

function isFormContentType(contentType: string): boolean {
  const lower = contentType.toLowerCase();
  return lower.startsWith("multipart/form-data") || lower.startsWith("application/x-www-form-urlencoded");
}

const jsonRequestRegex = /^application\/([a-z-.]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i;
const multipartRequestRegex = /^multipart\/form-data(;\s?boundary=[a-zA-Z0-9'"()+_,\-./:=?]+)?$/i;
const urlencodedRequestRegex = /^application\/x-www-form-urlencoded(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i;

function matchesMediaType(contentType: string, mediaType: string): boolean {
  if (mediaType === "*/*") return true;
  if (isJSONContentType(mediaType)) return jsonRequestRegex.test(contentType);
  if (isFormContentType(mediaType)) return multipartRequestRegex.test(contentType) || urlencodedRequestRegex.test(contentType);
  const essence = contentType.split(";")[0]!.trim().toLowerCase();
  if (mediaType.endsWith("/*")) return essence.startsWith(mediaType.slice(0, -1).toLowerCase());
  return essence === mediaType.toLowerCase();
}

async function hasRequestBody(raw: Request, readUsed: () => Promise<ArrayBuffer>): Promise<boolean> {
  if (raw.body === null) return false;
  if (raw.bodyUsed) return (await readUsed()).byteLength > 0;
  const body = raw.clone().body;
  if (body === null) return false;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return false;
      if (value.byteLength > 0) return true;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
