// What the desk keeps on this computer, in IndexedDB (database "courrier-reception"):
//   lists:  the offline day list of a centre, key "CENTRE/YYYY-MM-DD" (GET .../offline); today's only
//   scans:  the check-ins made offline, key: their nonce, {nonce, centre, date, desk, scan|code,
//           scanned_at, status: queued|ok|conflict|refused, booking, person, reason}
// so that neither a reload nor a crash of the tab loses a check-in made while the network was down.

const NAME = "courrier-reception";
const VERSION = 1;

function request(operation) {
  return new Promise((resolve, reject) => {
    operation.onsuccess = () => resolve(operation.result);
    operation.onerror = () => reject(operation.error);
  });
}

export class Store {
  constructor(db) {
    this.db = db;
  }

  static async open() {
    const opening = indexedDB.open(NAME, VERSION);
    opening.onupgradeneeded = () => {
      const db = opening.result;
      if (!db.objectStoreNames.contains("lists")) db.createObjectStore("lists");
      if (!db.objectStoreNames.contains("scans")) {
        db.createObjectStore("scans", { keyPath: "nonce" });
      }
    };
    return new Store(await request(opening));
  }

  async run(storeName, mode, operation) {
    const transaction = this.db.transaction(storeName, mode);
    const done = new Promise((resolve, reject) => {
      transaction.oncomplete = resolve;
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
    const result = await request(operation(transaction.objectStore(storeName)));
    await done; // written for good (a readwrite transaction) before the caller goes on
    return result;
  }

  saveList(list) {
    return this.run("lists", "readwrite", (store) => store.put(list, `${list.centre}/${list.date}`));
  }

  async list(centre, date) {
    return (await this.run("lists", "readonly", (store) => store.get(`${centre}/${date}`))) || null;
  }

  putScan(scan) {
    return this.run("scans", "readwrite", (store) => store.put(scan));
  }

  // Every scan kept, in the order they were made.
  async allScans() {
    const found = await this.run("scans", "readonly", (store) => store.getAll());
    return found.sort((a, b) => (a.scanned_at < b.scanned_at ? -1 : a.scanned_at > b.scanned_at ? 1 : 0));
  }

  // What an earlier day left: its lists (names and birth dates) and its scans the server has answered.
  // A scan still queued stays until it is uploaded, whatever its day.
  async prune(today) {
    const lists = await this.run("lists", "readonly", (store) => store.getAllKeys());
    for (const key of lists) {
      if (!String(key).endsWith(`/${today}`)) await this.run("lists", "readwrite", (store) => store.delete(key));
    }
    for (const scan of await this.allScans()) {
      if (scan.date < today && scan.status !== "queued") {
        await this.run("scans", "readwrite", (store) => store.delete(scan.nonce));
      }
    }
  }
}
