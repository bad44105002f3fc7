// The page's side of the QR decoder worker (decoder-worker.js): one frame at a time, as ImageData.

const WORKER = new URL("./decoder-worker.js", import.meta.url);

export class Decoder {
  constructor(worker) {
    this.worker = worker;
    this.pending = new Map();
    this.next = 1;
    worker.onmessage = (event) => {
      const { id, texts, error } = event.data;
      const done = this.pending.get(id);
      if (!done) return;
      this.pending.delete(id);
      if (error) done.reject(new Error(error));
      else done.resolve(texts);
    };
  }

  // A decoder whose WebAssembly is compiled and ready; rejects when it cannot be (the vendored files
  // missing because npm was absent at install, or a browser without WebAssembly).
  static start() {
    return new Promise((resolve, reject) => {
      let worker;
      try {
        worker = new Worker(WORKER, { type: "module" });
      } catch (error) {
        reject(error);
        return;
      }
      worker.onerror = (event) => {
        event.preventDefault();
        worker.terminate();
        reject(new Error(event.message || "the QR decoder could not start"));
      };
      worker.onmessage = (event) => {
        if (event.data.ready) {
          worker.onerror = null;
          resolve(new Decoder(worker));
        } else {
          worker.terminate();
          reject(new Error(event.data.error));
        }
      };
    });
  }

  // The texts of the QR codes in `image` (an ImageData, whose buffer is handed to the worker).
  decode(image) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, image }, [image.data.buffer]);
    });
  }

  stop() {
    this.worker.terminate();
    for (const done of this.pending.values()) done.resolve([]);
    this.pending.clear();
  }
}
