/* Customer actions: a new support call, one call's story with a reply box, the portal password.
   Loaded after portal.js, whose helpers (h, t, api, show, session, ...) it uses. An action is sent with an
   Idempotency-Key that is kept until it succeeds, so pressing the button again after an error never acts twice.
   After a 202 the page waits for the projection to show the change (read your writes); if it does not within
   a few seconds, it says the request is still being processed instead of showing stale data. */
/* global h, t, api, show, session, viewHeader, message, stamp, number, VIEWS, logout, waitText, sessionSaved, state */
"use strict";

const CATEGORIES = ["bug_report", "help_request", "development_request", "consultation", "other"];
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

/* ---------- a new support call ---------- */

async function renderNewCall(prefill = "") {
  const preset = Object.fromEntries(new URLSearchParams(prefill));
  let serials = [];
  try {
    const annex = await api("contract-annex");
    serials = annex.contracts.flatMap((c) => c.items.map((i) => ({ serial: i.serial_number, name: i.product_name })));
  } catch (error) {
    if (error.status === 401) throw error; // no annex: the program list stays empty
  }
  const option = (value, label, current) => h("option", { value, selected: value === current }, label);
  const form = h("form", { className: "action-form", novalidate: true, "data-form": "newcall" },
    fieldBox("nc-category", "newcall.category", h("select", { id: "nc-category", name: "category", required: true },
      option("", t("newcall.choose"), preset.category || ""),
      CATEGORIES.map((c) => option(c, t(`category.${c}`), preset.category)))),
    fieldBox("nc-subject", "newcall.subject", h("input", { id: "nc-subject", name: "subject", required: true,
      value: preset.subject || "" }), t("newcall.subjectHint")),
    fieldBox("nc-description", "newcall.description", h("textarea", { id: "nc-description", name: "description",
      rows: "6" }, preset.description || "")),
    fieldBox("nc-serial", "newcall.program", h("select", { id: "nc-serial", name: "serial_number" },
      option("", t("newcall.noProgram"), preset.serial_number || ""),
      serials.map((s) => option(s.serial, `${s.name} (${s.serial})`, preset.serial_number)))),
    h("div", { className: "form-status", "aria-live": "polite" }),
    h("div", { className: "buttons" }, h("button", { type: "submit" }, t("newcall.submit"))));
  form.dataset.key = newKey();
  form.addEventListener("submit", (event) => { event.preventDefault(); submitNewCall(form); });
  return [viewHeader("newcall.title"), h("p", { className: "hint" }, t("newcall.hint")), form];
}

function newCallErrors(body) {
  const errors = {};
  if (!body.category) errors.category = t("newcall.needCategory");
  if (!body.subject.trim()) errors.subject = t("newcall.needSubject");
  else if (body.subject.length > LIMITS.subject) errors.subject = t("newcall.longSubject", { n: LIMITS.subject });
  if (body.description.length > LIMITS.description) {
    errors.description = t("newcall.longDescription", { n: number(LIMITS.description) });
  }
  return errors;
}

async function submitNewCall(form) {
  const values = Object.fromEntries(new FormData(form));
  const body = { category: values.category, subject: values.subject.trim(), description: values.description };
  if (showErrors(form, newCallErrors(body))) return formStatus(form, "");
  if (!body.description.trim()) delete body.description;
  if (values.serial_number) body.serial_number = values.serial_number;
  submitting(form, true);
  const answer = await sendAction("POST", "support-calls", body, form.dataset.key);
  submitting(form, false);
  if (commonProblem(form, answer)) return;
  if (answer.status === 400) {
    formStatus(form, "");
    return showErrors(form, serverErrors(answer.body, { serial_number: t("newcall.badProgram") }));
  }
  if (answer.status !== 202) return formStatus(form, t("action.unavailable"), "error");
  formStatus(form, t("action.waiting"));
  const callId = answer.body.call_id;
  const seen = await waitFor(() => api(`support-calls/${encodeURIComponent(callId)}`));
  state.notice = seen ? t("newcall.done") : null;
  if (!seen) return formStatus(form, t("action.pending", { id: callId }), "info");
  location.hash = `#call/${encodeURIComponent(callId)}`;
}

/* The API's field errors in the portal's words (its own for the known fields, the API's text otherwise). */
function serverErrors(problem, known = {}) {
  const errors = {};
  for (const [name, texts] of Object.entries(problem?.errors || {})) {
    errors[name] = known[name] || [].concat(texts).join(" ");
  }
  return errors;
}

