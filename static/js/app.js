// Progressive enhancement only: every action also works without this file.
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const message = button && button.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

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
