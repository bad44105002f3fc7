// Judging a scan without the server, from the offline day list (GET /api/v1/centres/{id}/offline).
//
// What it can decide: whether a signed token is genuine (Ed25519, the campaign's public keys), which of
// today's bookings at this centre a QR or a typed code names, whether it is too early or too late by the
// campaign's tolerances, whether the booking was cancelled, and whether it was checked in already,
// before the list was fetched or at this desk since. What it cannot: check-ins at other desks since the
// list was fetched, revocations since then, walk-ins. The server judges every queued check-in again
// when it is uploaded, and reports a conflict for those.

import { TokenError, importPublicKeys, tokenInQr, verifyToken } from "./token.js";

const RECEPTION_PREFIX = "RDV1:";
const TOKEN_CHARS = 119;
const REFERENCE = /^[0-9A-Z]{1,16}$/;
const REFERENCE_CHARS = 8;
// A national id (the social-security card's 13 digits): found in the register, which only the server has.
const NATIONAL_ID = /^[0-9]{13}$/;

function refused(code, facts = {}, booking = null) {
  return { status: "refused", reason: { code, ...facts }, booking };
}

function toHex(buffer) {
  return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

// The list's code_fingerprint: the first 32 hex characters of SHA-256(salt ":" COMPACT).
export async function fingerprint(salt, compact) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${salt}:${compact}`));
  return toHex(digest).slice(0, 32);
}

function compactCode(text) {
  return text.toUpperCase().replace(/[\s-]+/g, "");
}

export class OfflineList {
  constructor(list, keys) {
    this.list = list;
    this.keys = keys;
    this.campaigns = new Map(list.campaigns.map((campaign) => [campaign.id, campaign]));
  }

  static async load(list) {
    return new OfflineList(list, await importPublicKeys(list.public_keys || {}));
  }

  // What a scan (`{scan}` from the camera, `{code}` typed) names: the list's bookings that match.
  async match(input) {
    const bookings = this.list.bookings;
    if (input.scan !== undefined) {
      const text = input.scan.trim();
      if (text.startsWith(RECEPTION_PREFIX)) { // as read_reception_payload: the prefix as printed
        const reference = text.slice(RECEPTION_PREFIX.length).toUpperCase();
        if (!REFERENCE.test(reference)) return { error: refused("bad_reception_qr") };
        return { bookings: bookings.filter((booking) => booking.reference === reference) };
      }
      const inside = tokenInQr(text);
      if (inside.length === TOKEN_CHARS) {
        let claims;
        try {
          claims = await verifyToken(inside, this.keys, this.list.date, { checkDates: false });
        } catch (error) {
          if (error instanceof TokenError) return { error: refused(error.code) };
          throw error;
        }
        const found = bookings.filter(
          (booking) => booking.campaign === claims.campaignId && booking.code_id === claims.codeId,
        );
        return { bookings: found };
      }
      return this.byCode(compactCode(inside));
    }
    const typed = compactCode(input.code);
    if (NATIONAL_ID.test(typed)) return { error: refused("national_id_needs_network") };
    if (typed.length === REFERENCE_CHARS) {
      return { bookings: bookings.filter((booking) => booking.reference === typed) };
    }
    return this.byCode(typed);
  }

  async byCode(compact) {
    const wanted = await fingerprint(this.list.salt, compact);
    return { bookings: this.list.bookings.filter((booking) => booking.code_fingerprint === wanted) };
  }

  // {status: "queued", booking} or {status: "refused", reason: {code, ...facts}, booking}, with the
  // server's codes and facts (checkin/desk.py); `local` maps a booking reference to this desk's offline
  // check-in of it ({at, desk}); `now` is a Date.
  async judge(input, local, now) {
    const matched = await this.match(input);
    if (matched.error) return matched.error;
    const found = matched.bookings;
    if (found.length === 0) return refused("no_booking_today");
    // A person with a cancelled booking and a new one the same day: the one not cancelled counts.
    const booking = found.find((item) => item.state !== "cancelled") || found[0];
    if (booking.state === "cancelled") return refused("booking_cancelled", {}, booking);
    const before = booking.checked_in || local.get(booking.reference);
    if (before) {
      return refused("already_checked_in", { at: before.at, time: before.at, desk: before.desk }, booking);
    }
    if (booking.state === "arrived" || booking.state === "done") {
      return refused("already_checked_in", {}, booking);
    }
    const campaign = this.campaigns.get(booking.campaign) || { early_minutes: 0, late_minutes: 0 };
    const earliest = new Date(Date.parse(booking.starts_at) - campaign.early_minutes * 60000).toISOString();
    const latest = new Date(Date.parse(booking.ends_at) + campaign.late_minutes * 60000).toISOString();
    if (booking.state === "no_show") return refused("too_late", { latest, time: latest }, booking);
    if (now < new Date(earliest)) return refused("too_early", { earliest, time: earliest }, booking);
    if (now > new Date(latest)) return refused("too_late", { latest, time: latest }, booking);
    return { status: "queued", booking };
  }
}
