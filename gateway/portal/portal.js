/* Customer portal: login, five statements, Hungarian by default with an English switch.
   Plain JavaScript, no build step; talks only to the gateway's /api/v1. Texts are in texts.js. */
/* global TEXTS, annexReport, asOfPicker, dateField, dateForm, downloadButton, inputDay, parseDay, paymentBlock, showFooter, validity */
"use strict";

const state = { lang: localStorage.getItem("portal.lang") === "en" ? "en" : "hu", support: { page: 1 } };
const PER_PAGE = 20;
const VIEWS = { balance: renderBalance, support: renderSupport, quota: renderQuota, annex: renderAnnex, fee: renderFee };
const NAV_OF = { call: "support", newcall: "support" }; // views of actions.js reached from a nav entry

function t(key, values = {}) {
  const text = TEXTS[state.lang][key] ?? TEXTS.hu[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name]));
}

/* ---------- formatting: 12 345 Ft, 2026. 11. 26. ---------- */

const NBSP = "\u00a0";
const MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function number(value) {
  const digits = String(Math.abs(value)).replace(/\B(?=(\d{3})+(?!\d))/g, state.lang === "hu" ? NBSP : ",");
  return (value < 0 ? "-" : "") + digits;
}

function money(value) {
  return value === null || value === undefined ? t("none") : `${number(value)}${NBSP}Ft`;
}

function day(iso) {
  if (!iso) return t("none");
  const [y, m, d] = iso.slice(0, 10).split("-");
  return state.lang === "hu" ? `${y}. ${m}. ${d}.` : `${Number(d)} ${MONTHS_EN[Number(m) - 1]} ${y}`;
}

const BUDAPEST = new Intl.DateTimeFormat("en-CA", {
  timeZone: "Europe/Budapest", year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});

