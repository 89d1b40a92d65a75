// Who is signed in on this phone, as far as the worker can tell, and the token sync sends.
// The phone's kept pages and outbox belong to one person (`userId`). A kept page is served only
// while the server's last word is that this person is signed in (`signedIn`); a sign-in or
// sign-out in flight makes the worker forget, so a slow network can never show the next person
// the last person's pages. Only the server is believed (a header on its answers, or GET
// CONFIG.sessionUrl): a page from the cache repeats what was true when it was kept.
"use strict";
self.BeatbookSession = (() => {
  const DB = self.BeatbookDB;
  const HEADER = "X-Signed-In";
  let state = null;  // {userId, signedIn}, read once from IndexedDB
  let loading = null;
  let forgetOnLoad = false;
  // The server's word is believed in the order the questions were asked: an answer to a request
  // that left before a later answer (or before a sign-in/out) was applied is out of date — e.g. a
  // prefetch sent with the last person's cookies, answered after the next person signed in.
  let asked = 0;
  let believedUpTo = 0;

  // Taken just before a request whose answer may say who is signed in.
  function ticket() {
    asked += 1;
    return asked;
  }

  function load() {
    loading = loading || (async () => {
      const [userId, signedIn] = await Promise.all([DB.getMeta("userId"), DB.getMeta("signedIn")]);
      state = { userId: userId ?? null, signedIn: Boolean(signedIn) && !forgetOnLoad };
      return state;
    })();
    return loading;
  }

  async function save() {
    await DB.setMeta("userId", state.userId);
    await DB.setMeta("signedIn", state.signedIn);
  }

  // The person whose outbox is sent and whose pages are kept (null before anyone signed in).
  async function owner() {
    return (await load()).userId;
  }

  // The person who may be shown kept pages now, or null when the worker cannot be sure.
  async function reader() {
    const { userId, signedIn } = await load();
    return signedIn ? userId : null;
  }

  function pagesCache(userId) {
    return `${self.BeatbookCaches.PAGES}-u${userId}`;
  }

  // A sign-in or sign-out is on its way to the server: until it answers, nobody reads kept pages.
  // Synchronous on purpose: it takes effect before the worker handles its next event.
  function forget() {
    believedUpTo = asked;  // whatever is already on its way was asked before this
    if (state) state.signedIn = false;
    else forgetOnLoad = true;
    return load().then(() => {
      state.signedIn = false;
      return Promise.all([DB.setMeta("signedIn", false), DB.setMeta("csrf", null)]);
    });
  }

  // The server says `userId` is signed in (0: nobody). Someone else than before: nothing of the
  // previous person's stays readable (their unsent items stay, for them to send later).
  async function become(userId, asking) {
    if (asking <= believedUpTo) return;  // out of date: a later word is already believed
    believedUpTo = asking;
    await load();
    const same = state.userId === userId;
    if (!userId) {
      if (state.signedIn) { state.signedIn = false; await save(); }
      return;
    }
    if (same && state.signedIn) return;
    if (!same) await DB.setMeta("csrf", null);
    state.userId = userId;
    state.signedIn = true;
    await save();
    if (same) return;
    await self.BeatbookCaches.keepOnly(pagesCache(userId));
    // The kept offline and outbox pages name the person they were made for: made for someone
    // else (or nobody), make them anew. On a first visit the install just made them for this
    // person: fetching them again would add a tenth to the phone's first download.
    if ((await self.BeatbookCaches.shellMadeFor()) !== userId) {
      await self.BeatbookCaches.precache().catch(() => {});
    }
  }

  // Signing out on this phone: nobody, and nothing remembered.
  async function clear() {
    await load();
    state.userId = null;
    state.signedIn = false;
    await DB.clearMeta();
  }

  // Every HTML answer from the server says whom it was made for (and X-Wipe: this phone was
  // revoked as lost; the wipe runs on its own, the page is not kept waiting for it).
  async function observe(response, asking) {
    const value = response.headers.get(HEADER);
    if (value !== null && /^\d{1,15}$/.test(value)) await become(Number(value), asking);
    if (response.headers.get("X-Wipe") === "1") self.BeatbookWipe.start();
  }

  // After a wipe: nobody, and nothing read from the deleted database.
  function reset() {
    state = { userId: null, signedIn: false };
    loading = Promise.resolve(state);
  }

  // Ask the server who is signed in now and for a token to sync with. The remember-me cookie
  // reaches this too, so a browser reopened after a shift signs the worker back in by itself.
  // Answers {userId, csrf} (userId 0: nobody is; `wipe` too when this phone was revoked as
  // lost); throws when the server cannot be reached.
  async function refresh() {
    const asking = ticket();
    const response = await fetch(CONFIG.sessionUrl, {
      credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" },
    });
    if (response.status === 401) {
      const body = await response.json().catch(() => ({}));
      // Revoked as lost: the outbox hands over to the wipe (which sends what is pending first).
      if (body.wipe) return { userId: 0, csrf: null, wipe: { userId: body.user_id, csrf: body.csrf } };
      await become(0, asking);
      await DB.setMeta("csrf", null);
      return { userId: 0, csrf: null };
    }
    if (!response.ok) throw new Error(`session ${response.status}`);
    const { user_id: userId, csrf } = await response.json();
    await become(userId, asking);
    await DB.setMeta("csrf", csrf);
    return { userId, csrf };
  }

  return { load, owner, reader, pagesCache, forget, ticket, observe, refresh, clear, reset };
})();
