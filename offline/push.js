// Push alerts: show them (one per lead: repeats replace each other), open the lead on a tap.
"use strict";
self.BeatbookPush = (() => {
  function show(event) {
    let data = {};
    try { data = event.data ? event.data.json() : {}; } catch (error) { data = {}; }
    const title = data.title || "Beatbook";
    return self.registration.showNotification(title, {
      body: data.body || "", tag: data.tag || "beatbook", renotify: true,
      icon: CONFIG.icon, badge: CONFIG.icon, data: { url: data.url || "/" },
    });
  }

  async function open(event) {
    event.notification.close();
    const url = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const client of windows) {
      if ("focus" in client) {
        await client.focus();
        if (client.url !== url.href && "navigate" in client) await client.navigate(url.href);
        return;
      }
    }
    await self.clients.openWindow(url.href);
  }

  return { show, open };
})();