/* A timestamp as Budapest wall-clock date and time; in tables it may wrap between the two. */
function moment(iso) {
  if (!iso) return t("none");
  const parts = Object.fromEntries(BUDAPEST.formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${day(`${parts.year}-${parts.month}-${parts.day}`)} ${parts.hour}:${parts.minute}`;
}

function stamp(iso) {
  const text = moment(iso);
  const cut = text.lastIndexOf(" ");
  return h("span", { className: "stamp" }, h("span", {}, text.slice(0, cut)), " ", h("span", {}, text.slice(cut + 1)));
}

function waitText(seconds) {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return t(m === 0 ? "wait.sec" : s === 0 ? "wait.min" : "wait.minsec", { m, s });
}

/* ---------- DOM helpers ---------- */

function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "className") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

/* columns: [{key, label, num?, cell(row) -> text|Node}] */
function table(name, columns, rows, caption) {
  const head = h("tr", {}, columns.map((c) => h("th", { scope: "col", className: c.num ? "num" : null }, t(c.label))));
  const body = rows.map((row) => h("tr", {}, columns.map((c) =>
    h("td", { "data-col": c.key, "data-label": t(c.label), className: c.num ? "num" : null }, c.cell(row)))));
  return h("div", { className: "table-wrap" },
    h("table", { "data-table": name }, caption ? h("caption", {}, caption) : null, h("thead", {}, head), h("tbody", {}, body)));
}

function facts(pairs) {
  return h("dl", { className: "facts" }, pairs.map(([label, value, field]) =>
    h("div", {}, h("dt", {}, label), h("dd", { "data-field": field }, value))));
}

function copyable(text, field, value = text) {
  const code = h("code", { className: "copy-text", "data-field": field }, text);
  const button = h("button", { type: "button", className: "copy", "aria-label": `${t("copy")}: ${text}` }, t("copy"));
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      getSelection().selectAllChildren(code); // no clipboard permission: select it for Ctrl+C
    }
    button.textContent = t("copied");
    setTimeout(() => { button.textContent = t("copy"); }, 2000);
  });
  return h("span", { className: "copy-row" }, code, button);
}

function viewHeader(titleKey, subtitle) {
  return h("div", { className: "view-head" },
    h("h1", { tabindex: "-1" }, t(titleKey)), subtitle ? h("p", { className: "subtitle" }, subtitle) : null);
}

function message(text, kind = "info") {
  return h("p", { className: `message ${kind}`, role: kind === "error" ? "alert" : null }, text);
}

/* ---------- session and API ---------- */

function session() {
  try {
    const saved = JSON.parse(sessionStorage.getItem("portal.session"));
    return saved && Date.parse(saved.expires_at) > Date.now() ? saved : null;
  } catch {
    return null;
  }
}

class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function api(path, params = {}, accept = "application/json") {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v != null));
  const url = `/api/v1/${path}${query.toString() ? `?${query}` : ""}`;
  const response = await fetch(url, { headers: { Authorization: `Bearer ${session()?.token}`, Accept: accept } });
  if (response.status === 401) {
    logout("login.expired");
    throw new ApiError(401, null);
  }
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  return accept === "application/json" ? response.json() : response.blob();
}

async function login(event) {
  event.preventDefault();
  const form = event.target;
  const body = Object.fromEntries(["customer_code", "serial_number", "password"].map((n) => [n, form[n].value.trim()]));
  if (!body.customer_code || !body.serial_number) return showLoginError(t("login.missing"));
  if (!body.password) delete body.password;
  form.querySelector("button").disabled = true;
  try {
    const response = await fetch("/api/v1/sessions", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    if (response.status === 201) {
      sessionSaved(await response.json());
      form.reset();
      showLoginError(null);
      if (!VIEWS[location.hash.slice(1).split("/")[0]]) history.replaceState(null, "", "#balance");
      return route();
    }
    if (response.status === 429) {
      const wait = Number(response.headers.get("Retry-After")) || 60;
      return showLoginError(t("login.limited", { wait: waitText(wait) }));
    }
    showLoginError(t(response.status === 401 || response.status === 400 ? "login.invalid" : "login.unavailable"));
  } catch {
    showLoginError(t("login.unavailable"));
  } finally {
    form.querySelector("button").disabled = false;
  }
}

function sessionSaved(created) {
  sessionStorage.setItem("portal.session", JSON.stringify(created));
}

function showLoginError(text) {
  const box = document.getElementById("login-error");
  box.hidden = !text;
  box.textContent = text || "";
  if (text) document.getElementById("customer_code").focus();
}

function logout(reasonKey) {
  sessionStorage.removeItem("portal.session");
  route();
  if (reasonKey) showLoginError(t(reasonKey));
}

/* ---------- views ---------- */

async function renderBalance() {
  const data = await api("balance", { as_of: state.asOf.balance, lang: state.lang });
  const statusKey = `balance.${data.status}`;
  return [
    viewHeader("balance.title", t("asOf", { date: day(data.as_of) })),
    asOfPicker("balance"),
    balancePdf(data),
    h("p", { className: `status status-${data.status}`, "data-field": "status" },
      h("strong", {}, t(statusKey)), " ", h("span", { "data-field": "status-amount" }, money(Math.abs(data.balance)))),
    facts([[t("balance.balance"), money(data.balance), "balance"],
      [t("balance.overdue"), money(data.overdue_amount), "overdue_amount"]]),
    h("section", { className: "codes", "aria-labelledby": "codes-title" },
      h("h2", { id: "codes-title" }, t("balance.codes")), h("p", { className: "hint" }, t("balance.codesWhat")),
      codesBlock(data)),
    paymentBlock(data.payment),
    h("h2", {}, t("balance.sheet")),
    data.entries.length ? table("entries", [
      { key: "date", label: "col.date", cell: (e) => day(e.date) },
      { key: "type", label: "col.type", cell: (e) => t(`type.${e.type}`) },
      { key: "document", label: "col.document", cell: (e) => e.document },
      { key: "description", label: "col.description", cell: (e) => e.description },
      { key: "due_on", label: "col.due", cell: (e) => (e.due_on ? day(e.due_on) : "") },
      { key: "debit", label: "col.debit", num: true, cell: (e) => (e.debit ? money(e.debit) : "") },
      { key: "credit", label: "col.credit", num: true, cell: (e) => (e.credit ? money(e.credit) : "") },
      { key: "running_balance", label: "col.running", num: true, cell: (e) => money(e.running_balance) },
    ], data.entries) : message(t("balance.empty")),
  ];
}

/* The balance as a document: the settlement sheet from the first line (at most 5 years back) to the same day. */
function balancePdf(data) {
  const earliest = new Date(`${data.as_of}T00:00:00Z`);
  earliest.setUTCFullYear(earliest.getUTCFullYear() - 5);
  earliest.setUTCDate(earliest.getUTCDate() + 1);
  const first = data.entries.length ? data.entries[0].date : data.as_of;
  const from = first > earliest.toISOString().slice(0, 10) ? first : earliest.toISOString().slice(0, 10);
  const params = { from, to: data.as_of, format: "pdf" };
  return downloadButton("download.pdf", "statements/settlement-sheet", params, `egyenleg-${data.as_of}.pdf`);
}

function codesBlock(data) {
  if (data.codes) {
    const c = data.codes;
    return h("div", { className: "code-box" }, facts([
      [t("balance.serial"), c.serial_number, "serial"],
      [t("balance.rental"), c.rental_code ? copyable(c.rental_code, "rental_code") : t("balance.noRental"), "rental"],
      [t("balance.internet"), copyable(c.internet_code, "internet_code"), "internet"],
      [t("balance.valid"), validity(c.valid_from, c.valid_until), "valid"],
    ]));
  }
  const withheld = data.codes_withheld || {};
  if (withheld.reason === "outstanding_balance") {
    return h("div", { className: "code-box withheld" }, h("p", {}, t("balance.withheld")), facts([
      [t("balance.payAmount"), copyable(money(withheld.amount_due), "amount_due", String(withheld.amount_due)), "pay"],
      [t("balance.reference"), copyable(data.customer_code, "reference"), "reference-row"],
    ]), h("p", { className: "hint" }, t("balance.afterPayment")));
  }
  return message(t("balance.noCodes", { serial: session()?.serial_number }));
}

async function renderSupport() {
  const filters = state.support;
  const data = await api("support-calls", { ...supportQuery(filters), page: filters.page, per_page: PER_PAGE });
  const pages = Math.max(1, Math.ceil(data.total / PER_PAGE));
  return [
    viewHeader("support.title"),
    h("p", {}, h("a", { href: "#newcall", className: "button-link", "data-action": "newcall" }, t("newcall.title"))),
    supportFilters(filters),
    h("div", { className: "list-head" },
      h("p", { "data-field": "total" }, t("support.total", { total: data.total })),
      csvLink(filters)),
    statusSummary(data.summary.by_status),
    data.calls.length ? table("calls", [
      { key: "call_id", label: "col.call", cell: (c) => h("a", { className: "nowrap", href: `#call/${encodeURIComponent(c.call_id)}` }, c.call_id) },
      { key: "opened_at", label: "col.opened", cell: (c) => stamp(c.opened_at) },
      { key: "category", label: "col.category", cell: (c) => `${t(`category.${c.category}`)} (${t(`channel.${c.channel}`).toLowerCase()})` },
      { key: "subject", label: "col.subject", cell: (c) => c.subject },
      { key: "status", label: "col.status", cell: (c) => h("span", { className: `badge ${c.status}` }, t(`status.${c.status}`)) },
      { key: "assignee", label: "col.assignee", cell: (c) => c.assignee || t("none") },
      { key: "last_update_at", label: "col.updated", cell: (c) => stamp(c.last_update_at) },
      { key: "minutes_logged", label: "col.minutes", num: true, cell: (c) => number(c.minutes_logged) },
      { key: "resolution", label: "col.resolution", cell: (c) => c.resolution || "" },
    ], data.calls) : message(t("support.empty")),
    pager(filters.page, pages),
  ];
}

