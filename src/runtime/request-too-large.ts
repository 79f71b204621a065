/**
 * A control request longer than MAX_REQUEST_BYTES (1 MiB). Only a plan makes a request that long: a plan's
 * step takes some hundred bytes, so 1 MiB is thousands of steps, or `code_change` `extra` values that
 * carry data. The client refuses such a request before sending it; the node refuses a line that grows
 * past the limit and closes the connection. Both say the same thing, and what to do.
 */
import { MAX_REQUEST_BYTES } from "./control-protocol.ts";

const FIX =
  "keep each code_change `extra` small (ship bulky data in the new release, as a module or env its codeChange reads), or upgrade through an intermediate release so that each plan changes fewer modules (docs/reference.md, Limits).";

/** `bytes`: the request's size when known (the client knows it; the node stops reading at the limit). */
export function requestTooLargeMessage(what: string, bytes?: number): string {
  const size = bytes === undefined ? `over ${MAX_REQUEST_BYTES} bytes` : `${bytes} bytes`;
  return `${what} is ${size}, over the control socket's limit of ${MAX_REQUEST_BYTES} bytes (1 MiB) per request; the plan travels inside the request. Fix: ${FIX}`;
}
