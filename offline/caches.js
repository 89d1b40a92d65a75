// Cache names live here, versioned: a new worker version starts clean caches and deletes old ones.
"use strict";
self.BeatbookCaches = (() => {
  const SHELL = `beatbook-shell-${CONFIG.version}`;  // CSS, JS, icons, the offline and outbox pages
  const PAGES = `beatbook-pages-${CONFIG.version}`;  // pages the server allowed for offline reading

  async function precache() {
    const cache = await caches.open(SHELL);
    await cache.addAll(CONFIG.shell);
  }

  async function cleanup() {
    for (const name of await caches.keys()) {
      if (name.startsWith("beatbook-") && name !== SHELL && name !== PAGES) await caches.delete(name);
    }
  }

  // Signing out: nothing of this person stays on the phone (pages carry their name and work).
  async function clearAll() {
    for (const name of await caches.keys()) if (name.startsWith("beatbook-")) await caches.delete(name);
  }

  return { SHELL, PAGES, precache, cleanup, clearAll };
})();