function supportQuery(filters) {
  return { status: filters.status, category: filters.category, from: filters.from, to: filters.to, q: filters.q };
}

function supportFilters(filters) {
  const option = (value, label, current) => h("option", { value, selected: value === (current || "") }, label);
  const field = (id, labelKey, control) => h("div", { className: "field" }, h("label", { for: id }, t(labelKey)), control);
  const categories = Object.keys(TEXTS.hu).filter((k) => k.startsWith("category.")).map((k) => k.slice(9));
  const form = h("form", { className: "filters", "aria-label": t("support.filters") },
    field("f-status", "support.status", h("select", { id: "f-status", name: "status" },
      option("all", t("support.all"), filters.status || "all"), option("open", t("support.open"), filters.status),
      option("closed", t("support.closedOnly"), filters.status))),
    field("f-category", "support.category", h("select", { id: "f-category", name: "category" },
      option("", t("support.anyCategory"), filters.category),
      categories.map((c) => option(c, t(`category.${c}`), filters.category)))),
    dateField("f-from", "support.from", filters.from),
    dateField("f-to", "support.to", filters.to),
    field("f-q", "support.q", h("input", { id: "f-q", name: "q", type: "search", maxlength: "200", value: filters.q || "" })),
    h("div", { className: "field buttons" },
      h("button", { type: "submit" }, t("support.apply")),
      h("button", { type: "reset", className: "secondary" }, t("support.reset"))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(form));
    const [from, to] = [parseDay(values["f-from"]), parseDay(values["f-to"])];
    if (from === null || to === null) {
      const wrong = from === null ? values["f-from"] : values["f-to"];
      form.querySelector(from === null ? "#f-from" : "#f-to").focus();
      return form.append(message(t("date.invalid", { value: wrong }), "error"));
    }
    delete values["f-from"];
    delete values["f-to"];
    state.support = { ...values, from, to, page: 1 };
    show("support", "#f-status");
  });
  form.addEventListener("reset", (event) => {
    event.preventDefault();
    state.support = { page: 1 };
    show("support", "#f-status");
  });
  return form;
}

