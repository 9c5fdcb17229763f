/* Portal views and blocks built on portal.js: invoices, the settlement sheet, bank details with the payment
   QR code, PDF downloads and date pickers that show Hungarian dates whatever the browser's locale. */
/* global VIEWS, state, t, h, api, day, money, table, facts, copyable, viewHeader, message, show */
"use strict";

state.asOf = { balance: "", annex: "", fee: "" };
state.invoices = { status: "all" };
state.sheet = {};

/* "2026. 11. 26." (or 2026-11-26, 2026.11.26) -> "2026-11-26"; "" stays ""; anything else null. */
function parseDay(text) {
  const value = text.trim();
  if (!value) return "";
  const match = value.match(/^(\d{4})[.\-/]\s*(\d{1,2})[.\-/]\s*(\d{1,2})\.?$/);
  if (!match) return null;
  const iso = `${match[1]}-${match[2].padStart(2, "0")}-${match[3].padStart(2, "0")}`;
  const check = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(check) && check.toISOString().slice(0, 10) === iso ? iso : null;
}

function inputDay(iso) {
  return iso ? (state.lang === "hu" ? day(iso) : iso) : "";
}

/* A text field for a date: typed as the page shows dates, checked before the view asks the API. */
function dateField(id, labelKey, iso) {
  return h("div", { className: "field" }, h("label", { for: id }, t(labelKey)),
    h("input", { id, name: id, type: "text", inputmode: "numeric", autocomplete: "off", value: inputDay(iso),
      placeholder: t("date.placeholder"), "aria-describedby": `${id}-hint`, className: "date-input" }),
    h("span", { id: `${id}-hint`, className: "hint small" }, t("date.hint")));
}

/* A form of date fields; on submit `apply(values)` gets ISO dates (or the form says which one is wrong). */
function dateForm(fields, apply, extra = []) {
  const error = h("p", { className: "error", role: "alert", hidden: true });
  const form = h("form", { className: "filters", novalidate: true }, fields, extra,
    h("div", { className: "field buttons" }, h("button", { type: "submit" }, t("date.show"))), error);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = {};
    for (const input of form.querySelectorAll("input.date-input")) {
      values[input.name] = parseDay(input.value);
      if (values[input.name] === null) {
        error.hidden = false;
        error.textContent = t("date.invalid", { value: input.value });
        input.focus();
        return;
      }
    }
    for (const select of form.querySelectorAll("select")) values[select.name] = select.value;
    apply(values);
  });
  return form;
}

function asOfPicker(view) {
  return dateForm([dateField(`asof-${view}`, "date.asOf", state.asOf[view])], (values) => {
    state.asOf[view] = values[`asof-${view}`];
    show(view, `#asof-${view}`);
  });
}

