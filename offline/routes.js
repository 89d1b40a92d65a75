// Which requests the worker answers, and how. Never a mutation; never a page the server did not
// mark for offline reading (X-Offline-Cache), so compartmented details are never stored.
"use strict";
self.BeatbookRoutes = (() => {
  const NETWORK_TIMEOUT_MS = 3500;
  const { SHELL, PAGES } = self.BeatbookCaches;

  function withTimeout(promise, ms) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timeout")), ms);
      promise.then((value) => { clearTimeout(timer); resolve(value); },
                   (error) => { clearTimeout(timer); reject(error); });
    });
  }

  async function store(url, response) {
    const policy = response.headers.get("X-Offline-Cache");
    if (!response.ok || response.redirected || !policy) return;
    const cache = await caches.open(policy === "shell" ? SHELL : PAGES);
    await cache.put(url, response);
  }

  async function fromCache(url) {
    const cached = await caches.match(url, { ignoreVary: true });
    if (cached) return cached;
    // A compartmented lead is kept only in its masked form.
    const masked = new URL(url);
    masked.searchParams.set("masked", "1");
    return caches.match(masked.href, { ignoreVary: true });
  }

  async function page(request) {
    const url = request.url.split("#")[0];
    try {
      const response = await withTimeout(fetch(request), NETWORK_TIMEOUT_MS);
      await store(url, response.clone());
      return response;
    } catch (error) {
      return (await fromCache(url)) || (await caches.match(CONFIG.offlinePage)) ||
        new Response("Offline", { status: 503, headers: { "Content-Type": "text/plain" } });
    }
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
    if (request.method !== "GET" || url.origin !== self.location.origin) return;
    if (url.pathname.startsWith("/static/") || url.pathname.startsWith("/offline/")) {
      event.respondWith(asset(request));
    } else if (request.mode === "navigate") {
      event.respondWith(page(request));
    }
    // Everything else (htmx fragments, JSON, photos) goes to the network as usual.
  }

  // Pages a person will want on patrol (their assigned leads), fetched ahead of need.
  async function keep(urls) {
    for (const url of urls) {
      try {
        const response = await fetch(url, { credentials: "same-origin" });
        await store(new URL(url, self.location.origin).href, response);
      } catch (error) {
        return;  // offline again: the rest can wait for the next visit
      }
    }
  }

  return { handle, keep };
})();
