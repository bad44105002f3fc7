// The establishment's page, enhanced: scan the voucher's QR with the camera (the reception desk's
// decoder), check its signature in the browser (WebCrypto Ed25519 with the public keys of
// #establishment-config: genuine or forged, shown at once, with no network), then hand the text to the
// page's own form, whose answer (the name on the voucher, the redeem form) comes from the server, which
// checks it again. Without JavaScript the form does everything (a keyboard scanner types the QR).

import { Camera } from "../reception/camera.js";
import { Decoder } from "../reception/decoder.js";
import { importPublicKeys, tokenInQr, verifyToken } from "../reception/token.js";

function element(name, attributes = {}, text = "") {
  const found = document.createElement(name);
  for (const [key, value] of Object.entries(attributes)) found.setAttribute(key, value);
  if (text) found.textContent = text;
  return found;
}

class EstablishmentDesk {
  constructor(area, config) {
    this.area = area;
    this.config = config;
    this.messages = config.messages;
    this.form = document.getElementById("voucher-form");
    this.field = document.getElementById("voucher-code");
  }

  async start() {
    this.area.dataset.enhanced = "true";
    const style = element("link", { rel: "stylesheet", href: new URL("../reception/reception.css", import.meta.url).href });
    document.head.append(style);
    const scanner = element("div", { class: "scanner", id: "scanner" });
    this.toggle = element("button", { type: "button", id: "camera-toggle" }, this.messages.camera_start);
    this.video = element("video", { id: "scan-video", muted: "", playsinline: "", hidden: "" });
    this.video.muted = true;
    this.status = element("p", { id: "camera-status", role: "status" });
    this.authenticity = element("p", { id: "scan-authenticity", role: "status", hidden: "" });
    scanner.append(this.toggle, this.video, this.status, this.authenticity);
    this.area.prepend(scanner);
    this.toggle.addEventListener("click", () => this.toggleCamera());
    this.keys = await importPublicKeys(this.config.public_keys).catch(() => new Map());
    this.decoder = Camera.supported() ? Decoder.start() : Promise.reject(new Error("no camera"));
    await this.decoder.then(
      () => {
        this.area.dataset.decoder = "ready";
      },
      () => {
        this.toggle.disabled = true;
        this.status.textContent = this.messages.camera_unavailable;
        this.area.dataset.camera = "unavailable";
      },
    );
    this.area.dataset.ready = "true";
  }

  async toggleCamera() {
    if (this.camera) {
      this.camera.stop();
      this.camera = null;
      this.video.hidden = true;
      this.toggle.textContent = this.messages.camera_start;
      this.area.dataset.camera = "off";
      return;
    }
    try {
      const decoder = await this.decoder;
      this.camera = new Camera(this.video, decoder, (text) => this.scanned(text));
      await this.camera.start();
      this.video.hidden = false;
      this.toggle.textContent = this.messages.camera_stop;
      this.status.textContent = this.messages.camera_hint;
      this.area.dataset.camera = "on";
    } catch {
      this.camera = null;
      this.status.textContent = this.messages.camera_unavailable;
    }
  }

  // The signature checked here first (genuine or not, said at once), then the page's form is sent.
  async scanned(text) {
    if (this.sent) return;
    let verdict = "code";
    try {
      await verifyToken(tokenInQr(text), this.keys, "2000-01-01", { checkDates: false });
      verdict = "genuine";
    } catch (error) {
      verdict = error.code === "bad_token" ? "code" : "forged";
    }
    this.area.dataset.authentic = verdict;
    if (verdict !== "code") {
      this.authenticity.hidden = false;
      this.authenticity.textContent = this.messages[verdict];
    }
    this.sent = true;
    if (this.camera) this.camera.stop();
    this.field.value = text;
    this.form.requestSubmit();
  }
}

const area = document.getElementById("scan-area");
const config = document.getElementById("establishment-config");
if (area && config) {
  new EstablishmentDesk(area, JSON.parse(config.textContent)).start();
}
