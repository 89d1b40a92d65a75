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

  // A field that only matters with a box ticked ("how many people" with "many people") is hidden
  // without it; the page shows it to a phone without scripts, and the server checks it either way.
  const showIfTicked = (part) => {
    const box = part.closest("form")?.querySelector(`input[name="${part.dataset.shownWith}"]`);
    if (box) part.hidden = !box.checked;
  };

  // The photo picker: the real file input stays; chosen photos add up (a camera gives one at a
  // time) and each shows as a thumbnail with its own remove button.
  const setFiles = (input, files) => {
    const list = new DataTransfer();
    files.forEach((file) => list.items.add(file));
    input.files = list.files;
  };
  const showPhotos = (input) => {
    const previews = input.closest("[data-photo-picker]")?.querySelector("[data-photo-previews]");
    if (!previews) return;
    previews.querySelectorAll("img").forEach((img) => URL.revokeObjectURL(img.src));
    previews.replaceChildren(...[...input.files].map((file, index) => {
      const item = document.createElement("li");
      const image = Object.assign(document.createElement("img"), { src: URL.createObjectURL(file), alt: file.name });
      const remove = Object.assign(document.createElement("button"), { type: "button", textContent: "×" });
      remove.setAttribute("aria-label", `${previews.dataset.removeLabel} ${file.name}`);
      remove.dataset.removePhoto = index;
      item.append(image, remove);
      return item;
    }));
  };
  const chosenPhotos = new WeakMap();
  const pickPhotos = (input) => {
    const files = input.multiple ? [...(chosenPhotos.get(input) || []), ...input.files] : [...input.files];
    if (input.multiple) setFiles(input, files);
    chosenPhotos.set(input, files);
    showPhotos(input);
  };
  const removePhoto = (button) => {
    const input = button.closest("[data-photo-picker]").querySelector("input[type=file]");
    const files = [...input.files].filter((_, index) => index !== Number(button.dataset.removePhoto));
    setFiles(input, files);
    chosenPhotos.set(input, files);
    showPhotos(input);
  };

  const init = (root) => {
    root.querySelectorAll("form[data-client-record]").forEach(stamp);
    root.querySelectorAll("[data-shown-with]").forEach(showIfTicked);
    // A refused form comes back in place: its list of errors is where the eye (and a screen
    // reader) goes next, not wherever the submit button had scrolled to.
    root.querySelector(".error-summary")?.focus();
  };

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-locate]");
    if (button) locate(button);
    const remove = event.target.closest("[data-remove-photo]");
    if (remove) removePhoto(remove);
  });
  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.matches("[data-photo-picker] input[type=file]")) pickPhotos(target);
    if (target.name && target.form) {
      target.form.querySelectorAll(`[data-shown-with="${target.name}"]`).forEach(showIfTicked);
    }
  });
  document.addEventListener("DOMContentLoaded", () => init(document));
  document.addEventListener("htmx:after:swap", (event) => init(event.target.parentElement || document));
  document.addEventListener("beatbook:swapped", () => init(document));
})();
