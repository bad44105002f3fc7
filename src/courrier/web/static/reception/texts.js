// The scanner's texts. The page renders them from its catalogs in the staff's language into
// #reception-config ("messages"; refusals in "reasons", the error catalogue's templates); the English
// below is only what shows if the page gave none.

const MESSAGES = {
  camera_start: "Scan with the camera",
  camera_stop: "Stop the camera",
  camera_hint: "Hold the QR code in front of the camera.",
  camera_unavailable: "The camera cannot be used here: type the code.",
  next: "Next person",
  checked_in: "Checked in",
  checked_in_offline: "Checked in offline: sent when the network is back",
  offline: "Offline: check-ins are kept on this computer and sent when the network is back.",
  queue_heading: "Check-ins made offline",
  status_queued: "waiting to be sent",
  status_ok: "applied",
  status_conflict: "conflict",
  status_refused: "refused",
  dose: "Dose %(dose)s",
  born: "born %(date)s",
};

const REASONS = {
  no_booking_today: "No booking today at this centre.",
  already_checked_in: "Already checked in at {time}, desk {desk}.",
  booking_cancelled: "This booking was cancelled.",
  too_early: "Too early: check-in opens at {time}.",
  too_late: "Too late: check-in closed at {time}.",
  unknown_code: "Unknown code.",
  code_revoked: "This code is revoked.",
  bad_reception_qr: "This is not the QR code of a booking confirmation.",
  bad_token: "This QR code is not one of ours.",
  bad_signature: "This QR code is forged or altered.",
  unsupported_version: "This QR code is not one of ours.",
  unknown_key: "This QR code is signed with a key this desk does not know.",
  wrong_campaign: "This QR code is of another campaign.",
  token_expired: "This QR code has expired.",
  token_not_yet_valid: "This QR code is not valid yet.",
  not_a_booking_code: "This is neither a code nor a booking reference.",
  walk_in_not_allowed: "This campaign takes no walk-ins.",
};

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

export class Texts {
  constructor(config) {
    this.messages = { ...MESSAGES, ...(config.messages || {}) };
    this.reasons = { ...REASONS, ...(config.reasons || {}) };
    this.language = config.language || "en";
    this.time = new Intl.DateTimeFormat(this.language, {
      timeZone: config.time_zone || "Europe/Luxembourg",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
  }

  // A fact as a person reads it: an ISO instant as the centre's local HH:MM.
  fact(value) {
    if (typeof value === "string" && ISO_TIME.test(value)) return this.clock(value);
    return value === undefined || value === null || value === "" ? "?" : String(value);
  }

  clock(iso) {
    return this.time.format(new Date(iso));
  }

  // The message `key` with %(name)s (gettext) and {name} (error catalogue) filled from `facts`.
  get(key, facts = {}) {
    return fill(this.messages[key] || key, facts, (value) => this.fact(value));
  }

  // The server's message when it gave one (online), else the catalogue's template (offline).
  reason(reason) {
    if (reason.message) return reason.message;
    if (!reason.code) return "";
    const template = this.reasons[reason.code];
    if (!template) return reason.message || reason.code;
    return fill(template, reason, (value) => this.fact(value));
  }
}

function fill(template, facts, show) {
  return template
    .replace(/%\((\w+)\)[sd]/g, (_, name) => show(facts[name]))
    .replace(/\{(\w+)\}/g, (_, name) => show(facts[name]));
}
