import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { accountStub, adminApi, dumpD1 } from "../helpers/admin";
import { TEST_API_KEY } from "../helpers/api";
import { DEV_ACCOUNT_ID } from "../../worker/accounts/dev-account-service";
import { hashApiKey } from "../../worker/accounts/keys/key-format";

describe("DEV_API_KEY", () => {
  it("works in development, seeded into the dev account as a hash only", async () => {
    const a = adminApi();
    expect((await a.get("/v1/models")).status).toBe(200);
    const d1 = await dumpD1();
    expect(d1).toContain(await hashApiKey(TEST_API_KEY));
    expect(d1).not.toContain(TEST_API_KEY);
    const res = await a.admin("GET", `/accounts/${DEV_ACCOUNT_ID}/keys`);
    const [key] = ((await res.json()) as { data: { mode: string; prefix: string }[] }).data;
    expect(key).toMatchObject({ mode: "test" });
    expect(TEST_API_KEY.startsWith(key!.prefix) && key!.prefix.length < TEST_API_KEY.length / 2).toBe(true);
    const stored = await runInDurableObject(accountStub(DEV_ACCOUNT_ID), (_i, state) => JSON.stringify(state.storage.sql.exec("SELECT * FROM keys").toArray()));
    expect(stored).not.toContain(TEST_API_KEY);
  });

  it("is refused outside development, even once seeded", async () => {
    expect((await adminApi().get("/v1/models")).status).toBe(200);
    const deployed = adminApi({ ENVIRONMENT: "production" });
    const res = await deployed.get("/v1/models");
    expect(res.status).toBe(401);
  });

  it("follows a changed DEV_API_KEY: the new one works, the old one stops", async () => {
    const first = adminApi({ DEV_API_KEY: "limo_dev_first_key_for_this_test_0001" });
    expect((await first.withKey("limo_dev_first_key_for_this_test_0001", "/v1/models")).status).toBe(200);
    const second = adminApi({ DEV_API_KEY: "limo_dev_second_key_for_this_test_0002" });
    expect((await second.withKey("limo_dev_second_key_for_this_test_0002", "/v1/models")).status).toBe(200);
    expect((await second.withKey("limo_dev_first_key_for_this_test_0001", "/v1/models")).status).toBe(401);
  });

  it("stays revoked when an admin revokes it", async () => {
    const a = adminApi({ DEV_API_KEY: "limo_dev_revoked_key_for_this_test_03" });
    expect((await a.withKey("limo_dev_revoked_key_for_this_test_03", "/v1/models")).status).toBe(200);
    expect((await a.admin("DELETE", "/keys/key_dev")).status).toBe(200);
    expect((await a.withKey("limo_dev_revoked_key_for_this_test_03", "/v1/models")).status).toBe(401);
  });
});
