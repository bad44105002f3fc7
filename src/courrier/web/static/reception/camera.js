// The desk's camera: getUserMedia into a <video>, a frame every SCAN_INTERVAL_MS drawn on a canvas and
// decoded in the worker. A text is handed on once; while the same letter stays in view (or comes back
// within FORGET_MS) it is not handed on again, so a letter left under the camera is one scan. Staff
// clear that memory with "next person" to scan the same letter again on purpose.

const SCAN_INTERVAL_MS = 120;
const FORGET_MS = 20000;

export class Camera {
  // `decoder`: a started Decoder (decoder.js), kept by the caller across camera starts: it is loaded
  // with the page, so a desk whose network is down can still start its camera.
  constructor(video, decoder, onText) {
    this.video = video;
    this.decoder = decoder;
    this.onText = onText;
    this.seen = new Map(); // text -> when last seen (ms)
    this.running = false;
    this.busy = false;
    this.canvas = document.createElement("canvas");
  }

  static supported() {
    return Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.Worker);
  }

  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode: "environment", width: { ideal: 1280 }, height: { ideal: 720 } },
    });
    this.video.srcObject = this.stream;
    await this.video.play();
    this.running = true;
    this.timer = setInterval(() => this.tick(), SCAN_INTERVAL_MS);
  }

  stop() {
    this.running = false;
    clearInterval(this.timer);
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.video.srcObject = null;
  }

  // Scan whatever is in view next, even a letter just scanned.
  forget() {
    this.seen.clear();
  }

  async tick() {
    if (!this.running || this.busy || this.video.readyState < 2) return;
    const width = this.video.videoWidth;
    const height = this.video.videoHeight;
    if (!width || !height) return;
    this.busy = true;
    try {
      this.canvas.width = width;
      this.canvas.height = height;
      const context = this.canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(this.video, 0, 0, width, height);
      const texts = await this.decoder.decode(context.getImageData(0, 0, width, height));
      const now = Date.now();
      for (const [text, at] of this.seen) if (now - at > FORGET_MS) this.seen.delete(text);
      // How many frames held a code: what a test waits on to know the camera went on looking.
      if (texts.length) this.video.dataset.reads = String(Number(this.video.dataset.reads || 0) + 1);
      for (const text of texts) {
        const fresh = !this.seen.has(text);
        this.seen.set(text, now);
        if (fresh && this.running) this.onText(text);
      }
    } catch {
      // A frame that fails to decode is skipped; the next one is tried.
    } finally {
      this.busy = false;
    }
  }
}
