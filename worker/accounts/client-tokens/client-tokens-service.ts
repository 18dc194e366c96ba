/**
 * @module client-tokens-service
 * `POST /v1/client_tokens`: a platform's server, holding an API key, mints a
 * short-lived token for one end user's browser. The secret is made here (in
 * the key's mode, routed to the key's account), shown once in the answer, and
 * only its SHA-256 goes to the account's object, which authorizes the key
 * again and refuses a token wider than its key.
 */
import { CLIENT_TOKEN_DEFAULT_TTL_SECONDS, type ClientToken, type CreateClientTokenRequest } from "../../../shared/client-tokens";
import { ApiError } from "../../core/errors";
import { accountObject, type MintClientTokenResult } from "../account-rpc";
import { refusal, type AuthEnv } from "../auth-service";
import { hashApiKey, isRoutableAccountId } from "../keys/key-format";
import type { Credential, Principal } from "../principal";
import { generateClientToken, newClientTokenId } from "./client-token-format";

/** Mints a client token with the presenting API key; `knownModels` are the deployment's public model ids. */
export async function mintClientToken(
  env: Pick<AuthEnv, "ACCOUNTS">,
  credential: Credential,
  principal: Principal,
  input: CreateClientTokenRequest,
  knownModels: readonly string[],
  now = Date.now(),
): Promise<ClientToken> {
  if (credential.isDevKey || !isRoutableAccountId(credential.accountId)) {
    throw new ApiError("permission_denied", "The development key cannot mint client tokens; use an account's API key.");
  }
  const unknown = input.models?.find((m) => !knownModels.includes(m));
  if (unknown !== undefined) throw new ApiError("invalid_value", `Invalid value for 'models': no model '${unknown}'.`, { param: "models" });
  const secret = generateClientToken(credential.accountId, principal.mode);
  const expiresAt = now + (input.expires_in_seconds ?? CLIENT_TOKEN_DEFAULT_TTL_SECONDS) * 1000;
  const result = (await accountObject(env, credential.accountId).mintClientToken({
    accountId: credential.accountId,
    keyHash: credential.keyHash,
    origin: credential.origin,
    now,
    token: {
      id: newClientTokenId(),
      hash: await hashApiKey(secret),
      endUser: input.end_user,
      models: input.models ?? null,
      origins: input.origins ?? null,
      maxTotalTokens: input.max_total_tokens ?? null,
      maxRequests: input.max_requests ?? null,
      createdAt: now,
      expiresAt,
    },
  })) as MintClientTokenResult;
  if (!result.ok) {
    if (result.kind === "auth") throw refusal(result.refusal, credential.accountId);
    throw new ApiError("invalid_value", `Invalid value for '${result.param}': '${result.value}' is not allowed for this API key.`, { param: result.param });
  }
  const t = result.token;
  return {
    object: "client_token",
    id: t.id,
    token: secret,
    mode: t.mode,
    end_user: t.endUser,
    created_at: Math.floor(t.createdAt / 1000),
    expires_at: Math.floor(t.expiresAt / 1000),
    models: t.models,
    origins: t.origins,
    max_total_tokens: t.maxTotalTokens,
    max_requests: t.maxRequests,
    key_id: t.keyId,
  };
}
