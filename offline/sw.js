// Beatbook service worker: a thin entry that wires small modules (db, caches, session, routes,
// outbox, push).
// Flask serves it at /sw.js with CONFIG filled in (version, shell URLs) and the modules written in
// below it: one download and one validator for the whole worker, so a first visit pays one
// response's headers, not eight, and the browser's update check is a single 304.
"use strict";
const CONFIG = __CONFIG__;
__MODULES__

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    await self.BeatbookCaches.precache();
    // The first install takes over at once; an update waits until the person chooses to reload.
    if (!self.registration.active) await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    await self.BeatbookCaches.cleanup();
    await self.clients.claim();
    self.BeatbookOutbox.run();
  })());
});

self.addEventListener("fetch", (event) => self.BeatbookRoutes.handle(event));

// Background Sync: the browser wakes the worker when the phone is back online.
self.addEventListener("sync", (event) => {
  if (event.tag === "outbox") event.waitUntil(self.BeatbookOutbox.run());
});

self.addEventListener("message", (event) => {
  const message = event.data || {};
  const work = {
    // A page's heartbeat (force: false) waits for the backoff; "sync now" and "online" do not.
    "sync": () => self.BeatbookOutbox.run({ force: message.force !== false }),
    "status": () => self.BeatbookOutbox.announce(),
    "skip-waiting": () => self.skipWaiting(),
    "keep": () => self.BeatbookRoutes.keep(message.pages || []),
    // A page says who it shows as signed in. It may come from the cache and be out of date, so
    // when it differs from what the worker knows, the server is asked (a cached page never
    // decides whose pages are shown).
    "session": async () => {
      await keepSealKey();
      if (message.userId !== (await self.BeatbookSession.reader())) {
        await self.BeatbookSession.refresh().catch(() => {});
      }
      // After a sign-out the shell is gone; the outbox and offline page must work again.
      if (!(await caches.has(self.BeatbookCaches.SHELL))) await self.BeatbookCaches.precache().catch(() => {});
      await self.BeatbookOutbox.run();
    },
    "sign-out": async () => {
      await self.BeatbookCaches.clearAll();
      await self.BeatbookSession.clear();
      await keepSealKey();
      // Sent items go; unsent ones only when the person chose to drop them (after a warning).
      for (const item of await self.BeatbookDB.all()) {
        if (item.state === "sent" || message.dropOutbox) await self.BeatbookDB.remove(item.uuid);
      }
      event.source && event.source.postMessage({ type: "signed-out" });
    },
  }[message.type];
  if (work) event.waitUntil(Promise.resolve(work()));
});

self.addEventListener("push", (event) => event.waitUntil(self.BeatbookPush.show(event)));
self.addEventListener("notificationclick", (event) => event.waitUntil(self.BeatbookPush.open(event)));

// Pages seal DV and minor items with the station's public key before keeping them. Kept when a
// signed-in page says who it is (not on every start: a wiped phone must stay empty).
const keepSealKey = () => self.BeatbookDB.setMeta("sealKey", CONFIG.sealKey);

// Every time the worker starts (a page load, a push, a sync), see whether anything waits.
self.BeatbookOutbox.run();
