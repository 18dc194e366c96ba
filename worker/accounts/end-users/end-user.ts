/**
 * @module end-user
 * Who a generation request is for: its end user, derived the same way on
 * every endpoint that generates (`/v1/chat/completions`, `/v1/completions`,
 * and the Responses API when it lands). Pure.
 *
 * The end user is `safety_identifier` (at most 64 characters, enforced by the
 * schema), else `user` when it is at most 64 characters. A longer legacy
 * `user` (the schema allows 256, as before) is still accepted and ignored as
 * an end user: the request is then one without an end user (so an account
 * with `require_end_user` refuses it, naming `safety_identifier`). Identifiers
 * are opaque: platforms should send a hash of their own user id, never an
 * e-mail address or a name.
 */
import { MAX_END_USER_CHARS } from "../../../shared/end-users";

/** The body fields that can name an end user. */
export interface EndUserFields {
  safety_identifier?: string | null;
  user?: string | null;
}

/** The request's end user, or null when it names none (or only a `user` too long to be one). */
export function endUserOf(body: EndUserFields): string | null {
  const safety = body.safety_identifier;
  if (typeof safety === "string" && safety.length > 0) return safety;
  const user = body.user;
  if (typeof user === "string" && user.length > 0 && user.length <= MAX_END_USER_CHARS) return user;
  return null;
}

/** The body field a refusal about the end user names: the one the request used, else `safety_identifier`. */
export function endUserParam(body: EndUserFields): "safety_identifier" | "user" {
  return body.safety_identifier == null && body.user != null ? "user" : "safety_identifier";
}
