// The check-in pages' camera scanner for personal check-in codes (progressive enhancement:
// without JavaScript or a camera, the typed code in the same form does the same).
// A scanned code goes through the page's own check-in form, posted in the background, so
// the camera keeps running for the next person; the list, the counter and the message
// are then taken from the page the server answers with.
(() => {
  const box = document.querySelector("[data-scanner]");
  const form = document.querySelector("form[data-scan-form]");
  if (!box || !form || !window.ZXingBrowser || !navigator.mediaDevices || !window.fetch) return;
  const start = box.querySelector("[data-scan-start]");
  const stop = box.querySelector("[data-scan-stop]");
  const video = box.querySelector("video");
  const status = box.querySelector("[data-scan-status]");
  const input = form.querySelector("input[name=code]");
  let controls = null;
  let busy = false;
  let last = { text: "", at: 0 };
  box.hidden = false;

  function say(text, kind) {
    status.textContent = text;
    status.dataset.kind = kind || "";
  }

  function takeOver(doc) {
    // The fresh list, counter and messages from the server's page.
    for (const selector of [".checkin-list", "#checkin-count"]) {
      const fresh = doc.querySelector(selector);
      const shown = document.querySelector(selector);
      if (fresh && shown) shown.replaceWith(document.adoptNode(fresh));
    }
    const oldFlashes = document.querySelector(".flashes");
    if (oldFlashes) oldFlashes.remove();
  }

  async function send(text) {
    busy = true;
    input.value = text;
    const data = new FormData(form);
    try {
      const response = await fetch(form.action, { method: "POST", body: data, credentials: "same-origin" });
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      takeOver(doc);
      const error = doc.querySelector("#code-error");
      const done = doc.querySelector(".flashes .flash-success");
      // Success is the server's own message, never merely a 200 (an expired login
      // answers with the login page).
      if (response.ok && done && !error) {
        input.value = "";
        say(done.textContent.trim(), "ok");
      } else {
        say(error ? error.textContent.trim() : box.dataset.failed, "error");
      }
    } catch (problem) {
      say(box.dataset.failed, "error");
    } finally {
      busy = false;
    }
  }

  function found(result) {
    if (!result || busy) return;
    const text = result.getText();
    const now = Date.now();
    // The same code stays in front of the camera for a while: one check-in per showing
    // (seen again within 10 seconds of the last sighting is the same showing).
    const again = text === last.text && now - last.at < 10000;
    last = { text, at: now };
    if (!again) send(text);
  }

  async function begin() {
    const reader = new ZXingBrowser.BrowserQRCodeReader();
    start.disabled = true;
    say(box.dataset.starting);
    try {
      video.hidden = false;
      controls = await reader.decodeFromConstraints(
        { audio: false, video: { facingMode: "environment" } },
        video,
        (result) => found(result),
      );
      start.hidden = true;
      stop.hidden = false;
      say(box.dataset.ready);
    } catch (problem) {
      video.hidden = true;
      start.disabled = false;
      say(box.dataset.noCamera, "error");
    }
  }

  function end() {
    if (controls) controls.stop();
    controls = null;
    video.hidden = true;
    stop.hidden = true;
    start.hidden = false;
    start.disabled = false;
    say("");
  }

  start.addEventListener("click", begin);
  stop.addEventListener("click", end);
})();
