// Cache names live here, versioned: a new worker version starts clean caches and deletes old ones.
"use strict";
self.BeatbookCaches = (() => {
  const SHELL = `beatbook-shell-${CONFIG.version}`;  // CSS, JS, the outbox page
  // Pages the server allowed for offline reading: one cache per person, named PAGES-u<id>.
  const PAGES = `beatbook-pages-${CONFIG.version}`;

  async function precache() {
    const cache = await caches.open(SHELL);
    await cache.addAll(CONFIG.shell);
  }

  // Whom the kept outbox page was made for (its X-Signed-In), or null when there is none.
  async function shellMadeFor() {
    const page = await caches.match(CONFIG.outboxPage, { cacheName: SHELL });
    const owner = page && page.headers.get("X-Signed-In");
    return owner !== null && owner !== undefined && /^\d{1,15}$/.test(owner) ? Number(owner) : null;
  }

  async function cleanup() {
    for (const name of await caches.keys()) {
      if (name.startsWith("beatbook-") && name !== SHELL && !name.startsWith(`${PAGES}-`)) await caches.delete(name);
    }
  }

  // Another person signed in: only their kept pages may stay on the phone.
  async function keepOnly(pagesName) {
    for (const name of await caches.keys()) {
      if (name.startsWith("beatbook-pages-") && name !== pagesName) await caches.delete(name);
    }
  }

  // Signing out: nothing of this person stays on the phone (pages carry their name and work).
  async function clearAll() {
    for (const name of await caches.keys()) if (name.startsWith("beatbook-")) await caches.delete(name);
  }

  return { SHELL, PAGES, precache, shellMadeFor, cleanup, clearAll, keepOnly };
})();
