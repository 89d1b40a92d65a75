// Beatbook offline, page side: registers the service worker, saves forms to the outbox when the
// network fails, shows the outbox and its badge, warns before signing out with unsent items.
(() => {
  "use strict";
  if (!("serviceWorker" in navigator) || !self.BeatbookDB) return;
  const DB = self.BeatbookDB;
  const body = document.body;
  // The shell page (the outbox) is kept for whoever uses the phone next: it does not
  // say who is signed in; the worker's owner of the outbox does.
  const shellPage = body.dataset.shellPage !== undefined;
  let userId = body.dataset.userId && !shellPage ? Number(body.dataset.userId) : null;
  // The outbox page answers, offline, for a page the phone has not kept: then it says so.
  const notKept = document.getElementById("offline-page");
  if (notKept && location.pathname !== notKept.dataset.home) {
    notKept.hidden = false;
    document.title = notKept.dataset.title;
  }
  const HEARTBEAT_MS = 5000;
  const text = JSON.parse(document.getElementById("offline-text").textContent);
  const SEND_TIMEOUT_MS = 20000;
  const MAX_PHOTO_SIDE = 1600;

  // --- the worker -------------------------------------------------------------------------
  const worker = navigator.serviceWorker.register("/sw.js").then((registration) => {
    const prompt = (waiting) => {
      const bar = document.getElementById("update-bar");
      if (!bar || !waiting || !navigator.serviceWorker.controller) return;
      bar.hidden = false;
      bar.querySelector("button").onclick = () => waiting.postMessage({ type: "skip-waiting" });
    };
    prompt(registration.waiting);
    registration.addEventListener("updatefound", () => {
      const installing = registration.installing;
      installing && installing.addEventListener("statechange", () => {
        if (installing.state === "installed") prompt(installing);
      });
    });
    return navigator.serviceWorker.ready;
  });
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (document.getElementById("update-bar") && !document.getElementById("update-bar").hidden && !reloading) {
      reloading = true;
      location.reload();
    }
  });
  const tell = async (message) => (await worker).active.postMessage(message);
  const syncSoon = async () => {
    await tell({ type: "sync", force: true });
    const registration = await worker;
    if (registration.sync) registration.sync.register("outbox").catch(() => {});
  };

  // --- who is signed in, and what must be kept for offline reading -------------------------
  if (userId) {
    tell({ type: "session", userId });
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist();
    // Assigned leads are fetched ahead for offline reading — from the second page on, so the
    // first visit stays within its budget on a weak link.
    const keep = document.querySelector("[data-offline-keep]");
    if (keep && navigator.serviceWorker.controller) tell({ type: "keep", pages: JSON.parse(keep.dataset.offlineKeep) });
  } else if (body.dataset.signedOut !== undefined) {
    tell({ type: "sign-out" });
  }
  addEventListener("online", syncSoon);
  addEventListener("offline", () => refresh());
  // While something waits and the page is in view, keep the worker awake and looking for signal
  // (a browser kills an idle worker, and its retry timer with it); the worker keeps its backoff.
  setInterval(async () => {
    if (document.visibilityState !== "visible" || !navigator.onLine) return;
    const waiting = (await DB.pending(userId ?? undefined)).some((i) => i.state === "waiting" || i.state === "sending");
    if (waiting) tell({ type: "sync", force: false });
  }, HEARTBEAT_MS);

  // --- the badge ---------------------------------------------------------------------------
  const badge = document.getElementById("outbox-badge");
  const showCount = (pending) => {
    if (!badge) return;
    badge.hidden = pending === 0;
    badge.querySelector("[data-count]").textContent = pending;
  };
  const refresh = async () => {
    if (shellPage) userId = (await DB.getMeta("userId")) ?? null;
    showCount((await DB.pending(userId ?? undefined)).length);
    const offline = document.getElementById("outbox-offline");
    if (offline) offline.hidden = navigator.onLine;
    if (document.getElementById("outbox-list")) renderOutbox();
  };
  navigator.serviceWorker.addEventListener("message", (event) => {
    const message = event.data || {};
    // This phone was revoked as lost and the worker has deleted everything: to the sign-in page.
    if (message.type === "wiped" && new URLSearchParams(location.search).get("wiped") !== "1") {
      location.replace("/login?wiped=1");
      return;
    }
    if (message.type === "outbox") {
      refresh();
      const progress = document.getElementById("outbox-progress");
      if (progress) {
        progress.hidden = !message.syncing;
        if (message.progress) progress.value = message.progress.total ? message.progress.sent / message.progress.total : 0;
      }
    }
  });
  refresh();

  // --- saving forms: online as usual, into the outbox when the network fails ---------------
  async function shrink(file) {
    if (!file.type.startsWith("image/")) return file;
    try {
      const bitmap = await createImageBitmap(file);
      const scale = Math.min(1, MAX_PHOTO_SIDE / Math.max(bitmap.width, bitmap.height));
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.82));
      return blob || file;
    } catch (error) {
      return file;  // not decodable here: the server will say what is wrong with it
    }
  }

  // What the person saw in each choice (a grade's name, not its code), for the conflict view.
  function shownValues(form) {
    const shown = {};
    for (const select of form.querySelectorAll("select")) {
      const chosen = [...select.selectedOptions].map((option) => option.textContent.trim());
      if (chosen.length) shown[select.name] = chosen.join("、");
    }
    return shown;
  }

  async function toItem(form) {
    const fields = {};
    const photos = [];
    for (const [name, value] of new FormData(form)) {
      if (name === "csrf_token") continue;
      if (value instanceof File) {
        if (value.size) photos.push({ name: value.name || "photo.jpg", type: "image/jpeg", blob: await shrink(value) });
        continue;
      }
      if (name in fields) fields[name] = [].concat(fields[name], value);
      else fields[name] = value;
    }
    const data = form.dataset;
    return {
      uuid: fields.uuid, kind: data.clientRecord, userId, fields, photos,
      leadId: data.leadId ? Number(data.leadId) : undefined, step: data.step, stepLabel: data.stepLabel,
      shown: shownValues(form),
      label: `${data.outboxLabel || ""} ${String(fields.summary || fields.household || fields.note || "").slice(0, 40)}`.trim(),
      page: location.pathname + location.search, createdAt: Date.now(), state: "waiting",
    };
  }

  // --- sealing: what a phone keeps about a DV or minor case is encrypted for the server -------
  // A fresh AES-GCM key per item (its uuid bound in as associated data), wrapped with the
  // station's RSA-OAEP public key: only the server can open it (webapp/sync/sealing.py).
  function base64(buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(binary);
  }

  const mustSeal = (form, item) => form.dataset.sealed !== undefined ||
    "flag_dv" in item.fields || "flag_minor" in item.fields;

  async function seal(item, label) {
    const jwk = await DB.getMeta("sealKey");
    const publicKey = await crypto.subtle.importKey("jwk", jwk, { name: "RSA-OAEP", hash: "SHA-256" }, false, ["wrapKey"]);
    const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt"]);
    const additionalData = new TextEncoder().encode(item.uuid);
    const encrypt = async (bytes) => {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      return { iv: base64(iv), data: await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData }, key, bytes) };
    };
    const body = await encrypt(new TextEncoder().encode(JSON.stringify({ fields: item.fields })));
    const photos = [];
    for (const photo of item.photos) {
      const sealedPhoto = await encrypt(await photo.blob.arrayBuffer());
      photos.push({ name: "photo.jpg", type: photo.type, iv: sealedPhoto.iv, blob: new Blob([sealedPhoto.data]) });
    }
    const wrapped = await crypto.subtle.wrapKey("raw", key, publicKey, { name: "RSA-OAEP" });
    // In the clear only what the outbox needs: the id, and a step's version (a conflict sets it).
    const fields = { uuid: item.fields.uuid };
    if (item.fields.version !== undefined) fields.version = item.fields.version;
    // Nor the page it was made on: its address can name the case or the profile.
    return { ...item, fields, photos, label, shown: {}, page: "",
             sealed: { key: base64(wrapped), iv: body.iv, data: base64(body.data) } };
  }

  async function sendNow(form) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), SEND_TIMEOUT_MS);
    const formData = new FormData(form);
    for (const [name, value] of [...formData]) {  // send the phone-sized photo, not the original
      if (value instanceof File && value.size) { formData.delete(name); }
    }
    for (const input of form.querySelectorAll("input[type=file]")) {
      for (const file of input.files) formData.append(input.name, await shrink(file), file.name);
    }
    try {
      const response = await fetch(form.action, {
        method: "POST", body: formData, credentials: "same-origin", signal: controller.signal,
        headers: { "HX-Request": "true" },
      });
      const target = response.headers.get("HX-Redirect");
      if (target) {
        await forgetDraft(form);  // before leaving: the next page may be a fresh form
        location.assign(target);
        return "done";
      }
      if (response.redirected && new URL(response.url).pathname === "/login") return "sign_in";
      if (response.status >= 500 || response.status === 400 || response.status === 429) return "later";
      const fragment = await response.text();
      const place = form.dataset.fragmentTarget ? document.querySelector(form.dataset.fragmentTarget) : form;
      place.outerHTML = fragment;  // the server's own messages (422, 409, 403), in place
      document.dispatchEvent(new CustomEvent("beatbook:swapped"));
      return "shown";
    } catch (error) {
      return "later";  // offline, dropped or too slow: the outbox takes it
    } finally {
      clearTimeout(timer);
    }
  }

  function savedNotice(form, state) {
    const notice = document.createElement("div");
    notice.className = "card saved-offline";
    notice.setAttribute("role", "status");
    notice.innerHTML = `<p><strong></strong></p><p><a href="/outbox"></a></p>`;
    notice.querySelector("strong").textContent = state === "needs_sign_in" ? text.savedSignIn : text.saved;
    notice.querySelector("a").textContent = text.openOutbox;
    if (form.dataset.anotherUrl) {  // a volunteer on a round files several in a row
      notice.append(Object.assign(document.createElement("a"), {
        href: form.dataset.anotherUrl, className: "button primary big", textContent: form.dataset.anotherLabel,
      }));
      notice.lastChild.dataset.reportAnother = "";
    }
    form.replaceWith(notice);
  }

  // --- drafts: a form being filled is kept on the phone (a locked phone, a killed tab) ---------
  // One draft per form kind (`data-draft`), in the outbox's database, for the person signed in:
  // restored on the same page, forgotten once the form is sent or saved to the outbox, on
  // "discard", at sign-out (the worker clears the metadata) and when someone else opens the form.
  // A DV or minor form is never kept as a draft: the outbox's sealing is for the server's eyes
  // only, so the phone could not open it again; ticking the box deletes what was kept.
  const DRAFT_SKIPPED = new Set(["csrf_token", "uuid", "recorded_at"]);
  const draftKey = (form) => `draft:${form.dataset.draft}`;
  const mustNotKeep = (form) => form.dataset.sealed !== undefined ||
    [...form.querySelectorAll("input[name=flag_dv], input[name=flag_minor]")].some((box) => box.checked);
  const draftWrites = new WeakMap();  // one write at a time per form, in the order typed

  function keepDraft(form) {
    form.dataset.draftState = "saving";
    const previous = draftWrites.get(form) || Promise.resolve();
    const write = previous.then(async () => {
      if (mustNotKeep(form)) { await DB.setMeta(draftKey(form), null); return; }
      const fields = [...new FormData(form)].filter(([name, value]) => !DRAFT_SKIPPED.has(name) && !(value instanceof File));
      await DB.setMeta(draftKey(form), { userId, page: location.pathname + location.search, fields });
    }).catch(() => {}).then(() => {
      if (draftWrites.get(form) === write) form.dataset.draftState = "saved";
    });
    draftWrites.set(form, write);
    return write;
  }

  async function forgetDraft(form) {
    if (!form.dataset.draft) return;
    await (draftWrites.get(form) || Promise.resolve());
    await DB.setMeta(draftKey(form), null).catch(() => {});
  }

  // What the person changed before the draft was read is theirs, not the draft's.
  const untouched = (element) => {
    if (element.type === "checkbox" || element.type === "radio") return element.checked === element.defaultChecked;
    if (element.type !== "select-one") return element.tagName === "SELECT" || element.value === element.defaultValue;
    const chosen = [...element.options].findIndex((option) => option.defaultSelected);
    return element.selectedIndex === Math.max(chosen, 0);  // nothing marked: the first is shown
  };

  function fill(form, fields) {
    const values = new Map();
    for (const [name, value] of fields) values.set(name, [...(values.get(name) || []), value]);
    for (const [name, kept] of values) {
      [...form.elements].filter((element) => element.name === name && untouched(element)).forEach((element, index) => {
        if (element.type === "checkbox" || element.type === "radio") element.checked = kept.includes(element.value);
        else if (element.type !== "file" && element.type !== "hidden") element.value = kept[index] ?? "";
      });
    }
    // Boxes not in the draft were unticked when it was kept.
    for (const box of form.querySelectorAll("input[type=checkbox]")) if (!values.has(box.name) && untouched(box)) box.checked = false;
    form.querySelectorAll("input[type=checkbox]").forEach((box) => box.dispatchEvent(new Event("change", { bubbles: true })));
  }

  async function restoreDraft(form) {
    const draft = await DB.getMeta(draftKey(form)).catch(() => null);
    if (!draft) return;
    if (draft.userId !== userId) { await DB.setMeta(draftKey(form), null); return; }
    // A refused form comes back from the server with what was sent: that is newer than a draft.
    if (draft.page !== location.pathname + location.search || form.querySelector(".error-summary")) return;
    fill(form, draft.fields);
    // A folded part (a second person, an ID number) with something restored in it is opened.
    for (const part of form.querySelectorAll("details")) {
      if ([...part.querySelectorAll("input:not([type=hidden]):not([type=checkbox]), select, textarea")].some((e) => e.value)) part.open = true;
    }
    const note = document.createElement("p");
    note.className = "draft-note";
    note.setAttribute("role", "status");
    const discard = Object.assign(document.createElement("button"), { type: "button", textContent: form.dataset.draftDiscard });
    discard.onclick = async () => {  // the form as it first came: from the server, or the phone's copy
      await forgetDraft(form);
      location.reload();
    };
    note.append(form.dataset.draftRestored, " ", discard);
    form.prepend(note);
  }

  if (userId) document.querySelectorAll("form[data-draft]").forEach(restoreDraft);
  for (const type of ["input", "change"]) {
    document.addEventListener(type, (event) => {
      const form = event.target.form;
      if (userId && form && form.dataset.draft && event.target.type !== "file") keepDraft(form);
    });
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!form.matches("form[data-client-record]")) return;
    event.preventDefault();
    const button = form.querySelector("[type=submit]");
    if (button) button.disabled = true;
    // The phone's time of the report is when it is sent off, not when the form was opened.
    const recordedAt = form.querySelector("input[name=recorded_at]");
    if (recordedAt) recordedAt.value = new Date().toISOString();
    const item = await toItem(form);
    const outcome = navigator.onLine ? await sendNow(form) : "later";
    if (outcome === "done" || outcome === "shown") return;
    item.state = outcome === "sign_in" ? "needs_sign_in" : "waiting";
    try {
      await DB.put(mustSeal(form, item) ? await seal(item, `🔒 ${form.dataset.outboxLabel || ""}`) : item);
    } catch (error) {  // never kept in the clear: the person sends it when there is signal
      form.insertAdjacentElement("beforebegin", Object.assign(document.createElement("p"),
        { className: "error", role: "alert", textContent: text.cannotSeal }));
      if (button) button.disabled = false;
      return;
    }
    // from here on the phone keeps it until the server confirms it
    await forgetDraft(form);
    savedNotice(form, item.state);
    await refresh();
    syncSoon();
  });

  // --- the outbox page ---------------------------------------------------------------------
  const STATES = ["waiting", "sending", "needs_fixing", "needs_sign_in", "conflict", "sent"];

  // The server's one way to write a moment (webapp/dates.py): YYYY-MM-DD HH:mm on the station's
  // clock, whatever the phone's zone or language. Asia/Shanghai has kept UTC+8 all year since 1991.
  const STATION_OFFSET_MS = 8 * 3600 * 1000;
  function stationTime(ms) {
    const local = new Date(ms + STATION_OFFSET_MS).toISOString();  // the station's wall clock, marked "Z"
    return element("time", { datetime: `${local.slice(0, 16)}+08:00`, text: `${local.slice(0, 10)} ${local.slice(11, 16)}` });
  }

  function element(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes)) {
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    node.append(...children);
    return node;
  }

  function editor(item) {
    const form = element("form", { class: "fix", "data-uuid": item.uuid });
    for (const [name, value] of Object.entries(item.fields)) {
      if (["uuid", "recorded_at", "version", "visit_id", "return_visit_id"].includes(name) || Array.isArray(value)) continue;
      const errors = (item.errors || {})[name] || [];
      const long = name === "summary" || name === "findings";
      const input = element(long ? "textarea" : "input", { name });
      input.value = value;
      form.append(element("label", { class: errors.length ? "field invalid" : "field" },
        element("span", { text: text.fields[name] || name }), input,
        ...errors.map((e) => element("p", { class: "error", text: e }))));
    }
    for (const [name, messages] of Object.entries(item.errors || {})) {
      if (!(name in item.fields) || name === "uuid" || name === "recorded_at") {
        messages.forEach((m) => form.append(element("p", { class: "error", text: m })));
      }
    }
    if (item.sealed) {  // the phone cannot open it: only discarding and reporting again helps
      const discard = element("button", { type: "button", text: text.dropMine });
      discard.onclick = async () => { await DB.remove(item.uuid); await refresh(); };
      form.append(element("p", { class: "hint", text: text.sealedFix }), discard);
      return form;
    }
    form.append(element("button", { type: "submit", class: "primary", text: text.resend }));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const fields = { ...item.fields };
      for (const [name, value] of new FormData(form)) fields[name] = value;
      await DB.put({ ...item, fields, state: "waiting", errors: null });
      await refresh();
      syncSoon();
    });
    return form;
  }

  function conflict(item) {
    const server = item.server || {};
    const shown = item.shown || {};
    const mine = Object.entries(item.fields)
      .filter(([n, v]) => !["uuid", "version", "recorded_at"].includes(n) && String(v).trim() !== "")
      .map(([n, v]) => `${text.fields[n] || n}${text.colon}${shown[n] ?? v}`).join(" · ");
    const box = element("div", { class: "conflict" },
      element("div", {}, element("h3", { text: text.yours }),
        element("p", { text: mine ? `${item.stepLabel || item.step}${text.colon}${mine}` : item.stepLabel || item.step })),
      element("div", {}, element("h3", { text: text.theirs }),
        element("p", { text: `${server.status_label || ""} · ${server.risk_label || ""} · ${server.assignee || ""}` }),
        element("p", { class: "hint", text: `${server.last_change || ""} — ${server.last_change_by || ""} ${server.last_change_at || ""}` })));
    const keepMine = element("button", { type: "button", class: "primary", text: text.keepMine });
    keepMine.onclick = async () => {
      await DB.put({ ...item, fields: { ...item.fields, version: String(server.version) }, state: "waiting", server: null });
      await refresh();
      syncSoon();
    };
    const dropMine = element("button", { type: "button", text: text.dropMine });
    dropMine.onclick = async () => { await DB.remove(item.uuid); await refresh(); };
    box.append(element("p", {}, keepMine, " ", dropMine));
    return box;
  }

  async function renderOutbox() {
    const list = document.getElementById("outbox-list");
    const items = (await DB.all()).filter((item) => userId === null || item.userId === userId)
      .sort((a, b) => STATES.indexOf(a.state) - STATES.indexOf(b.state) || a.createdAt - b.createdAt);
    list.replaceChildren(...items.map((item) => {
      const row = element("li", { class: `outbox-item state-${item.state}`, "data-uuid": item.uuid, "data-state": item.state },
        element("strong", { text: item.label || item.kind }),
        element("span", { class: "tag", text: text.states[item.state] || item.state }),
        element("small", {}, stationTime(item.createdAt)));
      if (item.state === "needs_fixing") row.append(editor(item));
      if (item.state === "conflict") row.append(conflict(item));
      if (item.state === "needs_sign_in") row.append(element("p", {}, element("a", { href: "/login?next=/outbox", text: text.signIn })));
      if (item.state === "sent" && item.url) row.append(element("a", { href: item.url, class: "button", text: text.open }));
      return row;
    }));
    document.getElementById("outbox-empty").hidden = items.length > 0;
  }

  async function exportPending() {
    const items = await DB.pending(userId ?? undefined);
    const exported = [];
    for (const item of items) {
      const photos = [];
      for (const photo of item.photos || []) {
        const data = await new Promise((resolve) => {
          const reader = new FileReader();
          reader.onload = () => resolve(String(reader.result).split(",")[1]);
          reader.readAsDataURL(photo.blob);
        });
        photos.push({ name: photo.name, type: photo.type, data });
      }
      exported.push({ ...item, photos });
    }
    const blob = new Blob([JSON.stringify({ exportedAt: new Date().toISOString(), items: exported }, null, 1)],
                          { type: "application/json" });
    const link = element("a", { href: URL.createObjectURL(blob), download: `beatbook-outbox-${Date.now()}.json` });
    document.body.append(link);
    link.click();
    link.remove();
    return items.length;
  }

  document.addEventListener("click", async (event) => {
    const action = event.target.closest("[data-outbox-action]");
    if (!action) return;
    event.preventDefault();
    if (action.dataset.outboxAction === "sync") syncSoon();
    if (action.dataset.outboxAction === "export") {
      await exportPending();
      const exported = document.getElementById("signout-exported");
      if (exported) exported.value = "1";
    }
  });

  // --- signing out: never drop unsent items silently ----------------------------------------
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!form.matches("form[data-sign-out]")) return;
    if (form.dataset.confirmed) return;
    event.preventDefault();
    const pending = await DB.pending(userId);
    const dialog = document.getElementById("signout-dialog");
    const leave = async (dropOutbox) => {
      await tell({ type: "sign-out", dropOutbox });
      form.dataset.confirmed = "1";
      form.submit();
    };
    if (!pending.length || !dialog) { await leave(false); return; }
    dialog.querySelector("[data-count]").textContent = pending.length;
    dialog.showModal();
    dialog.querySelector("[data-signout=anyway]").onclick = () => leave(true);
    dialog.querySelector("[data-signout=cancel]").onclick = () => dialog.close();
  });
})();
