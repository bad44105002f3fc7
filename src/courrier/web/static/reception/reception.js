// The reception desk's progressive enhancement of the server-rendered page (contract in docs/web.md):
// camera scanning into POST /api/v1/checkins, and, when the network drops, check-ins judged from the
// offline day list, kept in IndexedDB and uploaded to /api/v1/checkins/batch when it is back.
// Without this script the page's typed-code form does everything; with it, that form stays the way
// to type a code while online (offline, typed codes are queued like scans).

import { Camera } from "./camera.js";
import { Decoder } from "./decoder.js";
import { OfflineList } from "./offline.js";
import { Store } from "./store.js";
import { Texts } from "./texts.js";

const PROBE_MS = 5000;

function element(tag, attributes = {}, text = "") {
  const made = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, value);
  if (text) made.textContent = text;
  return made;
}

// A failed fetch (no network, server unreachable) as opposed to an answer, even an error one.
class Unreachable extends Error {}

class Desk {
  constructor(config, area, result) {
    this.config = config;
    this.area = area;
    this.result = result;
    this.texts = new Texts(config);
    this.desk = config.desk || "";
    this.online = navigator.onLine;
    this.local = new Map(); // booking reference -> {at, desk}: this desk's offline check-ins
    this.list = null;
    this.store = null;
    this.syncing = false;
    this.memory = []; // the offline check-ins when IndexedDB cannot be opened
  }

  async start() {
    this.build();
    this.registerWorker();
    // The decoder's worker, module and WebAssembly are fetched now, while the network is up.
    this.decoder = Camera.supported() ? Decoder.start() : Promise.reject(new Error("no camera"));
    this.decoder.catch(() => {
      this.toggle.disabled = true;
      this.status.textContent = this.texts.get("camera_unavailable");
      this.area.dataset.camera = "unavailable";
    });
    try {
      this.store = await Store.open();
      await this.store.prune(this.config.date);
      // Ask the browser not to evict the queue under storage pressure (it may say no).
      if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
    } catch {
      this.store = null; // private browsing without IndexedDB: offline check-ins live in memory only
    }
    window.addEventListener("online", () => this.reachable());
    window.addEventListener("offline", () => this.unreachable());
    this.showNetwork();
    await this.loadList();
    await this.renderQueue();
    setInterval(() => this.probe(), PROBE_MS);
    if (this.online) await this.sync();
    await this.decoder.then(
      () => {
        this.area.dataset.decoder = "ready";
      },
      () => {},
    );
    this.area.dataset.ready = "true";
  }

  // The service worker (sw.js) that serves this page and its files again when it is reloaded offline.
  registerWorker() {
    const worker = this.config.endpoints.worker;
    if (!worker || !("serviceWorker" in navigator)) return;
    navigator.serviceWorker
      .register(worker, { scope: "/reception" })
      .then(() => navigator.serviceWorker.ready)
      .then(() => {
        this.area.dataset.worker = "ready";
      })
      .catch(() => {
        this.area.dataset.worker = "unavailable"; // the page works as before; only an offline reload fails
      });
  }

  // --- the page's parts ---

