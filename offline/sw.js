// Beatbook service worker: a thin entry that wires small modules (db, caches, routes, outbox, push).
// Flask serves it at /sw.js with CONFIG filled in (version, module and shell URLs).
"use strict";
const CONFIG = __CONFIG__;
importScripts(...CONFIG.modules);

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
    "sync": () => self.BeatbookOutbox.run(),
    "status": () => self.BeatbookOutbox.announce(),
    "skip-waiting": () => self.skipWaiting(),
    "keep": () => self.BeatbookRoutes.keep(message.urls || []),
    // A page tells who is signed in and the token sync must send; then it is worth trying.
    "session": async () => {
      const previous = await self.BeatbookDB.getMeta("userId");
      if (previous && previous !== message.userId) {
        // Someone else on this phone (the last person's session ran out, no sign-out): none of
        // their pages may be served to the new person, online or off.
        await self.BeatbookCaches.clearAll();
      }
      // After a sign-out the shell is gone; the outbox and offline page must work again.
      if (!(await caches.has(self.BeatbookCaches.SHELL))) await self.BeatbookCaches.precache();
      await self.BeatbookDB.setMeta("userId", message.userId);
      await self.BeatbookDB.setMeta("csrf", message.csrf);
      await self.BeatbookOutbox.run();
    },
    "sign-out": async () => {
      await self.BeatbookCaches.clearAll();
      await self.BeatbookDB.clearMeta();
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

// Every time the worker starts (a page load, a push, a sync), see whether anything waits.
self.BeatbookOutbox.run();
