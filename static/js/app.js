// Progressive enhancement only: every action also works without this file.
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const message = button && button.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// Disclosures that are only for a phone (the main menu, the facility filters) carry
// data-wide-open="48rem": open from that width on, closed below it. CSS shows their
// content on wide screens too where ::details-content is known. Escape closes the menu.
document.querySelectorAll("details[data-wide-open]").forEach((details) => {
  if (!window.matchMedia) return;
  const wide = window.matchMedia(`(min-width: ${details.dataset.wideOpen})`);
  const sync = () => {
    if (wide.matches) details.open = true;
    else if (details.classList.contains("nav-menu")) details.open = false;
  };
  sync();
  wide.addEventListener("change", sync);
});
document.addEventListener("keydown", (event) => {
  const menu = document.querySelector("details.nav-menu[open]");
  if (event.key !== "Escape" || !menu || getComputedStyle(menu.querySelector("summary")).display === "none") return;
  menu.open = false;
  menu.querySelector("summary").focus();
});

// A link to a part of the page folded in a <details> (e.g. #history after an undo) opens it.
function openTarget() {
  const target = window.location.hash && document.getElementById(window.location.hash.slice(1));
  const details = target && target.closest("details");
  if (details) details.open = true;
}
window.addEventListener("hashchange", openTarget);
document.addEventListener("DOMContentLoaded", openTarget);

// Plan a season: show only the fields the chosen pattern uses.
function showPatternFields() {
  const chosen = document.querySelector("input[name=pattern]:checked");
  if (!chosen) return;
  document.querySelectorAll("[data-pattern]").forEach((el) => {
    el.hidden = !el.dataset.pattern.split(" ").includes(chosen.value);
  });
}
document.addEventListener("change", (event) => {
  if (event.target.name === "pattern") showPatternFields();
});
document.addEventListener("DOMContentLoaded", showPatternFields);

// Move focus to the error summary so screen-reader and keyboard users land on it.
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector(".error-summary[tabindex]");
  if (summary) summary.focus();
});

// The member's page: an answer is a normal form post (works without this file); with
// JavaScript the session's card and the message are replaced in place, no page jump.
function keepOpen(oldCard, newCard) {
  oldCard.querySelectorAll("details").forEach((details, index) => {
    const twin = newCard.querySelectorAll("details")[index];
    if (twin && details.open) twin.open = true;
  });
}

function fallbackSubmit(form, button) {
  if (button && button.name) {
    const hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = button.name;
    hidden.value = button.value;
    form.appendChild(hidden);
  }
  delete form.dataset.enhance;
  form.submit();
}

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !["answer", "checkin"].includes(form.dataset.enhance)) return;
  if (event.defaultPrevented || !window.fetch || !window.DOMParser) return;
  event.preventDefault();
  const button = event.submitter;
  const data = new FormData(form);
  if (button && button.name) data.set(button.name, button.value);
  const card = form.closest("[data-replace][id]") || form.closest("article[id]");
  form.setAttribute("aria-busy", "true");
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
    });
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = card && doc.getElementById(card.id);
    if (!fresh) {
      fallbackSubmit(form, button);
      return;
    }
    // Another tap may have replaced the card meanwhile: replace what is there now.
    const current = document.getElementById(card.id) || card;
    keepOpen(current, fresh);
    current.replaceWith(fresh);
    // Counters that depend on every row (e.g. "3 people present") follow each tap.
    for (const counter of doc.querySelectorAll("[data-live-count][id]")) {
      const shown = document.getElementById(counter.id);
      if (shown) shown.replaceWith(document.adoptNode(counter));
    }
    const oldFlashes = document.querySelector(".flashes");
    const newFlashes = doc.querySelector(".flashes");
    if (oldFlashes) oldFlashes.remove();
    if (newFlashes) document.querySelector("main").prepend(document.adoptNode(newFlashes));
    const state = fresh.querySelector(".answer-state, .person-state") || fresh;
    state.setAttribute("tabindex", "-1");
    state.focus({ preventScroll: true });
  } catch (error) {
    fallbackSubmit(form, button);
  }
});

// The check-in list's name filter: rows hide as you type (the form also works without
// JavaScript, as ?q=).
document.addEventListener("input", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.id !== "checkin-q") return;
  const words = input.value.trim().toLocaleLowerCase();
  for (const row of document.querySelectorAll(".checkin-list .person")) {
    const name = (row.querySelector(".person-who strong") || row).textContent.toLocaleLowerCase();
    row.hidden = words !== "" && !name.includes(words);
  }
});
