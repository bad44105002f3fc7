// The QR decoder, off the page's thread: zxing-wasm (zxing-cpp compiled to WebAssembly), from our own
// /static/vendor/ (make install copies it there from node_modules; nothing comes from another site).
// This script's response carries a CSP with 'wasm-unsafe-eval' (web/security.py); the pages' does not.
//
// Messages in: {id, image: ImageData}; out: {ready: true} once, then {id, texts: [...]} or {id, error}.

import { prepareZXingModule, readBarcodes } from "../vendor/zxing-wasm/es/reader/index.js";

const WASM = new URL("../vendor/zxing-wasm/reader/zxing_reader.wasm", import.meta.url).href;
const OPTIONS = { formats: ["QRCode"], tryHarder: true, maxNumberOfSymbols: 1 };

const ready = prepareZXingModule({
  overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? WASM : prefix + path) },
  fireImmediately: true,
});

ready.then(
  () => self.postMessage({ ready: true }),
  (error) => self.postMessage({ ready: false, error: String(error) }),
);

self.onmessage = async (event) => {
  const { id, image } = event.data;
  try {
    await ready;
    const results = await readBarcodes(image, OPTIONS);
    self.postMessage({ id, texts: results.filter((result) => result.isValid).map((result) => result.text) });
  } catch (error) {
    self.postMessage({ id, error: String(error) });
  }
};
