import { expect, inject, it } from "vitest";
it("node project works", async () => {
  expect(inject("simUrl")).toMatch(/^http/);
});
