// The phone's own storage (IndexedDB): the outbox, and a little metadata (who is signed in, the
// CSRF token for sync). Part of the service worker (/sw.js) and a page script (/offline/db.js).
"use strict";
self.BeatbookDB = (() => {
  const NAME = "beatbook";
  let opening = null;

  function open() {
    if (!opening) {
      opening = new Promise((resolve, reject) => {
        const request = indexedDB.open(NAME, 1);
        request.onupgradeneeded = () => {
          const db = request.result;
          if (!db.objectStoreNames.contains("outbox")) db.createObjectStore("outbox", { keyPath: "uuid" });
          if (!db.objectStoreNames.contains("meta")) db.createObjectStore("meta");
        };
        request.onsuccess = () => {
          const db = request.result;
          db.onversionchange = () => { db.close(); opening = null; };
          resolve(db);
        };
        request.onerror = () => { opening = null; reject(request.error); };
      });
    }
    return opening;
  }

  async function run(store, mode, work) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const transaction = db.transaction(store, mode);
      const request = work(transaction.objectStore(store));
      transaction.oncomplete = () => resolve(request ? request.result : undefined);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  }

  // A revoked phone: every Beatbook database goes (pages' connections close on versionchange).
  async function destroy() {
    if (opening) {
      try { (await opening).close(); } catch (error) { /* never opened */ }
      opening = null;
    }
    const names = indexedDB.databases ? (await indexedDB.databases()).map((d) => d.name) : [NAME];
    await Promise.all(names.map((name) => new Promise((resolve) => {
      const request = indexedDB.deleteDatabase(name);
      request.onsuccess = request.onerror = () => resolve();
    })));
  }

  return {
    destroy,
    all: () => run("outbox", "readonly", (s) => s.getAll()),
    get: (uuid) => run("outbox", "readonly", (s) => s.get(uuid)),
    put: (item) => run("outbox", "readwrite", (s) => s.put(item)),
    remove: (uuid) => run("outbox", "readwrite", (s) => s.delete(uuid)),
    clearOutbox: () => run("outbox", "readwrite", (s) => s.clear()),
    getMeta: (key) => run("meta", "readonly", (s) => s.get(key)),
    setMeta: (key, value) => run("meta", "readwrite", (s) => s.put(value, key)),
    clearMeta: () => run("meta", "readwrite", (s) => s.clear()),
    // Items that still need the server (anything not confirmed as sent).
    pending: async (userId) => (await run("outbox", "readonly", (s) => s.getAll()))
      .filter((item) => item.state !== "sent" && (userId === undefined || item.userId === userId)),
  };
})();
