/** Stream ids and tokens: 128 random bits, base64url, 22 characters. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/** 128 bits from the platform's CSPRNG (`crypto.getRandomValues`), base64url without padding. */
export function randomId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** SHA-256 of a string's UTF-8 bytes, as hex (Web Crypto: works in Node, Deno, Bun, workers). */
export async function sha256Hex(value: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)));
  let hex = "";
  for (const byte of digest) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/**
 * Compares two strings of equal length in time that does not depend on where they differ. Used on
 * SHA-256 digests of the tokens, so the length is fixed and leaks nothing; the loop has no early
 * exit and no data-dependent branch (the same technique as `crypto.timingSafeEqual`, which is not
 * available outside Node).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}