function statusSummary(byStatus) {
  const items = Object.entries(byStatus).filter(([, count]) => count > 0);
  return h("ul", { className: "summary", "aria-label": t("support.byStatus") },
    items.map(([status, count]) => h("li", { "data-status": status }, `${t(`status.${status}`)}: ${count}`)));
}

function csvLink(filters) {
  const query = new URLSearchParams(Object.entries({ ...supportQuery(filters), format: "csv" }).filter(([, v]) => v));
  const link = h("a", { href: `/api/v1/support-calls?${query}`, className: "button-link", download: "esemenylista.csv" },
    t("support.csv"));
  link.addEventListener("click", async (event) => {
    event.preventDefault(); // the API needs the bearer token, which a plain link cannot send
    try {
      const blob = await api("support-calls", { ...supportQuery(filters), format: "csv", lang: state.lang }, "text/csv");
      const url = URL.createObjectURL(blob);
      const save = h("a", { href: url, download: "esemenylista.csv", hidden: true });
      document.body.append(save);
      save.click();
      save.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (error) {
      if (error.status !== 401) link.after(message(t("support.csvFailed"), "error"));
    }
  });
  return link;
}

function pager(page, pages) {
  const go = (target) => () => { state.support.page = target; show("support", ".pager button:not([disabled])"); };
  return h("nav", { className: "pager", "aria-label": t("support.page", { page, pages }) },
    h("button", { type: "button", disabled: page <= 1, onclick: go(page - 1) }, t("support.prev")),
    h("span", { "data-field": "page" }, t("support.page", { page, pages })),
    h("button", { type: "button", disabled: page >= pages, onclick: go(page + 1) }, t("support.next")));
}

async function renderQuota() {
  const picker = dateForm([dateField("settlement_date", "quota.date", state.settlementDate)], (values) => {
    state.settlementDate = values.settlement_date;
    show("quota", "#settlement_date");
  });
  let data;
  try {
    data = await api("quota", { settlement_date: state.settlementDate });
  } catch (error) {
    if (error.status === 404) return [viewHeader("quota.title"), picker, message(t("quota.noYear"))];
    throw error;
  }
  picker.settlement_date.value = inputDay(data.settlement_date);
  const year = data.support_year;
  const pdf = { settlement_date: data.settlement_date, format: "pdf" };
  return [
    viewHeader("quota.title", `${t("quota.year")}: ${day(year.starts_on)} – ${day(year.ends_on)}`),
    picker,
    downloadButton("download.pdf", "quota", pdf, `perckeret-${data.settlement_date}.pdf`),
    facts([[t("quota.fee"), money(data.annual_fee), "annual_fee"],
      [t("quota.total"), t("quota.minutes", { n: number(data.total_minutes) }), "total_minutes"],
      [t("quota.used"), t("quota.minutes", { n: number(data.used_minutes) }), "used_minutes"],
      [t("quota.remaining"), t("quota.minutes", { n: number(data.remaining_minutes) }), "remaining_minutes"],
      [t("quota.overrun"), t("quota.minutes", { n: number(data.overrun_minutes) }), "overrun_minutes"]]),
    quotaBar(data.used_minutes, data.total_minutes),
    h("h2", {}, t("quota.usage")),
    data.usage.length ? table("usage", [
      { key: "performed_at", label: "col.performed", cell: (u) => stamp(u.performed_at) },
      { key: "call_id", label: "col.call", cell: (u) => u.call_id },
      { key: "subject", label: "col.subject", cell: (u) => u.subject || "" },
      { key: "staff", label: "col.staff", cell: (u) => u.staff },
      { key: "description", label: "col.work", cell: (u) => u.description },
      { key: "minutes", label: "col.minutes", num: true, cell: (u) => number(u.minutes) },
      { key: "running_total", label: "col.cumulative", num: true, cell: (u) => number(u.running_total) },
    ], data.usage) : message(t("quota.noUsage")),
    h("h2", {}, t("quota.invoices")),
    data.overrun_invoices.length ? table("overrun_invoices", [
      { key: "invoice_number", label: "col.invoice", cell: (i) => i.invoice_number },
      { key: "issued_on", label: "col.issued", cell: (i) => day(i.issued_on) },
      { key: "overrun_minutes", label: "col.overrunMinutes", num: true, cell: (i) => number(i.overrun_minutes) },
      { key: "net_amount", label: "col.net", num: true, cell: (i) => money(i.net_amount) },
      { key: "gross_amount", label: "col.gross", num: true, cell: (i) => money(i.gross_amount) },
    ], data.overrun_invoices) : message(t("quota.noInvoices")),
  ];
}

/* Used vs total minutes; past the quota the bar's scale grows and the overrun part is red. */
function quotaBar(used, total) {
  const svg = "http://www.w3.org/2000/svg";
  const scale = Math.max(used, total, 1);
  const bar = document.createElementNS(svg, "svg");
  bar.setAttribute("viewBox", "0 0 1000 40");
  bar.setAttribute("preserveAspectRatio", "none");
  bar.setAttribute("role", "img");
  bar.setAttribute("aria-label", t("quota.bar", { used: number(used), total: number(total) }));
  bar.classList.add("quota-bar");
  const rect = (x, width, cls) => {
    const r = document.createElementNS(svg, "rect");
    Object.entries({ x, y: 0, width, height: 40, class: cls }).forEach(([k, v]) => r.setAttribute(k, String(v)));
    bar.append(r);
  };
  const width = (minutes) => Math.round((minutes / scale) * 1000);
  rect(0, width(total), "bar-total");
  rect(0, width(Math.min(used, total)), "bar-used");
  if (used > total) rect(width(total), width(used - total), "bar-overrun");
  const legend = h("p", { className: "bar-legend" }, t("quota.bar", { used: number(used), total: number(total) }));
  return h("figure", { className: "bar" }, bar, legend);
}

async function renderAnnex() {
  let data;
  try {
    data = await api("contract-annex", { as_of: state.asOf.annex });
  } catch (error) {
    if (error.status === 404) return [viewHeader("annex.title"), asOfPicker("annex"), message(t("annex.none"))];
    throw error;
  }
  const c = data.customer;
  return [
    viewHeader("annex.title", t("asOf", { date: day(data.as_of) })),
    asOfPicker("annex"),
    h("h2", {}, t("annex.customer")),
    facts([[t("annex.name"), c.name, "name"], [t("annex.code"), c.customer_code, "customer_code"],
      [t("annex.address"), `${c.postal_code} ${c.city}, ${c.street_address}`, "address"],
      [t("annex.tax"), c.tax_number || t("none"), "tax_number"], [t("annex.email"), c.email || t("none"), "email"]]),
    data.contracts.map((contract) => h("section", { className: "contract", "data-contract": contract.contract_id },
      h("h2", {}, t("annex.contract", { id: contract.contract_id })),
      facts([[t("annex.signed"), day(contract.signed_on), "signed_on"], [t("annex.starts"), day(contract.starts_on), "starts_on"]]),
      itemsTable("items", contract.items, []))),
    discrepancyNote(data.discrepancy_note, data.report_to),
    typeof annexReport === "function" ? annexReport(data) : null,
  ];
}

function itemsTable(name, items, extra) {
  return table(name, [
    { key: "serial_number", label: "col.serial", cell: (i) => i.serial_number },
    { key: "product_code", label: "col.productCode", cell: (i) => i.product_code },
    { key: "product_name", label: "col.product", cell: (i) => i.product_name },
    { key: "quantity", label: "col.quantity", num: true, cell: (i) => number(i.quantity) },
    { key: "license_type", label: "col.license", cell: (i) => t(`license.${i.license_type}`) },
    ...extra,
  ], items);
}

function discrepancyNote(fromApi, reportTo) {
  const text = state.lang === "en" && fromApi ? fromApi : t("discrepancy");
  const email = reportTo?.email;
  return h("aside", { className: "note", "data-field": "discrepancy" }, text,
    email ? [" ", t("annex.reportTo"), " ", h("a", { href: `mailto:${email}`, "data-field": "report_to" }, email)] : null);
}

async function renderFee() {
  let data;
  try {
    data = await api("expected-fee", { as_of: state.asOf.fee });
  } catch (error) {
    if (error.status === 404) return [viewHeader("fee.title"), asOfPicker("fee"), message(t("annex.none"))];
    throw error;
  }
  const feeCell = (line) => {
    if (line.price_missing) return h("span", { className: "warn" }, t("fee.noPrice"));
    if (line.license_type === "rental") return `${money(0)} (${t("fee.rentalIncluded")})`;
    const further = line.quantity - 1;
    const parts = further > 0
      ? t("fee.explained", { unit: money(line.unit_fee), n: number(further), further: money(line.additional_unit_fee) })
      : null;
    return [money(line.annual_fee), parts ? h("span", { className: "fee-parts hint" }, parts) : null];
  };
  return [
    viewHeader("fee.title", t("asOf", { date: day(data.as_of) })),
    asOfPicker("fee"),
    data.contracts.length ? null : message(t("annex.none")),
    data.contracts.map((contract) => h("section", { className: "contract", "data-contract": contract.contract_id },
      h("h2", {}, t("fee.contract", { id: contract.contract_id })),
      h("p", { className: "anniversary" }, h("span", {}, t("fee.anniversary")),
        h("strong", { "data-field": "anniversary_date" }, day(contract.anniversary_date))),
      h("p", { className: "hint" }, t("fee.priceList", { date: day(contract.price_list_valid_from) })),
      itemsTable("lines", contract.lines, [{ key: "annual_fee", label: "col.annualFee", num: true, cell: feeCell }]),
      feeTotals(contract))),
    discrepancyNote(null),
  ];
}

/* Totals of one contract: "at least …" with a warning when a price is missing; never a "null" VAT rate. */
function feeTotals(contract) {
  const missing = contract.lines.some((line) => line.price_missing);
  const atLeast = (value) => (missing && value !== null ? t("fee.atLeast", { amount: money(value) }) : money(value));
  const vatLabel = contract.vat_rate === null ? t("fee.vatUnknown") : t("fee.vat", { rate: contract.vat_rate });
  return [
    missing ? message(t("fee.missingWarning"), "warning") : null,
    contract.vat_rate === null ? message(t("fee.noPriceList")) : null,
    facts([[t("fee.net"), atLeast(contract.net_total), "net_total"],
      [vatLabel, atLeast(contract.vat_amount), "vat_amount"],
      [t("fee.gross"), atLeast(contract.gross_total), "gross_total"]]),
  ];
}

/* ---------- shell: routing, language, start ---------- */

async function show(name, focusSelector, arg) {
  const target = document.getElementById("view");
  target.replaceChildren(message(t("loading")));
  target.setAttribute("aria-busy", "true");
  document.querySelectorAll("#views a").forEach((a) => {
    if (a.dataset.view === (NAV_OF[name] || name)) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  const ticket = (state.showing = (state.showing || 0) + 1);
  let content;
  try {
    content = await VIEWS[name](arg);
  } catch (error) {
    if (error.status === 401) return;
    content = [viewHeader(`nav.${name}`), message(t("unavailable"), "error")];
  }
  if (ticket !== state.showing) return; // another view was asked for meanwhile: its answer is the one shown
  target.replaceChildren(...content.flat().filter(Boolean));
  target.dataset.view = name;
  target.removeAttribute("aria-busy");
  const focus = focusSelector && target.querySelector(focusSelector);
  (focus || target.querySelector("h1")).focus();
}

function route() {
  const current = session();
  document.getElementById("login").hidden = Boolean(current);
  document.getElementById("view").hidden = !current;
  for (const id of ["views", "logout", "print", "who"]) document.getElementById(id).hidden = !current;
  if (!current) {
    document.getElementById("view").replaceChildren();
    document.getElementById("customer_code").focus();
    return;
  }
  document.getElementById("who").textContent =
    [current.customer_name, current.customer_code, current.serial_number].filter(Boolean).join(" · ");
  const [name, ...rest] = location.hash.slice(1).split("/");
  show(VIEWS[name] ? name : "balance", undefined, rest.join("/"));
}

function applyLanguage() {
  document.documentElement.lang = state.lang;
  document.title = t("portal");
  document.querySelectorAll("[data-i18n]").forEach((node) => { node.textContent = t(node.dataset.i18n); });
  document.querySelectorAll("[data-i18n-label]").forEach((node) => {
    node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  });
  if (typeof showFooter === "function") showFooter(); // documents.js: the vendor's phone and hours
  const toggle = document.getElementById("lang");
  toggle.textContent = t("switchTo");
  toggle.lang = state.lang === "hu" ? "en" : "hu";
}

function switchLanguage() {
  state.lang = state.lang === "hu" ? "en" : "hu";
  localStorage.setItem("portal.lang", state.lang);
  applyLanguage();
  const error = document.getElementById("login-error");
  if (!error.hidden) error.hidden = true; // its text was in the other language
  route();
}

document.addEventListener("DOMContentLoaded", () => {
  applyLanguage();
  document.getElementById("login-form").addEventListener("submit", login);
  document.getElementById("lang").addEventListener("click", switchLanguage);
  document.getElementById("logout").addEventListener("click", () => logout(null));
  document.getElementById("print").addEventListener("click", () => window.print());
  window.addEventListener("hashchange", route);
  route();
});