  build() {
    this.area.dataset.enhanced = "true";
    const style = element("link", { rel: "stylesheet", href: new URL("./reception.css", import.meta.url).href });
    document.head.append(style);
    const scanner = element("div", { class: "scanner", id: "scanner" });
    this.toggle = element("button", { type: "button", id: "camera-toggle" }, this.texts.get("camera_start"));
    this.video = element("video", { id: "scan-video", muted: "", playsinline: "", hidden: "" });
    this.video.muted = true;
    this.status = element("p", { id: "camera-status", role: "status" });
    this.next = element("button", { type: "button", id: "scan-next", hidden: "" }, this.texts.get("next"));
    scanner.append(this.toggle, this.next, this.video, this.status);
    this.network = element("p", { id: "network-status", class: "network-offline", role: "status", hidden: "" });
    const queue = element("section", { id: "reception-queue-section", hidden: "" });
    queue.append(element("h2", { id: "queue-heading" }, this.texts.get("queue_heading")));
    this.queue = element("ul", { id: "reception-queue", "aria-labelledby": "queue-heading" });
    queue.append(this.queue);
    this.queueSection = queue;
    this.area.prepend(scanner, this.network);
    this.area.append(queue);
    if (!Camera.supported()) {
      this.toggle.disabled = true;
      this.status.textContent = this.texts.get("camera_unavailable");
    }
    this.toggle.addEventListener("click", () => this.toggleCamera());
    this.next.addEventListener("click", () => this.nextPerson());
    const form = document.getElementById("checkin-form");
    const field = document.getElementById("checkin-code");
    if (form && field) {
      form.addEventListener("submit", (event) => {
        if (this.online) return; // the server's own page, as without JavaScript
        event.preventDefault();
        const code = field.value.trim();
        if (!code) return;
        field.value = "";
        this.handle({ code });
      });
    }
  }

  async toggleCamera() {
    if (this.camera) {
      this.camera.stop();
      this.camera = null;
      this.video.hidden = true;
      this.next.hidden = true;
      this.toggle.textContent = this.texts.get("camera_start");
      this.status.textContent = "";
      this.area.dataset.camera = "off";
      return;
    }
    this.toggle.disabled = true;
    let camera;
    try {
      camera = new Camera(this.video, await this.decoder, (text) => this.handle({ scan: text }));
      await camera.start();
    } catch {
      this.toggle.disabled = false;
      this.status.textContent = this.texts.get("camera_unavailable");
      this.area.dataset.camera = "unavailable";
      return;
    }
    this.camera = camera;
    this.video.hidden = false;
    this.next.hidden = false;
    this.toggle.disabled = false;
    this.toggle.textContent = this.texts.get("camera_stop");
    this.status.textContent = this.texts.get("camera_hint");
    this.area.dataset.camera = "on";
  }

  nextPerson() {
    if (this.camera) this.camera.forget();
    this.result.replaceChildren();
    this.status.textContent = this.texts.get("camera_hint");
  }

  // --- the network ---

  unreachable() {
    if (!this.online) return;
    this.online = false;
    this.showNetwork();
  }

  async reachable() {
    if (this.online) return;
    this.online = true;
    this.showNetwork();
    await this.sync();
    await this.loadList();
  }

  showNetwork() {
    this.area.dataset.network = this.online ? "online" : "offline";
    this.network.hidden = this.online;
    this.network.textContent = this.online ? "" : this.texts.get("offline");
  }

  // While offline (or with scans still queued), ask the server now and then whether it is back.
  async probe() {
    if (this.online && !(await this.hasQueued())) return;
    try {
      const answer = await fetch("/health", { cache: "no-store" });
      if (answer.ok) {
        if (this.online) await this.sync();
        else await this.reachable();
      }
    } catch {
      this.unreachable();
    }
  }

  endpoint(name) {
    const url = new URL(this.config.endpoints[name], window.location.origin);
    url.searchParams.set("lang", this.config.language || "en");
    return url.href;
  }