/* ---------- one call: its story and the reply box ---------- */

function historyLine(entry) {
  const text = {
    opened: () => t("history.opened"),
    assigned: () => t("history.assigned", { assignee: entry.assignee }),
    status_changed: () => t("history.status_changed", { status: t(`status.${entry.status}`) }),
    work_logged: () => t("history.work_logged", { staff: entry.staff, minutes: number(entry.minutes),
      chargeable: t(entry.chargeable ? "history.chargeable" : "history.free") }),
    customer_replied: () => t("history.customer_replied"),
    closed: () => t("history.closed"),
    reopened: () => t("history.reopened"),
  }[entry.kind]();
  const detail = entry.note || entry.message || entry.resolution || entry.reason ||
    (entry.kind === "work_logged" ? entry.description : null);
  return h("li", { className: `event kind-${entry.kind}`, "data-kind": entry.kind },
    h("span", { className: "event-at" }, stamp(entry.at)),
    h("span", { className: "event-what" }, text), detail ? h("p", { className: "event-detail" }, detail) : null);
}

async function renderCall(rawId = "") {
  const callId = decodeURIComponent(rawId);
  let call;
  try {
    call = await api(`support-calls/${encodeURIComponent(callId)}`);
  } catch (error) {
    if (error.status === 404) return [viewHeader("call.notFoundTitle"), message(t("call.notFound"))];
    throw error;
  }
  const notice = state.notice;
  state.notice = null;
  return [
    h("div", { className: "view-head" }, h("h1", { tabindex: "-1" }, t("call.title", { id: call.call_id })),
      h("p", { className: "subtitle", "data-field": "subject" }, call.subject)),
    notice ? message(notice, "success") : null,
    h("p", {}, h("span", { className: `badge ${call.status}`, "data-field": "status" }, t(`status.${call.status}`)),
      " ", h("span", { className: "hint" }, `${t(`category.${call.category}`)} · ${t(`channel.${call.channel}`)}`)),
    call.description ? h("p", { className: "call-description", "data-field": "description" }, call.description) : null,
    h("h2", {}, t("call.history")),
    h("ol", { className: "timeline", "data-field": "history" }, call.history.map(historyLine)),
    replyBox(call),
  ];
}

function replyBox(call) {
  if (call.status === "closed") return message(t("call.closedNote"));
  const waiting = call.status === "waiting_for_customer";
  const form = h("form", { className: `action-form reply${waiting ? " waiting" : ""}`, novalidate: true,
    "data-form": "reply" },
    waiting ? h("p", { className: "reply-hint" }, h("strong", {}, t("call.waitingHint"))) : null,
    fieldBox("reply-message", "call.reply", h("textarea", { id: "reply-message", name: "message", rows: "4" })),
    h("div", { className: "form-status", "aria-live": "polite" }),
    h("div", { className: "buttons" }, h("button", { type: "submit" }, t("call.replySubmit"))));
  form.dataset.key = newKey();
  form.addEventListener("submit", (event) => { event.preventDefault(); submitReply(form, call); });
  return form;
}

async function submitReply(form, call) {
  const text = form.message.value;
  const errors = {};
  if (!text.trim()) errors.message = t("call.needMessage");
  else if (text.length > LIMITS.message) errors.message = t("call.longMessage", { n: number(LIMITS.message) });
  if (showErrors(form, errors)) return formStatus(form, "");
  const replies = call.history.filter((e) => e.kind === "customer_replied").length;
  submitting(form, true);
  const path = `support-calls/${encodeURIComponent(call.call_id)}/replies`;
  const answer = await sendAction("POST", path, { message: text }, form.dataset.key);
  submitting(form, false);
  if (commonProblem(form, answer)) return;
  if (answer.status === 409) return formStatus(form, t("call.conflict"), "error");
  if (answer.status === 400) return showErrors(form, serverErrors(answer.body));
  if (answer.status !== 202) return formStatus(form, t("action.unavailable"), "error");
  formStatus(form, t("action.waiting"));
  const seen = await waitFor(async () => {
    const now = await api(`support-calls/${encodeURIComponent(call.call_id)}`);
    return now.history.filter((e) => e.kind === "customer_replied").length > replies ? now : null;
  });
  if (!seen) return formStatus(form, t("action.pendingReply"), "info");
  state.notice = t("call.replied");
  show("call", "#reply-message", encodeURIComponent(call.call_id));
}

/* ---------- the portal password ---------- */

