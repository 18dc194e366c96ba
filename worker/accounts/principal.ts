/**
 * @module principal
 * Who is calling, as types only: the key as checked offline (`Credential`),
 * the authorized caller (`Principal`), and the interface the bearer-auth
 * middleware asks (`Authenticator`, implemented in auth-service.ts).
 */

/** The authenticated caller of one request. */
export interface Principal {
  accountId: string;
  keyId: string;
  /**
   * "test" keys (`limo_test_…`, and the development key) are never billed and
   * must never reach a GPU: routing sends them to the simulator.
   */
  mode: "live" | "test";
  /** Public model ids this key may use; null for every model. See assertModelAllowed. */
  models: readonly string[] | null;
  /** The end user every request is for, when the caller is a client token (bound to one). */
  endUser?: string | null;
  /** The client token making the request, if any. */
  clientTokenId?: string;
}

/** A presented key that passed the offline checks (format, checksum): who it claims to be. */
export interface Credential {
  accountId: string;
  keyHash: string;
  /** Stored-safe prefix, for seeding the dev key. */
  prefix: string;
  isDevKey: boolean;
  /** The request's `Origin`, or null when it has none (not a browser). */
  origin: string | null;
  /** A client token (`limo_ct_…`), not an API key: only the routes of client-token-scope.ts accept it. */
  clientToken?: boolean;
}

export interface Authenticator {
  /** Offline checks only: a malformed or forged key is a 401 before any storage is touched. */
  identify(secret: string, request: Request): Promise<Credential>;
  /** Asks the account's object whether the key may be used now (401/403 if not). */
  authorize(credential: Credential): Promise<Principal>;
}
