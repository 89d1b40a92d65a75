// A phone revoked as lost (from another device, or by an admin). The server says so with
// 401 {"wipe": true} on /sync and /sync/session, and X-Wipe: 1 on its pages. The worker first
// sends what is still pending for that person (the server takes only what was recorded before
// the revocation), and only after the server's word on it deletes everything Beatbook kept here:
// every cache, every IndexedDB database, the push subscription. Then the open pages go to the
// sign-in page, which says why in one line. Without signal nothing is deleted yet: the next
// contact with the server starts again.
"use strict";
self.BeatbookWipe = (() => {
  const DB = self.BeatbookDB;
  const BATCH = 20;
  let running = null;

  // The server's word now: {userId, csrf} when this phone must wipe, else null.
  async function ask() {
    const response = await fetch(CONFIG.sessionUrl, {
      credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" },
    });
    if (response.status !== 401) return null;
    const body = await response.json().catch(() => ({}));
    return body.wipe ? { userId: body.user_id, csrf: body.csrf } : null;
  }

  async function post(items, token) {
    return fetch(CONFIG.syncUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token || "" },
      body: JSON.stringify({ items: await Promise.all(items.map(self.BeatbookOutbox.wire)) }),
    });
  }

  // Send the person's unsent items; true once the server has answered "wipe" for all of them.
  async function sendPending(word) {
    const pending = (await DB.all()).filter((item) => item.userId === word.userId &&
      ["waiting", "sending", "needs_sign_in"].includes(item.state))
      .sort((a, b) => a.createdAt - b.createdAt);
    for (let i = 0; i < pending.length; i += BATCH) {
      const batch = pending.slice(i, i + BATCH);
      let response = await post(batch, word.csrf);
      if (response.status === 400 && (await response.clone().json().catch(() => ({}))).error === "csrf") {
        const again = await ask();
        if (!again) return false;
        word.csrf = again.csrf;
        response = await post(batch, word.csrf);
      }
      const body = await response.json().catch(() => ({}));
      if (response.status !== 401 || !body.wipe) return false;  // not (or no longer) a wipe
      for (const result of body.results || []) {
        const item = batch.find((one) => one.uuid === result.uuid);
        if (item) await DB.put({ ...item, state: result.status === "created" || result.status === "duplicate" ? "sent" : result.status });
      }
    }
    return true;
  }

  // The cookies still name the revoked session: until the server drops them, every page says
  // "wipe" again, and a second wipe would yank the sign-in page from under the person.
  async function forgetSession(csrf) {
    const forget = (token) => fetch(CONFIG.forgetSessionUrl, {
      method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": token || "" },
    });
    const response = await forget(csrf).catch(() => null);
    if (response && response.status === 400) {
      const again = await ask().catch(() => null);  // the token expired: one fresh try
      if (again) await forget(again.csrf).catch(() => null);
    }
  }

  async function wipe(csrf) {
    for (const name of await caches.keys()) await caches.delete(name);
    const subscription = await self.registration.pushManager.getSubscription().catch(() => null);
    if (subscription) await subscription.unsubscribe().catch(() => {});
    await DB.destroy();
    self.BeatbookSession.reset();
    await forgetSession(csrf);
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const client of windows) client.postMessage({ type: "wiped" });
  }

  // `word`: what the server already said ({userId, csrf}); asked again when missing.
  function start(word) {
    running = running || (async () => {
      try {
        const told = word && word.csrf ? word : await ask();
        if (!told) return false;
        if (!(await sendPending(told))) return false;
        await wipe(told.csrf);
        return true;
      } catch (error) {
        return false;  // unreachable: the next contact with the server starts again
      } finally {
        running = null;
      }
    })();
    return running;
  }

  return { start };
})();
