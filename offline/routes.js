// Which requests the worker answers, and how. Never a mutation; never a page the server did not
// mark for offline reading (X-Offline-Cache), so compartmented details are never stored.
"use strict";
self.BeatbookRoutes = (() => {
  const NETWORK_TIMEOUT_MS = 3500;
  const { SHELL } = self.BeatbookCaches;
  const Session = self.BeatbookSession;

  function withTimeout(promise, ms) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timeout")), ms);
      promise.then((value) => { clearTimeout(timer); resolve(value); },
                   (error) => { clearTimeout(timer); reject(error); });
    });
  }

  // Kept only for the person it was made for, and only while that person is the one signed in.
  async function store(url, response) {
    const policy = response.headers.get("X-Offline-Cache");
    if (!response.ok || response.redirected || !policy) return;
    if (policy === "shell") {
      await (await caches.open(SHELL)).put(url, response);
      return;
    }
    const reader = await Session.reader();
    if (reader && response.headers.get("X-Signed-In") === String(reader)) {
      await (await caches.open(Session.pagesCache(reader))).put(url, response);
    }
  }

  // Never another person's page: only the cache of the person the server last said is signed in.
  async function fromCache(url) {
    const reader = await Session.reader();
    if (!reader) return undefined;
    const cache = await caches.open(Session.pagesCache(reader));
    const cached = await cache.match(url, { ignoreVary: true });
    if (cached) return cached;
    // A compartmented lead is kept only in its masked form.
    const masked = new URL(url);
    masked.searchParams.set("masked", "1");
    return cache.match(masked.href, { ignoreVary: true });
  }

  // The outbox page, which shows its "no signal, this page is not kept" part under another address.
  async function offlinePage() {
    return (await caches.match(CONFIG.outboxPage, { cacheName: SHELL })) ||
      new Response("Offline", { status: 503, headers: { "Content-Type": "text/plain" } });
  }

  async function page(event) {
    const request = event.request;
    const url = request.url.split("#")[0];
    const asking = Session.ticket();
    const answer = fetch(request).then(async (response) => {
      await Session.observe(response, asking);  // even when it comes too late to be shown
      return response;
    });
    event.waitUntil(answer.catch(() => {}));
    try {
      const response = await withTimeout(answer, NETWORK_TIMEOUT_MS);
      await store(url, response.clone());
      return response;
    } catch (error) {
      if (url.startsWith(self.location.origin + CONFIG.outboxPage)) return offlinePage();
      return (await fromCache(url)) || offlinePage();
    }
  }

  // A sign-in or sign-out form is on its way: forget who is signed in before anything else runs,
  // then let it through untouched.
  function authentication(event) {
    const done = Session.forget();
    event.waitUntil(done);
    event.respondWith(done.then(() => fetch(event.request)));
  }

  async function asset(request) {
    const cached = await caches.match(request);
    if (cached) return cached;
    const response = await fetch(request);
    // Only into a shell that exists: after a sign-out nothing is cached until someone signs in.
    if (response.ok && new URL(request.url).searchParams.has("v") && (await caches.has(SHELL))) {
      await (await caches.open(SHELL)).put(request, response.clone());
    }
    return response;
  }

  function handle(event) {
    const request = event.request;
    const url = new URL(request.url);
    if (url.origin !== self.location.origin) return;
    if (request.mode === "navigate" && request.method === "POST" && CONFIG.authPaths.includes(url.pathname)) {
      authentication(event);
      return;
    }
    if (request.method !== "GET") return;
    if (url.pathname.startsWith("/static/") || url.pathname.startsWith("/offline/")) {
      event.respondWith(asset(request));
    } else if (request.mode === "navigate") {
      event.respondWith(page(event));
    }
    // Everything else (htmx fragments, JSON, photos) goes to the network as usual.
  }

  // Whether the reader's cache already holds this version of a page (its X-Offline-Stamp).
  async function kept(url, stamp) {
    const reader = await Session.reader();
    if (!reader || !stamp) return false;
    const cached = await (await caches.open(Session.pagesCache(reader))).match(url, { ignoreVary: true });
    return Boolean(cached) && cached.headers.get("X-Offline-Stamp") === stamp;
  }

  // Pages a person will want on patrol (their assigned leads), fetched ahead of need — only those
  // whose kept copy is missing or of another stamp than the home lists: a repeat visit with
  // nothing changed fetches none. One list at a time: two tabs (or a home opened twice quickly)
  // would otherwise both fetch what neither has kept yet.
  let keeping = Promise.resolve();
  function keep(pages) {
    keeping = keeping.then(() => keepAll(pages)).catch(() => {});
    return keeping;
  }

  async function keepAll(pages) {
    for (const { url, stamp } of pages) {
      try {
        if (await kept(new URL(url, self.location.origin).href, stamp)) continue;
        // Never follow a redirect: signed out, it would open the login page in the background,
        // and the new session that page starts would void the form the person is filling in.
        const asking = Session.ticket();
        // X-Offline-Keep: the server leaves the flash ("saved", "report another") for the page the
        // person opens next; read by this background fetch, it was gone when that page came.
        const response = await fetch(url, { credentials: "same-origin", redirect: "manual",
                                            headers: { "X-Offline-Keep": "1" } });
        if (!response.ok) return;  // signed out, or no longer theirs: the rest can wait too
        await Session.observe(response, asking);
        await store(new URL(url, self.location.origin).href, response);
      } catch (error) {
        return;  // offline again: the rest can wait for the next visit
      }
    }
  }

  return { handle, keep };
})();