function renderPassword() {
  const input = (id, name, labelKey, autocomplete, hintText) => fieldBox(id, labelKey,
    h("input", { id, name, type: "password", autocomplete }), hintText);
  const setForm = h("form", { className: "action-form", novalidate: true, "data-form": "password-set" },
    h("h2", {}, t("password.setTitle")),
    input("pw-current", "current_password", "password.current", "current-password", t("password.currentHint")),
    input("pw-new", "new_password", "password.new", "new-password", t("password.rules")),
    input("pw-again", "new_password_again", "password.again", "new-password"),
    h("div", { className: "form-status", "aria-live": "polite" }),
    h("div", { className: "buttons" }, h("button", { type: "submit" }, t("password.save"))));
  const removeForm = h("form", { className: "action-form", novalidate: true, "data-form": "password-remove" },
    h("h2", {}, t("password.removeTitle")), h("p", { className: "hint" }, t("password.removeHint")),
    input("pw-remove-current", "current_password", "password.current", "current-password"),
    h("div", { className: "form-status", "aria-live": "polite" }),
    h("div", { className: "buttons" }, h("button", { type: "submit", className: "secondary" }, t("password.remove"))));
  for (const form of [setForm, removeForm]) form.dataset.key = newKey();
  setForm.addEventListener("submit", (event) => { event.preventDefault(); submitPassword(setForm, "PUT"); });
  removeForm.addEventListener("submit", (event) => { event.preventDefault(); submitPassword(removeForm, "DELETE"); });
  return [viewHeader("password.title"), h("p", { className: "hint" }, t("password.intro")), setForm, removeForm];
}

function passwordErrors(form, method) {
  const errors = {};
  const current = form.current_password.value;
  if (method === "DELETE") {
    if (!current) errors.current_password = t("password.needCurrent");
    return errors;
  }
  const fresh = form.new_password.value;
  const code = session()?.customer_code || "";
  if (fresh.length < LIMITS.passwordMin) errors.new_password = t("password.short", { n: LIMITS.passwordMin });
  else if (fresh.length > LIMITS.passwordMax) errors.new_password = t("password.long", { n: LIMITS.passwordMax });
  else if (code && fresh.toLowerCase().includes(code.toLowerCase())) errors.new_password = t("password.hasCode");
  else if (fresh !== form.new_password_again.value) errors.new_password_again = t("password.mismatch");
  return errors;
}

async function submitPassword(form, method) {
  if (showErrors(form, passwordErrors(form, method))) return formStatus(form, "");
  const body = { current_password: form.current_password.value || null };
  if (method === "PUT") body.new_password = form.new_password.value;
  submitting(form, true);
  const answer = await sendAction(method, "portal-password", body, form.dataset.key);
  submitting(form, false);
  if (answer.status === 401) return showErrors(form, { current_password: t("password.wrongCurrent") });
  if (answer.status === 429) return formStatus(form, t("password.limited"), "error");
  if (commonProblem(form, answer)) return;
  if (answer.status === 409) return formStatus(form, t("password.none"), "error");
  if (answer.status === 400) {
    return showErrors(form, serverErrors(answer.body, {
      new_password: t("password.rejected"), current_password: t("password.needCurrent") }));
  }
  if (answer.status !== 202) return formStatus(form, t("action.unavailable"), "error");
  formStatus(form, t("action.waiting"));
  await followPasswordChange(form, method === "PUT" ? body.new_password : null);
}

/* The change is projected when this session's token is refused; then log in again with the new password. */
async function followPasswordChange(form, newPassword) {
  const ended = await waitFor(async () => {
    const response = await fetch("/api/v1/contract-annex", { headers: { Authorization: `Bearer ${session()?.token}` } });
    return response.status === 401;
  });
  if (!ended) return formStatus(form, t("password.pending"), "info");
  const current = session();
  const credentials = { customer_code: current.customer_code, serial_number: current.serial_number };
  if (newPassword) credentials.password = newPassword;
  const response = await fetch("/api/v1/sessions", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(credentials) });
  if (response.status !== 201) return logout("password.loginAgain");
  sessionSaved(await response.json());
  state.notice = t(newPassword ? "password.done" : "password.removed");
  show("password", "h1");
}

function renderPasswordView() {
  const notice = state.notice;
  state.notice = null;
  const content = renderPassword();
  if (notice) content.splice(1, 0, message(notice, "success"));
  return content;
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

Object.assign(VIEWS, { newcall: renderNewCall, call: renderCall, password: renderPasswordView });