/* Download a document the API makes (the bearer token rules out a plain link). */
function downloadButton(labelKey, path, params, filename, accept = "application/pdf") {
  const button = h("button", { type: "button", className: "button-link download" }, t(labelKey));
  button.addEventListener("click", async () => {
    try {
      const blob = await api(path, params, accept);
      const url = URL.createObjectURL(blob);
      const save = h("a", { href: url, download: filename, hidden: true });
      document.body.append(save);
      save.click();
      save.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (error) {
      if (error.status !== 401) button.after(message(t("download.failed"), "error"));
    }
  });
  return button;
}

/* Bank details with a copy button each, and the instant-payment QR code. */
function paymentBlock(payment) {
  if (!payment) return null;
  const qr = h("img", { className: "qr", alt: t("pay.qrAlt"), width: "180", height: "180", "data-field": "qr" });
  api("payment-qr.png", {}, "image/png").then((blob) => {
    const reader = new FileReader(); // a data: URL, which the portal's policy allows for images
    reader.onload = () => { qr.src = reader.result; };
    reader.readAsDataURL(blob);
  }).catch(() => qr.replaceWith(message(t("pay.qrFailed"))));
  return h("section", { className: "payment", "aria-labelledby": "pay-title" },
    h("h2", { id: "pay-title" }, t("pay.title")),
    h("div", { className: "payment-body" },
      facts([[t("pay.beneficiary"), copyable(payment.beneficiary, "beneficiary"), "pay-beneficiary"],
        [t("pay.account"), copyable(payment.account_number, "account_number"), "pay-account"],
        [t("pay.iban"), copyable(payment.iban, "iban"), "pay-iban"],
        [t("pay.bic"), copyable(payment.bic, "bic"), "pay-bic"],
        [t("pay.amount"), copyable(money(payment.amount), "pay_amount", String(payment.amount)), "pay-amount"],
        [t("pay.reference"), copyable(payment.reference, "pay_reference"), "pay-reference"]]),
      h("figure", { className: "qr-box" }, qr, h("figcaption", {}, t("pay.qrHint")))));
}

function invoiceBadge(status) {
  return h("span", { className: `badge invoice-${status}`, "data-status": status }, t(`invoice.${status}`));
}

async function renderInvoices() {
  const filters = state.invoices;
  const data = await api("invoices", { status: filters.status, from: filters.from, to: filters.to });
  const statuses = ["all", "open", "overdue", "paid", "cancelled"];
  const select = h("div", { className: "field" }, h("label", { for: "inv-status" }, t("invoice.filter")),
    h("select", { id: "inv-status", name: "status" }, statuses.map((s) =>
      h("option", { value: s, selected: s === filters.status }, t(s === "all" ? "support.all" : `invoice.${s}`)))));
  const form = dateForm([dateField("from", "invoice.from", filters.from), dateField("to", "invoice.to", filters.to)],
    (values) => { state.invoices = values; show("invoices", "#inv-status"); }, [select]);
  return [
    viewHeader("invoices.title", t("asOf", { date: day(data.as_of) })),
    form,
    facts([[t("invoices.open"), money(data.totals.open_amount), "open_amount"],
      [t("invoices.overdue"), money(data.totals.overdue_amount), "overdue_amount"]]),
    data.invoices.length ? table("invoices", [
      { key: "invoice_number", label: "col.invoice", cell: (i) => h("span", { className: "nowrap" }, i.invoice_number) },
      { key: "issued_on", label: "col.issued", cell: (i) => day(i.issued_on) },
      { key: "due_on", label: "col.due", cell: (i) => day(i.due_on) },
      { key: "description", label: "col.description", cell: (i) => i.description },
      { key: "gross_amount", label: "col.gross", num: true, cell: (i) => money(i.gross_amount) },
      { key: "paid_amount", label: "col.paid", num: true, cell: (i) => money(i.paid_amount) },
      { key: "open_amount", label: "col.open", num: true, cell: (i) => money(i.open_amount) },
      { key: "status", label: "col.status", cell: (i) => invoiceBadge(i.status) },
    ], data.invoices) : message(t("invoices.empty")),
  ];
}

async function renderSheet() {
  const period = state.sheet;
  const data = await api("statements/settlement-sheet", { from: period.from, to: period.to, lang: state.lang });
  const form = dateForm([dateField("sheet-from", "sheet.from", data.from), dateField("sheet-to", "sheet.to", data.to)],
    (values) => { state.sheet = { from: values["sheet-from"], to: values["sheet-to"] }; show("sheet", "#sheet-from"); });
  const pdf = { from: data.from, to: data.to, format: "pdf" };
  return [
    viewHeader("sheet.title", t("sheet.period", { from: day(data.from), to: day(data.to) })),
    form,
    downloadButton("download.pdf", "statements/settlement-sheet", pdf, `elszamololap-${data.from}-${data.to}.pdf`),
    facts([[t("sheet.opening"), money(data.opening_balance), "opening_balance"],
      [t("sheet.closing"), money(data.closing_balance), "closing_balance"]]),
    entriesTable(data.entries),
    paymentBlock(data.payment),
  ];
}

function entriesTable(entries) {
  if (!entries.length) return message(t("sheet.empty"));
  return table("entries", [
    { key: "date", label: "col.date", cell: (e) => day(e.date) },
    { key: "type", label: "col.type", cell: (e) => t(`type.${e.type}`) },
    { key: "document", label: "col.document", cell: (e) => e.document },
    { key: "description", label: "col.description", cell: (e) => e.description },
    { key: "due_on", label: "col.due", cell: (e) => (e.due_on ? day(e.due_on) : "") },
    { key: "debit", label: "col.debit", num: true, cell: (e) => (e.debit ? money(e.debit) : "") },
    { key: "credit", label: "col.credit", num: true, cell: (e) => (e.credit ? money(e.credit) : "") },
    { key: "running_balance", label: "col.running", num: true, cell: (e) => money(e.running_balance) },
  ], entries);
}

/* The footer's phone number and hours, and the annex's correction address, come from the gateway's settings. */
const vendorInfo = fetch("/vendor.json").then((r) => (r.ok ? r.json() : {})).catch(() => ({}));

async function showFooter() {
  const vendor = await vendorInfo;
  const footer = document.querySelector("footer.footer");
  if (vendor.phone) footer.textContent = t("footer.contact", { phone: vendor.phone, hours: vendor.hours });
}

Object.assign(VIEWS, { invoices: renderInvoices, sheet: renderSheet });

/* "2026. 01. 01-től 2026. 12. 31-ig": the suffix follows the day's last word (egy-től, három-tól, húsz-tól). */
function validity(from, until) {
  if (state.lang !== "hu") return `${day(from)} – ${day(until)}`;
  const bare = (iso) => day(iso).replace(/\.$/, "");
  const d = Number(from.slice(8, 10));
  const back = d % 10 === 0 ? [20, 30].includes(d) : [3, 6, 8].includes(d % 10);
  return `${bare(from)}-${back ? "tól" : "től"} ${bare(until)}-ig`;
}