  async call(name, body) {
    let answer;
    try {
      answer = await fetch(this.endpoint(name), {
        method: body === undefined ? "GET" : "POST",
        credentials: "same-origin",
        cache: "no-store",
        headers: body === undefined
          ? { Accept: "application/json" }
          : { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": this.config.csrf_token },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      this.unreachable();
      throw new Unreachable();
    }
    // A proxy or server that is down answers 502-504: as good as no network for a desk.
    if ([502, 503, 504].includes(answer.status)) {
      this.unreachable();
      throw new Unreachable();
    }
    let data = null;
    try {
      data = await answer.json();
    } catch {
      data = null;
    }
    return { status: answer.status, data };
  }

  // --- the offline day list ---

  async loadList() {
    let list = null;
    if (this.online) {
      try {
        const answer = await this.call("offline");
        if (answer.status === 200 && answer.data) {
          list = answer.data;
          if (this.store) await this.store.saveList(list);
        }
      } catch (error) {
        if (!(error instanceof Unreachable)) throw error;
      }
    }
    if (!list && this.store) list = await this.store.list(this.config.centre, this.config.date);
    if (list) {
      this.list = await OfflineList.load(list);
      this.area.dataset.offlineList = list.generated_at || "loaded";
    }
  }

  // --- a scan or a typed code ---

  async handle(input) {
    const nonce = crypto.randomUUID();
    const scannedAt = new Date();
    if (this.online) {
      try {
        const answer = await this.call("checkin", { ...input, nonce, desk: this.desk });
        this.showAnswer(answer);
        if (await this.hasQueued()) await this.sync();
        return;
      } catch (error) {
        if (!(error instanceof Unreachable)) throw error;
      }
    }
    await this.handleOffline(input, nonce, scannedAt);
  }

  showAnswer({ status, data }) {
    if (data && data.status === "ok") {
      this.showResult("ok", this.texts.get("checked_in"), data.checkin.booking, data.checkin.person, null);
    } else if (data && data.status === "refused") {
      this.showResult("refused", this.texts.reason(data.reason), data.booking, data.person, data.reason.code);
    } else {
      const error = (data && data.error) || { code: `http_${status}` };
      this.showResult("error", error.message || error.code, null, null, error.code);
    }
  }

  async handleOffline(input, nonce, scannedAt) {
    if (!this.list) {
      this.showResult("refused", this.texts.reason({ code: "no_booking_today" }), null, null, "no_offline_list");
      return;
    }
    const judged = await this.list.judge(input, this.local, scannedAt);
    const booking = judged.booking;
    const person = booking ? { name: booking.name, birth_date: booking.birth_date } : null;
    if (judged.status !== "queued") {
      this.showResult("refused", this.texts.reason(judged.reason), booking, person, judged.reason.code);
      return;
    }
    const at = scannedAt.toISOString();
    this.local.set(booking.reference, { at, desk: this.desk });
    await this.keep({
      nonce,
      centre: this.config.centre,
      date: this.config.date,
      desk: this.desk,
      ...input,
      scanned_at: at,
      status: "queued",
      booking,
      person,
      reason: null,
    });
    this.showResult("queued", this.texts.get("checked_in_offline"), booking, person, null);
    this.shownNonce = nonce;
    await this.renderQueue();
  }

  showResult(status, headline, booking, person, reason) {
    this.shownNonce = null;
    const box = element("div", { class: "scan-result", "data-status": status });
    if (reason) box.dataset.reason = reason;
    if (booking && booking.reference) box.dataset.reference = booking.reference;
    box.append(element("p", { class: "scan-headline" }, headline));
    if (person) {
      const who = element("p", { class: "scan-person" });
      who.append(element("strong", {}, person.name || ""), ` ${this.texts.get("born", { date: person.birth_date })}`);
      box.append(who);
    }
    if (booking) {
      const when = `${this.texts.get("dose", { dose: booking.dose })}, ${this.texts.clock(booking.starts_at)}`;
      box.append(element("p", { class: "scan-booking" }, `${when} (${booking.reference})`));
    }
    this.result.replaceChildren(box);
  }

  // --- the queue of offline check-ins ---

  async keep(scan) {
    if (this.store) await this.store.putScan(scan);
    else {
      const at = this.memory.findIndex((item) => item.nonce === scan.nonce);
      if (at >= 0) this.memory[at] = scan;
      else this.memory.push(scan);
    }
  }

  // This centre's scans of today, and any of an earlier day still waiting to be sent.
  async scans() {
    const all = this.store ? await this.store.allScans() : this.memory;
    return all.filter(
      (scan) => scan.centre === this.config.centre && (scan.date === this.config.date || scan.status === "queued"),
    );
  }

  async hasQueued() {
    return (await this.scans()).some((scan) => scan.status === "queued");
  }

  // Upload what is queued, oldest first; each answer updates its scan. The server applies each nonce
  // once, so an upload cut halfway is simply sent again.
  async sync() {
    if (this.syncing || !this.online) return;
    this.syncing = true;
    try {
      const queued = (await this.scans()).filter((scan) => scan.status === "queued");
      if (queued.length === 0) return;
      for (let start = 0; start < queued.length; start += 500) {
        const part = queued.slice(start, start + 500);
        const scans = part.map((scan) => {
          const sent = { nonce: scan.nonce, scanned_at: scan.scanned_at };
          if (scan.scan !== undefined) sent.scan = scan.scan;
          else sent.code = scan.code;
          return sent;
        });
        const answer = await this.call("batch", { desk: this.desk, scans });
        if (answer.status !== 200 || !answer.data) {
          const error = (answer.data && answer.data.error) || { code: `http_${answer.status}` };
          this.showResult("error", error.message || error.code, null, null, error.code);
          return;
        }
        const byNonce = new Map(part.map((scan) => [scan.nonce, scan]));
        for (const reply of answer.data.results) {
          const scan = byNonce.get(reply.nonce);
          if (!scan) continue;
          scan.status = reply.status;
          scan.reason = reply.reason || null;
          if (reply.checkin) scan.checkin = reply.checkin;
          await this.keep(scan);
          // The person still shown was checked in elsewhere meanwhile: say so where the desk looks.
          if (scan.nonce === this.shownNonce && scan.status !== "ok") {
            const status = this.texts.get(`status_${scan.status}`);
            const headline = `${status.charAt(0).toUpperCase()}${status.slice(1)}: ${this.texts.reason(scan.reason || {})}`;
            this.showResult(scan.status, headline, scan.booking, scan.person, scan.reason && scan.reason.code);
          }
        }
      }
    } catch (error) {
      if (!(error instanceof Unreachable)) throw error;
    } finally {
      this.syncing = false;
      await this.renderQueue();
    }
  }

  async renderQueue() {
    const scans = await this.scans();
    // What this desk checked in offline, also before a reload: a second scan of them is refused.
    for (const scan of scans) {
      if (!scan.booking || scan.date !== this.config.date || scan.status === "refused") continue;
      const elsewhere = scan.status === "conflict" && scan.reason && scan.reason.at;
      this.local.set(
        scan.booking.reference,
        elsewhere ? { at: scan.reason.at, desk: scan.reason.desk } : { at: scan.scanned_at, desk: scan.desk },
      );
    }
    this.queueSection.hidden = scans.length === 0;
    const items = scans.map((scan) => {
      const item = element("li", { "data-nonce": scan.nonce, "data-status": scan.status });
      if (scan.booking) item.dataset.reference = scan.booking.reference;
      if (scan.reason) item.dataset.reason = scan.reason.code;
      const who = scan.person ? scan.person.name : scan.booking ? scan.booking.reference : "";
      item.append(element("span", { class: "queue-who" }, `${this.texts.clock(scan.scanned_at)} ${who}`));
      const state = element("span", { class: "queue-status" }, ` ${this.texts.get(`status_${scan.status}`)}`);
      item.append(state);
      if (scan.reason) item.append(element("span", { class: "queue-reason" }, `: ${this.texts.reason(scan.reason)}`));
      return item;
    });
    this.queue.replaceChildren(...items);
    this.area.dataset.queued = String(scans.filter((scan) => scan.status === "queued").length);
  }
}

const configElement = document.getElementById("reception-config");
const area = document.getElementById("scan-area");
const result = document.getElementById("checkin-result");
if (configElement && area && result) {
  const desk = new Desk(JSON.parse(configElement.textContent), area, result);
  desk.start();
}
