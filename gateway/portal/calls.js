/* A new support call, and one call's story with the reply box (views #newcall and #call/<id>). */
/* global h, t, api, show, session, viewHeader, message, stamp, number, VIEWS, logout, waitText, sessionSaved, state,
   newKey, sendAction, waitFor, fieldBox, showErrors, formStatus, commonProblem, submitting, serverErrors, LIMITS */
"use strict";

const CATEGORIES = ["bug_report", "help_request", "development_request", "consultation", "other"];

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

/* The API's field errors in the portal's words (its own for the known fields, the API's text otherwise). *//* ---------- one call: its story and the reply box ---------- */

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

Object.assign(VIEWS, { newcall: renderNewCall, call: renderCall });
