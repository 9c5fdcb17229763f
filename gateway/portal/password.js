/* The portal password: set, change, remove (view #password). */
/* global h, t, api, show, session, viewHeader, message, stamp, number, VIEWS, logout, waitText, sessionSaved, state,
   newKey, sendAction, waitFor, fieldBox, showErrors, formStatus, commonProblem, submitting, serverErrors, LIMITS */
"use strict";

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

Object.assign(VIEWS, { password: renderPasswordView });
