// The verifier page's camera (contract in docs/certificates.md, "The verifier page"): the reception's
// camera and WebAssembly decoder read a QR code; its text goes to POST /api/v1/dcc/verify and the page
// shows valid or not valid, with only the holder's name and date of birth. Without this script the
// page's form (paste the HC1: text) does the same on the server.

import { Camera } from "../reception/camera.js";
import { Decoder } from "../reception/decoder.js";

function element(tag, attributes = {}, text = "") {
  const made = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, value);
  if (text) made.textContent = text;
  return made;
}

class Verifier {
  constructor(config, area, result) {
    this.config = config;
    this.area = area;
    this.result = result;
    this.messages = config.messages || {};
    this.camera = null;
  }

  text(name, values = {}) {
    const template = this.messages[name] || name;
    return template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ""));
  }

  start() {
    const scanner = element("div", { class: "verifier", id: "verifier" });
    this.toggle = element("button", { type: "button", id: "camera-toggle" }, this.text("camera_start"));
    this.next = element("button", { type: "button", id: "scan-next", hidden: "" }, this.text("next"));
    this.video = element("video", { id: "scan-video", muted: "", playsinline: "", hidden: "" });
    this.video.muted = true;
    this.status = element("p", { id: "camera-status", role: "status" });
    scanner.append(this.toggle, this.next, this.video, this.status);
    this.area.prepend(scanner);
    this.toggle.addEventListener("click", () => this.toggleCamera());
    this.next.addEventListener("click", () => this.nextCertificate());
    this.decoder = Camera.supported() ? Decoder.start() : Promise.reject(new Error("no camera"));
    this.decoder.then(
      () => {
        this.area.dataset.decoder = "ready";
      },
      () => {
        this.toggle.disabled = true;
        this.status.textContent = this.text("camera_unavailable");
        this.area.dataset.camera = "unavailable";
      },
    );
    this.area.dataset.enhanced = "true";
  }

  async toggleCamera() {
    if (this.camera) {
      this.camera.stop();
      this.camera = null;
      this.video.hidden = true;
      this.next.hidden = true;
      this.toggle.textContent = this.text("camera_start");
      this.status.textContent = "";
      this.area.dataset.camera = "off";
      return;
    }
    this.toggle.disabled = true;
    let camera;
    try {
      camera = new Camera(this.video, await this.decoder, (text) => this.verify(text));
      await camera.start();
    } catch {
      this.toggle.disabled = false;
      this.status.textContent = this.text("camera_unavailable");
      this.area.dataset.camera = "unavailable";
      return;
    }
    this.camera = camera;
    this.video.hidden = false;
    this.next.hidden = false;
    this.toggle.disabled = false;
    this.toggle.textContent = this.text("camera_stop");
    this.status.textContent = this.text("camera_hint");
    this.area.dataset.camera = "on";
  }

  nextCertificate() {
    if (this.camera) this.camera.forget();
    this.result.replaceChildren();
    this.status.textContent = this.text("camera_hint");
  }

  async verify(hc1) {
    let answer;
    try {
      // No cookies: the verification is open to anyone and needs no session (a signed-in staff
      // member's cookie would make the API ask for a CSRF token).
      const response = await fetch(this.config.endpoint, {
        method: "POST",
        credentials: "omit",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ hc1 }),
      });
      answer = response.ok ? await response.json() : { valid: false, failed_step: "prefix" };
    } catch {
      this.status.textContent = this.text("unreachable");
      if (this.camera) this.camera.forget();
      return;
    }
    this.show(answer);
  }

  // Only what a verifier app shows: valid or not, and for a valid one the name and date of birth.
  show(answer) {
    const outcome = element("div", {
      id: "verify-outcome",
      class: "verify-outcome",
      "data-valid": answer.valid ? "true" : "false",
    });
    if (answer.valid) {
      const names = (answer.payload && answer.payload.nam) || {};
      const name = [names.gn, names.fn].filter(Boolean).join(" ");
      const born = (answer.payload && answer.payload.dob) || "";
      outcome.append(element("h2", {}, this.text("valid")));
      const nameLine = element("p", {}, `${this.text("name")}: `);
      nameLine.append(element("strong", { id: "verify-name" }, name));
      const bornLine = element("p", {}, `${this.text("birth_date")}: `);
      bornLine.append(element("strong", { id: "verify-birth-date" }, this.date(born)));
      outcome.append(nameLine, bornLine);
    } else {
      outcome.dataset.failedStep = answer.failed_step || "";
      outcome.append(element("h2", {}, this.text("invalid")));
      outcome.append(element("p", { class: "hint" }, this.text("failed_step", { step: answer.failed_step })));
    }
    this.result.replaceChildren(outcome);
  }

  date(text) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return text; // a year, or a year and month, as it is
    try {
      const format = new Intl.DateTimeFormat(this.config.language, { dateStyle: "long", timeZone: "UTC" });
      return format.format(new Date(`${text}T00:00:00Z`));
    } catch {
      return text;
    }
  }
}

const configElement = document.getElementById("verifier-config");
const area = document.getElementById("verify-area");
const result = document.getElementById("verify-result");
if (configElement && area && result) {
  new Verifier(JSON.parse(configElement.textContent), area, result).start();
}
