// The outbox sender: batches of waiting items to one sync endpoint, one run at a time.
// An item leaves "waiting" only on the server's word: created/duplicate → sent; invalid → needs
// fixing (with the server's messages); conflict → the person chooses; 401 → needs sign-in.
// Network errors and 5xx keep items waiting and retry with backoff.
"use strict";
self.BeatbookOutbox = (() => {
  const DB = self.BeatbookDB;
  const MAX_ITEMS = 50;             // per request (the server's maximum): fewer round trips
  const MAX_BYTES = 900 * 1024;     // ...and photos are big
  const KEEP_SENT_MS = 24 * 3600 * 1000;
  let running = null;
  let retryTimer = null;
  let failures = 0;

  async function tell(message) {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const client of windows) client.postMessage(message);
  }

  async function announce(extra = {}) {
    const userId = await DB.getMeta("userId");
    const pending = await DB.pending(userId);
    await tell({ type: "outbox", pending: pending.length, syncing: running !== null, ...extra });
  }

  function base64(buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(binary);
  }

  async function wire(item) {
    const photos = [];
    for (const photo of item.photos || []) {
      photos.push({ name: photo.name, type: photo.type, data: base64(await photo.blob.arrayBuffer()) });
    }
    const body = { uuid: item.uuid, kind: item.kind, fields: item.fields, photos };
    if (item.kind === "lead.step") Object.assign(body, { lead_id: item.leadId, step: item.step });
    return body;
  }

  function batches(items) {
    const groups = [];
    let current = [], size = 0;
    for (const item of items) {
      const weight = (item.photos || []).reduce((sum, p) => sum + p.blob.size * 1.4, 2000);
      if (current.length && (current.length >= MAX_ITEMS || size + weight > MAX_BYTES)) {
        groups.push(current); current = []; size = 0;
      }
      current.push(item); size += weight;
    }
    if (current.length) groups.push(current);
    return groups;
  }

  async function setState(items, state, extra = {}) {
    for (const item of items) await DB.put({ ...item, state, ...extra });
  }

  function scheduleRetry() {
    failures += 1;
    const delay = Math.min(300, 2 ** failures) * 1000 * (0.75 + Math.random() / 2);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(run, delay);
  }

  async function applyResult(item, result) {
    if (result.status === "created" || result.status === "duplicate") {
      await DB.put({ ...item, state: "sent", url: result.url, sentAt: Date.now(), errors: null });
    } else if (result.status === "conflict") {
      await DB.put({ ...item, state: "conflict", server: result.server, url: result.url });
    } else {
      await DB.put({ ...item, state: "needs_fixing", errors: result.errors || { _form: [result.status] } });
    }
  }

  async function sendBatch(batch, token) {
    await setState(batch, "sending");
    let response;
    try {
      response = await fetch(CONFIG.syncUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": token || "" },
        body: JSON.stringify({ items: await Promise.all(batch.map(wire)) }),
      });
    } catch (error) {
      await setState(batch, "waiting");
      return "retry";
    }
    if (response.status === 401 || response.status === 400) {
      const problem = await response.json().catch(() => ({}));
      if (response.status === 401 || problem.error === "csrf") {
        // The session or its token is gone: wait, visibly, until the person signs in again.
        if (problem.error === "csrf") await DB.setMeta("csrf", null);
        await setState(batch, "needs_sign_in");
        return "stop";
      }
      await setState(batch, "needs_fixing", { errors: { _form: [problem.detail || problem.error || "400"] } });
      return "next";
    }
    if (response.status === 413) {  // too big for one request: one by one, and say which is too big
      if (batch.length === 1) {
        await setState(batch, "needs_fixing", { errors: { _form: ["413"] } });
        return "next";
      }
      for (const item of batch) {
        const outcome = await sendBatch([item], token);
        if (outcome !== "next") return outcome;
      }
      return "next";
    }
    if (!response.ok) {  // 5xx, 429, a proxy's error page: try again later, keep everything
      await setState(batch, "waiting");
      return "retry";
    }
    const { results } = await response.json();
    const byUuid = new Map(results.map((r) => [r.uuid, r]));
    for (const item of batch) {
      const result = byUuid.get(item.uuid);
      if (result) await applyResult(item, result);
      else await DB.put({ ...item, state: "waiting" });
    }
    failures = 0;
    return "next";
  }

  async function purgeSent() {
    const now = Date.now();
    for (const item of await DB.all()) {
      if (item.state === "sent" && now - item.sentAt > KEEP_SENT_MS) await DB.remove(item.uuid);
    }
  }

  async function syncOnce() {
    const userId = await DB.getMeta("userId");
    const token = await DB.getMeta("csrf");
    if (!userId) return;
    const ready = (await DB.all()).filter((item) => item.userId === userId && (
      item.state === "waiting" || item.state === "sending" ||
      (item.state === "needs_sign_in" && token)))
      .sort((a, b) => a.createdAt - b.createdAt);  // in the order they were made
    const total = ready.length;
    let sent = 0;
    for (const batch of batches(ready)) {
      await announce({ progress: { sent, total } });
      const outcome = await sendBatch(batch, token);
      if (outcome === "retry") { scheduleRetry(); break; }
      if (outcome === "stop") break;
      sent += batch.length;
    }
    await purgeSent();
  }

  // One run at a time: a second request while one runs joins it, then runs once more after it
  // (items added meanwhile are not left behind).
  let again = false;
  function run() {
    if (running) { again = true; return running; }
    running = (async () => {
      try {
        do { again = false; await syncOnce(); } while (again);
      } finally {
        running = null;
        await announce();
      }
    })();
    return running;
  }

  return { run, announce };
})();
