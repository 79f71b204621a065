/** The system's words for an errno code ("ENOSPC" → "no space left on device"), if it knows it. */
import { getSystemErrorMap } from "node:util";

export function errnoMessage(code: string): string | undefined {
  for (const [name, message] of getSystemErrorMap().values()) if (name === code) return message;
  return undefined;
}

/** ENOSPC and EDQUOT: no room to write, which freeing space fixes. */
export function isDiskFull(code: string): boolean {
  return code === "ENOSPC" || code === "EDQUOT";
}
