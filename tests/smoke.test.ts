import { env } from "cloudflare:test";
import { expect, inject, it } from "vitest";
it("reaches a node server from workerd", async () => {
  const r = await fetch(inject("simUrl"));
  expect(await r.text()).toBe("placeholder");
  expect(env.ENVIRONMENT).toBe("development");
});
