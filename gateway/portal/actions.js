/* Customer actions, the common part: sending an action with its Idempotency-Key, waiting for it to be projected,
   form errors and statuses. Loaded after portal.js (whose helpers it uses) and before calls.js and password.js.
   An action's key is kept until it succeeds, so pressing the button again after an error never acts twice.
   After a 202 the page waits for the projection to show the change (read your writes); if it does not within
   a few seconds, it says the request is still being processed instead of showing stale data. */
/* global h, t, api, show, session, viewHeader, message, stamp, number, VIEWS, logout, waitText, sessionSaved, state */
"use strict";

const LIMITS = { subject: 200, description: 5000, message: 5000, passwordMin: 10, passwordMax: 128 };
const VISIBLE_WITHIN_MS = 5000;

function newKey() {
  return crypto.randomUUID();
}

async function sendAction(method, path, body, key) {
  let response;
  try {
    response = await fetch(`/api/v1/${path}`, {
      method,
      headers: { Authorization: `Bearer ${session()?.token}`, "Content-Type": "application/json", "Idempotency-Key": key },
      body: JSON.stringify(body),
    });
  } catch {
    return { status: 0, body: null, headers: new Headers() };
  }
  const answer = await response.json().catch(() => null);
  if (response.status === 401 && answer?.title !== "Wrong password") {
    logout("login.expired");
  }
  return { status: response.status, body: answer, headers: response.headers };
}

/* Poll until `check()` gives a value (or the time is up: null). */
async function waitFor(check, within = VISIBLE_WITHIN_MS) {
  const deadline = Date.now() + within;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      if (error.status === 401) throw error;
    }
    if (Date.now() > deadline) return null;
    await new Promise((resolve) => { setTimeout(resolve, 250); });
  }
}

/* ---------- form helpers ---------- */

function fieldBox(id, labelKey, control, hintText) {
  const error = h("p", { className: "field-error", id: `${id}-error`, hidden: true });
  control.setAttribute("aria-describedby", `${id}-error`);
  return h("div", { className: "field", "data-field-box": id }, h("label", { for: id }, t(labelKey)), control,
    hintText ? h("p", { className: "hint" }, hintText) : null, error);
}

function showErrors(form, errors) {
  let first = null;
  form.querySelectorAll(".field-error").forEach((node) => { node.hidden = true; node.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
  for (const [name, text] of Object.entries(errors)) {
    const input = form.querySelector(`[name="${name}"]`);
    const box = input && form.querySelector(`#${input.id}-error`);
    if (!box) continue;
    box.textContent = text;
    box.hidden = false;
    input.setAttribute("aria-invalid", "true");
    first = first || input;
  }
  if (first) first.focus();
  return Boolean(first);
}

function formStatus(form, text, kind = "info") {
  const box = form.querySelector(".form-status");
  box.replaceChildren(text ? message(text, kind) : "");
}

/* The common answers to an action: 429, 503 and network errors; false when the caller handles the status. */
function commonProblem(form, answer) {
  if (answer.status === 429) {
    const wait = Number(answer.headers.get("Retry-After")) || 60;
    formStatus(form, t("action.limited", { wait: waitText(wait) }), "error");
    return true;
  }
  if (answer.status === 0 || answer.status >= 500) {
    formStatus(form, t("action.unavailable"), "error");
    return true;
  }
  return false;
}

function submitting(form, busy) {
  form.querySelectorAll("button, input, select, textarea").forEach((node) => { node.disabled = busy; });
  if (busy) document.querySelectorAll("#view .message.success").forEach((node) => node.remove());
  formStatus(form, busy ? t("action.sending") : "");
}
function serverErrors(problem, known = {}) {
  const errors = {};
  for (const [name, texts] of Object.entries(problem?.errors || {})) {
    errors[name] = known[name] || [].concat(texts).join(" ");
  }
  return errors;
}

/* ---------- "Hiba a mellékletben?" on the annex ---------- */

function annexReport(annex) {
  const prefill = new URLSearchParams({ category: "other", subject: t("annex.reportSubject") });
  const email = annex.report_to?.email;
  return h("aside", { className: "note report", "data-field": "annex-report" },
    h("strong", {}, t("annex.reportTitle")), " ",
    h("a", { href: `#newcall/${prefill}`, className: "button-link" }, t("annex.reportCall")),
    email ? [" ", t("annex.reportOr"), " ", h("a", { href: `mailto:${email}` }, email)] : null);
}
