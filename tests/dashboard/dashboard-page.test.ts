/**
 * The dashboard page as Workers' static assets serve it (wrangler.toml
 * [assets]): read through the ASSETS binding, since SELF is the Worker's own
 * entry, which assets bypass in front of it. The browser tests
 * (tests/node/dashboard-browser.test.ts) load it from `wrangler dev`.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

declare global {
  namespace Cloudflare {
    interface Env {
      /** wrangler.toml [assets] binding. */
      ASSETS: Fetcher;
    }
  }
}

const page = () => env.ASSETS.fetch("https://limo.example/dashboard");

/** The src/href of every <script> and stylesheet <link> of the page. */
function assetUrls(html: string): string[] {
  return [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
}

describe("/dashboard", () => {
  it("is served with a strict Content-Security-Policy and no-cache", async () => {
    const res = await page();
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    const csp = Object.fromEntries((res.headers.get("content-security-policy") ?? "").split(";").map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v.join(" ")]));
    expect(csp).toEqual({
      "default-src": "'none'",
      "script-src": "'self'",
      "style-src": "'self'",
      "img-src": "'self'",
      "connect-src": "'self'",
      "base-uri": "'none'",
      "form-action": "'none'",
      "frame-ancestors": "'none'",
    });
    await res.text();
  });

  it("has no inline script, style or event handler, and names only its own hashed assets", async () => {
    const html = await (await page()).text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style\b/);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    const urls = assetUrls(html);
    expect(urls).toHaveLength(3);
    for (const url of urls) expect(url).toMatch(/^\/dashboard\/assets\/[a-z]+-[A-Za-z0-9]+\.(js|css|svg)$/);
  });

  it("serves its script, stylesheet and icon, cached for good under content-hashed names", async () => {
    const html = await (await page()).text();
    for (const url of assetUrls(html)) {
      const res = await env.ASSETS.fetch(`https://limo.example${url}`);
      expect(res.status, url).toBe(200);
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      const body = await res.text();
      expect(body.length).toBeGreaterThan(100);
      if (url.endsWith(".js")) expect(body).toContain("uplot");
    }
  });

  it("is not part of the Worker: the Worker itself answers /dashboard with its 404, and does not serve _headers", async () => {
    const res = await SELF.fetch("https://limo.example/dashboard");
    expect(res.status).toBe(404);
    await res.text();
    expect((await env.ASSETS.fetch("https://limo.example/_headers")).status).toBe(404);
  });
});
