// The reception desk's service worker, registered by reception.js with the scope /reception: it lets the
// desk reload (or reopen) its page while the network is down. Network first: online, every answer comes
// from the server as without this worker, and the desk's page and the files it runs on are kept in the
// cache as they arrive; offline (the server unreachable, or a proxy's 502-504), the last copies kept are
// served instead, and the page starts again from the day list and the queue it keeps in IndexedDB
// (docs/web.md, "Offline"). Kept: the desk page itself and /static/ files, never the day's list page
// (it names people) nor an API answer; a page kept on an earlier day is not served (its day is over).

const CACHE = "courrier-reception-v1";
const PAGE = "/reception";
// What the desk page runs on, fetched when the worker is installed: the first visit's own requests
// were made before the worker existed. A file missing here (no zxing-wasm without npm) is skipped.
const FILES = [
  "/static/site.css",
  "/static/reception/reception.css",
  "/static/reception/reception.js",
  "/static/reception/camera.js",
  "/static/reception/decoder.js",
  "/static/reception/decoder-worker.js",
  "/static/reception/offline.js",
  "/static/reception/store.js",
  "/static/reception/texts.js",
  "/static/reception/token.js",
  "/static/vendor/zxing-wasm/es/reader/index.js",
  "/static/vendor/zxing-wasm/es/share.js",
  "/static/vendor/zxing-wasm/reader/zxing_reader.wasm",
];
const UNREACHABLE = [502, 503, 504];

function keeps(url) {
  return url.origin === self.location.origin && (url.pathname === PAGE || url.pathname.startsWith("/static/"));
}

async function keepAll(urls) {
  const cache = await caches.open(CACHE);
  await Promise.all(urls.map((url) => cache.add(url).catch(() => {})));
}

self.addEventListener("install", (event) => {
  event.waitUntil(keepAll(FILES).then(() => self.skipWaiting()));
});

// Take over the open desk pages at once and keep each of them: the page that registered the worker
// would otherwise be kept only at its next load.
self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      await self.clients.claim();
      const windows = await self.clients.matchAll({ type: "window" });
      await keepAll(windows.map((client) => client.url).filter((url) => keeps(new URL(url))));
    })(),
  );
});

// Kept the same day (the browser's): yesterday's page carries yesterday's date for its day list.
function today(response) {
  const date = response.headers.get("date");
  return date !== null && new Date(date).toDateString() === new Date().toDateString();
}

async function kept(request, page) {
  const cache = await caches.open(CACHE);
  // The page in another language, or with another query, is still the desk's page.
  const found =
    (await cache.match(request, { ignoreVary: true })) ||
    (page ? await cache.match(PAGE, { ignoreSearch: true, ignoreVary: true }) : undefined);
  return found && (!page || today(found)) ? found : null;
}

async function networkFirst(request, page) {
  let answer;
  try {
    answer = await fetch(request);
  } catch (error) {
    const copy = await kept(request, page);
    if (copy) return copy;
    throw error;
  }
  if (UNREACHABLE.includes(answer.status)) return (await kept(request, page)) || answer;
  if (answer.ok && answer.type === "basic") {
    const cache = await caches.open(CACHE);
    await cache.put(request, answer.clone());
  }
  return answer;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (!keeps(url)) return;
  event.respondWith(networkFirst(request, url.pathname === PAGE));
});
