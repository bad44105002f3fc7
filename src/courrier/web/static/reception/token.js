// Signed QR tokens, verified in the browser: the same bytes and rules as src/courrier/codes/token.py.
//
// A token is 79 bytes, base45-encoded (RFC 9285) into 119 characters of the QR alphanumeric set:
//   offset 0  1 byte   format version: 1
//          1  2 bytes  signing key id, big-endian
//          3  4 bytes  campaign id, big-endian
//          7  4 bytes  code id, big-endian
//         11  2 bytes  valid from: days since 1970-01-01, big-endian
//         13  2 bytes  valid until (last valid day): days since 1970-01-01, big-endian
//         15 64 bytes  Ed25519 signature of bytes 0..14
// Error codes are token.py's: bad_token, unsupported_version, unknown_key, bad_signature,
// wrong_campaign, code_revoked, token_not_yet_valid, token_expired.

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
const VALUES = new Map([...ALPHABET].map((character, index) => [character, index]));
export const VERSION = 1;
export const CLAIMS_BYTES = 15;
export const TOKEN_BYTES = CLAIMS_BYTES + 64;
const DAY_MS = 86400000;

export class TokenError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

// RFC 9285: each 3 characters c d e give the 16-bit value c + 45 d + 45² e, two trailing characters
// one byte; anything else (a lone trailing character, a value out of range) is not base45.
export function base45Decode(text) {
  const out = new Uint8Array(Math.floor(text.length / 3) * 2 + (text.length % 3 === 2 ? 1 : 0));
  if (text.length % 3 === 1) throw new TokenError("bad_token", "not a token (not base45: bad length)");
  let at = 0;
  for (let i = 0; i < text.length; i += 3) {
    const group = text.slice(i, i + 3);
    let value = 0;
    for (let j = group.length - 1; j >= 0; j -= 1) {
      const digit = VALUES.get(group[j]);
      if (digit === undefined) throw new TokenError("bad_token", `not a token (not base45: ${group[j]})`);
      value = value * 45 + digit;
    }
    if (group.length === 3) {
      if (value > 0xffff) throw new TokenError("bad_token", "not a token (not base45: group too large)");
      out[at++] = value >> 8;
      out[at++] = value & 0xff;
    } else {
      if (value > 0xff) throw new TokenError("bad_token", "not a token (not base45: group too large)");
      out[at++] = value;
    }
  }
  return out;
}

// What a scanner read from a letter: the whole text, or in a URL its last query value or else its last
// path segment, percent-decoded (token.py's token_in_qr).
export function tokenInQr(scanned) {
  const text = scanned.replace(/^[\r\n]+|[\r\n]+$/g, "");
  if (!/^https?:\/\//i.test(text)) return text;
  // The raw text, not URL(): its parser would re-encode what a percent-encoded token holds.
  const rest = text.replace(/^https?:\/\/[^/?#]*/i, "").split("#")[0];
  const question = rest.indexOf("?");
  const part = question >= 0 && question < rest.length - 1
    ? rest.slice(question + 1).split("&").pop().split("=").pop()
    : (question >= 0 ? rest.slice(0, question) : rest).split("/").pop();
  return unquote(part);
}

// Python's urllib.parse.unquote: a malformed escape stays as it is instead of failing.
function unquote(text) {
  return text.replace(/(%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

export function dayNumber(isoDate) {
  return Math.round(Date.parse(`${isoDate}T00:00:00Z`) / DAY_MS);
}

function isoDay(days) {
  return new Date(days * DAY_MS).toISOString().slice(0, 10);
}

function base64Bytes(text) {
  return Uint8Array.from(atob(text), (character) => character.charCodeAt(0));
}

// {key id: base64 of the 32-byte Ed25519 public key} (the public key file's "ed25519") -> CryptoKeys.
export async function importPublicKeys(keys) {
  const imported = new Map();
  for (const [id, raw] of Object.entries(keys)) {
    const key = await crypto.subtle.importKey("raw", base64Bytes(raw), { name: "Ed25519" }, false, ["verify"]);
    imported.set(Number(id), key);
  }
  return imported;
}

// The claims of a genuine token valid on `today` (YYYY-MM-DD); a TokenError otherwise. The checks run in
// token.py's order, so both sides refuse a token for the same reason. With `checkDates` false the dates
// are not judged (a centre checks in a booked dose 2 after the code's validity ended).
export async function verifyToken(
  token,
  publicKeys,
  today,
  { campaignId = null, revoked = new Set(), checkDates = true } = {},
) {
  const raw = base45Decode(token.replace(/^[\r\n]+|[\r\n]+$/g, "").toUpperCase());
  if (raw.length !== TOKEN_BYTES) {
    throw new TokenError("bad_token", `not a token: ${raw.length} bytes, expected ${TOKEN_BYTES}`);
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const version = view.getUint8(0);
  const keyId = view.getUint16(1);
  const claims = {
    keyId,
    campaignId: view.getUint32(3),
    codeId: view.getUint32(7),
    validFrom: isoDay(view.getUint16(11)),
    validUntil: isoDay(view.getUint16(13)),
  };
  if (version !== VERSION) {
    throw new TokenError("unsupported_version", `token format version ${version} is not supported`);
  }
  const key = publicKeys.get(keyId);
  if (key === undefined) throw new TokenError("unknown_key", `token signed with key id ${keyId}, not one given`);
  const genuine = await crypto.subtle.verify(
    { name: "Ed25519" },
    key,
    raw.subarray(CLAIMS_BYTES),
    raw.subarray(0, CLAIMS_BYTES),
  );
  if (!genuine) throw new TokenError("bad_signature", "signature does not match: the token is forged or altered");
  if (campaignId !== null && claims.campaignId !== campaignId) {
    throw new TokenError("wrong_campaign", `token of campaign ${claims.campaignId}, not of campaign ${campaignId}`);
  }
  if (revoked.has(claims.codeId)) throw new TokenError("code_revoked", `code ${claims.codeId} is revoked`);
  if (!checkDates) return claims;
  if (today < claims.validFrom) throw new TokenError("token_not_yet_valid", `token valid from ${claims.validFrom} only`);
  if (today > claims.validUntil) throw new TokenError("token_expired", `token expired on ${claims.validUntil}`);
  return claims;
}
