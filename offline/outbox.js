// The outbox sender: batches of waiting items to one sync endpoint, one run at a time.
// An item leaves "waiting" only on the server's word: created/duplicate → sent; invalid → needs
// fixing (with the server's messages); conflict → the person chooses; signed out → needs sign-in.
// A refused token is renewed and the batch sent again at once (a browser reopened after a shift
// keeps only the remember-me cookie). With no network nothing is attempted; unreachable servers
// are tried again every few seconds, busy ones (5xx, 429) with a growing backoff.
"use strict";
self.BeatbookOutbox = (() => {
  const DB = self.BeatbookDB;
  const Session = self.BeatbookSession;
  const MAX_ITEMS = 50;             // per request (the server's maximum): fewer round trips
  const MAX_BYTES = 900 * 1024;     // ...and photos are big
  const KEEP_SENT_MS = 24 * 3600 * 1000;
  // Signal can come back at any moment and costs the server nothing to look for; a busy server
  // must not be hammered by a city of phones.
  const UNREACHABLE_RETRY_MAX_S = 3;
  const BUSY_RETRY_MAX_S = 300;
  const SEND_TIMEOUT_MS = 120000;   // a stalled upload on a dying link is given up and retried
  let running = null;
  let retryTimer = null;
  let failures = 0;
  let nextAttemptAt = 0;
  let tokenConfirmed = false;       // the stored token was given to this worker by the server
  let waitingForSignIn = null;      // the owner whose session is gone: only a sign-in helps

  async function tell(message) {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const client of windows) client.postMessage(message);
  }

  async function announce(extra = {}) {
    const pending = await DB.pending(await Session.owner());
    await tell({ type: "outbox", pending: pending.length, syncing: running !== null,
                 offline: !navigator.onLine, ...extra });
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
      const sent = { name: photo.name, type: photo.type, data: base64(await photo.blob.arrayBuffer()) };
      if (photo.iv) sent.iv = photo.iv;  // sealed: only the server can open it
      photos.push(sent);
    }
    const body = { uuid: item.uuid, kind: item.kind, fields: item.fields, photos };
    if (item.sealed) body.sealed = item.sealed;
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

  // `retryAfter`: seconds the server asked for. Jitter spreads phones that lost signal together.
  function scheduleRetry(outcome, retryAfter) {
    failures += 1;
    const ceiling = outcome === "unreachable" ? UNREACHABLE_RETRY_MAX_S : BUSY_RETRY_MAX_S;
    const seconds = Math.max(retryAfter || 0, Math.min(ceiling, 2 ** (failures - 1)));
    const delay = seconds * 1000 * (0.8 + Math.random() * 0.4);
    nextAttemptAt = Date.now() + delay;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => run(), delay);
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

  async function post(batch, token) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), SEND_TIMEOUT_MS);
    try {
      return await fetch(CONFIG.syncUrl, {
        method: "POST", credentials: "same-origin", signal: controller.signal,
        headers: { "Content-Type": "application/json", "X-CSRFToken": token || "" },
        body: JSON.stringify({ items: await Promise.all(batch.map(wire)) }),
      });
    } finally {
      clearTimeout(timer);
    }
  }

  // The session's token was refused or is missing: ask the server for the current one. Answers
  // the token when the owner of these items is signed in, else null (someone must sign in).
  async function renewToken(owner) {
    const { userId, csrf, wipe } = await Session.refresh();
    if (wipe) throw Object.assign(new Error("wipe"), { wipe });
    return userId === owner ? csrf : null;
  }

  // Outcomes: "next" (go on), "unreachable" / "busy" (stop, retry later), "stop" (needs sign-in).
  async function sendBatch(batch, session) {
    await setState(batch, "sending");
    let response;
    try {
      response = await post(batch, session.token);
      if (response.status === 400 && (await response.clone().json().catch(() => ({}))).error === "csrf") {
        session.token = await renewToken(session.owner);
        if (session.token) response = await post(batch, session.token);
      }
    } catch (error) {
      await setState(batch, "waiting");
      return error.wipe ? { outcome: "wipe", wipe: error.wipe } : { outcome: "unreachable" };
    }
    if (response.status === 401) {
      const problem = await response.clone().json().catch(() => ({}));
      if (problem.wipe) {  // revoked as lost: these were answered; the wipe sends the rest
        const byUuid = new Map((problem.results || []).map((r) => [r.uuid, r]));
        for (const item of batch) {
          const result = byUuid.get(item.uuid);
          if (result) await applyResult(item, result);
          else await DB.put({ ...item, state: "waiting" });
        }
        return { outcome: "wipe", wipe: { userId: session.owner, csrf: session.token } };
      }
    }
    if (response.status === 401 || (response.status === 400 && !session.token)) {
      // Really signed out (or someone else is): wait, visibly, until the person signs in again.
      await setState(batch, "needs_sign_in");
      return { outcome: "stop" };
    }
    if (response.status === 400) {
      const problem = await response.json().catch(() => ({}));
      if (problem.error === "csrf") {  // a fresh token refused too: the server's trouble, not theirs
        await setState(batch, "waiting");
        return { outcome: "busy" };
      }
      await setState(batch, "needs_fixing", { errors: { _form: [problem.detail || problem.error || "400"] } });
      return { outcome: "next" };
    }
    if (response.status === 413) {  // too big for one request: one by one, and say which is too big
      if (batch.length === 1) {
        await setState(batch, "needs_fixing", { errors: { _form: ["413"] } });
        return { outcome: "next" };
      }
      for (const item of batch) {
        const result = await sendBatch([item], session);
        if (result.outcome !== "next") return result;
      }
      return { outcome: "next" };
    }
    if (!response.ok) {  // 5xx, 429, a proxy's error page: try again later, keep everything
      await setState(batch, "waiting");
      return { outcome: "busy", retryAfter: Number(response.headers.get("Retry-After")) || 0 };
    }
    const { results } = await response.json();
    const byUuid = new Map(results.map((r) => [r.uuid, r]));
    for (const item of batch) {
      const result = byUuid.get(item.uuid);
      if (result) await applyResult(item, result);
      else await DB.put({ ...item, state: "waiting" });
    }
    failures = 0;
    return { outcome: "next" };
  }

  async function purgeSent() {
    const now = Date.now();
    for (const item of await DB.all()) {
      if (item.state === "sent" && now - item.sentAt > KEEP_SENT_MS) await DB.remove(item.uuid);
    }
  }

  // The stored token may belong to a session that ended with the browser: before the first
  // upload of a worker's life (or without a token) ask for the current one — a small GET instead
  // of a refused upload of photos.
  async function startSession(owner) {
    let token = await DB.getMeta("csrf");
    if (!token || !tokenConfirmed) {
      token = await renewToken(owner);
      tokenConfirmed = true;
    }
    return { owner, token };
  }

  async function syncOnce({ force }) {
    const owner = await Session.owner();
    if (!owner) return;
    const ready = (await DB.all()).filter((item) => item.userId === owner && (
      item.state === "waiting" || item.state === "sending" || item.state === "needs_sign_in"))
      .sort((a, b) => a.createdAt - b.createdAt);  // in the order they were made
    if (!ready.length) return;
    // No network at all: say so at once, and wait for the browser's word that it is back.
    if (!navigator.onLine) return;
    if (waitingForSignIn === owner && !force) return;
    let session;
    try {
      session = await startSession(owner);
    } catch (error) {
      if (error.wipe) { await self.BeatbookWipe.start(error.wipe); return; }
      scheduleRetry("unreachable");
      return;
    }
    if (!session.token) {
      await setState(ready, "needs_sign_in");
      waitingForSignIn = owner;
      return;
    }
    waitingForSignIn = null;
    const total = ready.length;
    let sent = 0;
    for (const batch of batches(ready)) {
      await announce({ progress: { sent, total } });
      const result = await sendBatch(batch, session);
      if (result.outcome === "unreachable" || result.outcome === "busy") {
        scheduleRetry(result.outcome, result.retryAfter);
        return;
      }
      if (result.outcome === "stop") { waitingForSignIn = owner; return; }
      if (result.outcome === "wipe") { await self.BeatbookWipe.start(result.wipe); return; }
      sent += batch.length;
    }
    await purgeSent();
  }

  // A run asked for by a page's heartbeat waits for the backoff; the browser's "online" or
  // Background Sync events and the person's "sync now" (`force`) do not.
  let again = false;
  function run({ force = true } = {}) {
    if (!force && Date.now() < nextAttemptAt) return Promise.resolve();
    if (force) { clearTimeout(retryTimer); nextAttemptAt = 0; }
    if (running) { again = true; return running; }
    running = (async () => {
      try {
        do { again = false; await syncOnce({ force }); } while (again);
      } finally {
        running = null;
        await announce();
      }
    })();
    return running;
  }

  return { run, announce, wire };
})();
