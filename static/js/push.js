// Push settings page: subscribe this phone to alerts (VAPID), and say clearly when it cannot.
(() => {
  "use strict";
  const box = document.getElementById("push-settings");
  if (!box) return;
  const text = JSON.parse(document.getElementById("push-text").textContent);
  const status = box.querySelector("[data-push-status]");
  const say = (key) => { status.textContent = text[key]; };
  const key = (base64url) => {
    const raw = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  };
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    say("unsupported");
    box.querySelector("[data-push=subscribe]").disabled = true;
    return;
  }
  box.querySelector("[data-push=subscribe]").addEventListener("click", async () => {
    try {
      if ((await Notification.requestPermission()) !== "granted") { say("denied"); return; }
      const registration = await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: key(box.dataset.publicKey) });
      const response = await fetch(box.dataset.subscribeUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json",
                   "X-CSRFToken": document.querySelector("meta[name=csrf-token]").content },
        body: JSON.stringify(subscription) });
      say(response.ok ? "done" : "failed");
      if (response.ok) location.reload();
    } catch (error) {
      say("failed");
    }
  });
})();
