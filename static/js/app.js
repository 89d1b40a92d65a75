// Beatbook page helpers: location for reports, a phone-made id and time for every record.
(() => {
  "use strict";

  // Every record made on this phone carries its own id (its time is set when it is sent): a
  // replay of the same form (double tap, retry, offline outbox) is then the same record.
  const stamp = (form) => {
    const id = form.querySelector("input[name=uuid]");
    if (id && !id.value && crypto.randomUUID) id.value = crypto.randomUUID();
  };

  const locate = (button) => {
    const form = button.closest("form");
    const status = form.querySelector("[data-locate-status]");
    const say = (text) => { if (status) status.textContent = text; };
    if (!navigator.geolocation) { say(button.dataset.unavailable || "—"); return; }
    say("…");
    navigator.geolocation.getCurrentPosition((position) => {
      const { latitude, longitude, accuracy } = position.coords;
      form.querySelector("input[name=latitude]").value = latitude.toFixed(6);
      form.querySelector("input[name=longitude]").value = longitude.toFixed(6);
      form.querySelector("input[name=gps_accuracy_m]").value = Math.round(accuracy);
      say(`✓ ${latitude.toFixed(5)}, ${longitude.toFixed(5)} (±${Math.round(accuracy)} m)`);
    }, (error) => say(error.message), { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  };

  const init = (root) => root.querySelectorAll("form[data-client-record]").forEach(stamp);

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-locate]");
    if (button) locate(button);
  });
  document.addEventListener("DOMContentLoaded", () => init(document));
  document.addEventListener("htmx:after:swap", (event) => init(event.target.parentElement || document));
  document.addEventListener("beatbook:swapped", () => init(document));
})();
