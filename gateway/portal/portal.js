/* Customer portal: login, five statements, Hungarian by default with an English switch.
   Plain JavaScript, no build step; talks only to the gateway's /api/v1. */
"use strict";

/* ---------- texts ---------- */

const TEXTS = {
  hu: {
    skip: "Ugrás a tartalomra", portal: "Ügyfélportál", print: "Nyomtatás", logout: "Kilépés",
    views: "Nézetek", switchTo: "English",
    footer: "Kérdése van? Nyisson hibajegyet, vagy hívja ügyfélszolgálatunkat munkanapokon 8 és 17 óra között.",
    "nav.balance": "Egyenleg", "nav.support": "Eseménylista", "nav.quota": "Perckeret kimutatás",
    "nav.annex": "Szerződés melléklet", "nav.fee": "Várható éves terméktámogatási díj",
    "login.title": "Bejelentkezés",
    "login.hint": "Az ügyfélkódot és a program sorozatszámát a szerződésén és a havi elszámoláson találja.",
    "login.customer_code": "Ügyfélkód", "login.serial_number": "Sorozatszám",
    "login.password": "Jelszó (ha igényelt)", "login.submit": "Belépés",
    "login.missing": "Kérjük, adja meg az ügyfélkódot és a sorozatszámot.",
    "login.invalid": "Hibás ügyfélkód, sorozatszám vagy jelszó. Ellenőrizze az adatokat, és próbálja újra.",
    "login.limited": "Túl sok sikertelen belépési kísérlet. Kérjük, várjon {wait}, mielőtt újra próbálkozik.",
    "login.expired": "A munkamenet lejárt. Kérjük, jelentkezzen be újra.",
    "login.unavailable": "A belépés most nem lehetséges, kérjük, próbálja újra néhány perc múlva.",
    "wait.min": "{m} percet", "wait.minsec": "{m} percet és {s} másodpercet", "wait.sec": "{s} másodpercet",
    loading: "Betöltés…", unavailable: "Ez a kimutatás most nem érhető el. Kérjük, próbálja újra később.",
    asOf: "Állapot: {date}", copy: "Másolás", copied: "Másolva", none: "—",
    "balance.title": "Egyenleg", "balance.arrears": "Hátralék", "balance.settled": "Rendezett",
    "balance.overpaid": "Túlfizetés", "balance.balance": "Egyenleg", "balance.overdue": "Lejárt tartozás",
    "balance.codes": "Bérletkód és internetkód", "balance.serial": "Sorozatszám", "balance.rental": "Bérletkód",
    "balance.internet": "Internetkód", "balance.valid": "Érvényes", "balance.noRental": "nincs (vásárolt program)",
    "balance.withheld": "A kódokat a tartozás rendezése után jelenítjük meg. Kérjük, utalja át az alábbi összeget, közleményként az ügyfélkódjával:",
    "balance.payAmount": "Fizetendő összeg", "balance.reference": "Közlemény (ügyfélkód)",
    "balance.afterPayment": "A befizetés beérkezése után a kódok itt azonnal megjelennek.",
    "balance.noCodes": "A(z) {serial} sorozatszámhoz erre a napra nincs érvényes kód. Kérjük, keresse ügyfélszolgálatunkat.",
    "balance.sheet": "Folyószámla (elszámolási lap)", "balance.empty": "Nincs könyvelt tétel.",
    "col.date": "Dátum", "col.type": "Típus", "col.document": "Bizonylat", "col.description": "Megnevezés",
    "col.due": "Esedékes", "col.debit": "Tartozik", "col.credit": "Követel", "col.running": "Egyenleg",
    "type.invoice": "Számla", "type.cancellation": "Sztornó", "type.payment": "Befizetés", "type.refund": "Visszautalás",
    "support.title": "Eseménylista", "support.filters": "Szűrés", "support.status": "Állapot",
    "support.category": "Kategória", "support.from": "Megnyitva ettől", "support.to": "Megnyitva eddig",
    "support.q": "Keresés a tárgyban", "support.apply": "Szűrés", "support.reset": "Szűrők törlése",
    "support.all": "Mind", "support.open": "Nyitott", "support.closedOnly": "Lezárt", "support.anyCategory": "Mind",
    "support.csv": "Letöltés CSV-ben", "support.total": "{total} esemény", "support.empty": "Nincs a szűrésnek megfelelő esemény.",
    "support.page": "{page}. oldal / {pages}", "support.prev": "Előző oldal", "support.next": "Következő oldal",
    "support.byStatus": "Állapot szerint", "support.csvFailed": "A letöltés nem sikerült, kérjük, próbálja újra.",
    "col.call": "Azonosító", "col.opened": "Megnyitva", "col.category": "Kategória", "col.channel": "Csatorna",
    "col.subject": "Tárgy", "col.status": "Állapot", "col.assignee": "Ügyintéző", "col.updated": "Utolsó változás",
    "col.minutes": "Perc", "col.resolution": "Megoldás",
    "status.registered": "Rögzítve", "status.in_progress": "Folyamatban",
    "status.waiting_for_customer": "Válaszára vár", "status.closed": "Lezárva",
    "category.bug_report": "Hibabejelentés", "category.help_request": "Segítségkérés",
    "category.development_request": "Fejlesztési igény", "category.consultation": "Konzultáció", "category.other": "Egyéb",
    "channel.phone": "Telefon", "channel.email": "E-mail", "channel.remote": "Távsegítség",
    "channel.on_site": "Helyszíni", "channel.portal": "Portál",
    "quota.title": "Perckeret kimutatás", "quota.date": "Elszámolás napja", "quota.show": "Lekérdezés",
    "quota.year": "Támogatási év", "quota.fee": "Éves terméktámogatási díj (nettó)", "quota.total": "Perckeret",
    "quota.used": "Felhasznált", "quota.remaining": "Hátralévő", "quota.overrun": "Túllépés",
    "quota.bar": "Felhasznált {used} perc a {total} perces keretből", "quota.minutes": "{n} perc",
    "quota.usage": "Felhasznált percek tételesen", "quota.noUsage": "Ebben a támogatási évben még nem volt díjköteles munka.",
    "quota.invoices": "Perctúllépési számlák", "quota.noInvoices": "Nincs perctúllépési számla.",
    "quota.noYear": "Erre a napra nincs támogatási év: nincs rá éves terméktámogatási díjat tartalmazó számla.",
    "col.performed": "Időpont", "col.staff": "Munkatárs", "col.work": "Elvégzett munka", "col.cumulative": "Összesen",
    "col.invoice": "Számlaszám", "col.issued": "Kiállítva", "col.overrunMinutes": "Túllépés (perc)",
    "col.net": "Nettó", "col.gross": "Bruttó",
    "annex.title": "Szerződés melléklet", "annex.customer": "Ügyfél adatai", "annex.name": "Név",
    "annex.address": "Cím", "annex.tax": "Adószám", "annex.email": "E-mail", "annex.code": "Ügyfélkód",
    "annex.contract": "Szerződés: {id}", "annex.signed": "Aláírva", "annex.starts": "Hatályos",
    "annex.none": "Erre a napra nincs hatályos szerződés.",
    "col.serial": "Sorozatszám", "col.productCode": "Termékkód", "col.product": "Program",
    "col.quantity": "Mennyiség", "col.license": "Licenc",
    "license.purchase": "Vásárolt", "license.rental": "Bérelt",
    discrepancy: "Ha valami nem a megállapodás szerint szerepel, kérjük, jelezze szerződéskezelő kollégáinknak (vagy nyisson hibajegyet), és javítjuk.",
    "fee.title": "Várható éves terméktámogatási díj", "fee.anniversary": "Következő évforduló",
    "fee.contract": "Szerződés: {id}", "fee.priceList": "Árlista érvényes: {date}",
    "col.annualFee": "Éves díj (nettó)", "fee.noPrice": "nincs ár", "fee.rentalIncluded": "a bérleti díj tartalmazza",
    "fee.net": "Nettó összesen", "fee.vat": "ÁFA ({rate}%)", "fee.gross": "Bruttó összesen",
  },
  en: {
    skip: "Skip to content", portal: "Customer portal", print: "Print", logout: "Log out",
    views: "Views", switchTo: "Magyar",
    footer: "Questions? Open a support call or phone our help desk on working days between 8:00 and 17:00.",
    "nav.balance": "Balance", "nav.support": "Support events", "nav.quota": "Minute quota",
    "nav.annex": "Contract annex", "nav.fee": "Expected annual support fee",
    "login.title": "Log in",
    "login.hint": "Your customer code and the program's serial number are on your contract and the monthly statement.",
    "login.customer_code": "Customer code", "login.serial_number": "Serial number",
    "login.password": "Password (if you asked for one)", "login.submit": "Log in",
    "login.missing": "Please enter your customer code and serial number.",
    "login.invalid": "Wrong customer code, serial number or password. Please check them and try again.",
    "login.limited": "Too many failed attempts. Please wait {wait} before trying again.",
    "login.expired": "Your session has expired. Please log in again.",
    "login.unavailable": "Logging in is not possible right now; please try again in a few minutes.",
    "wait.min": "{m} min", "wait.minsec": "{m} min {s} s", "wait.sec": "{s} seconds",
    loading: "Loading…", unavailable: "This statement is not available right now. Please try again later.",
    asOf: "As of {date}", copy: "Copy", copied: "Copied", none: "—",
    "balance.title": "Balance", "balance.arrears": "In arrears", "balance.settled": "Settled",
    "balance.overpaid": "Overpaid", "balance.balance": "Balance", "balance.overdue": "Overdue",
    "balance.codes": "Rental code and internet code", "balance.serial": "Serial number", "balance.rental": "Rental code",
    "balance.internet": "Internet code", "balance.valid": "Valid", "balance.noRental": "none (purchased program)",
    "balance.withheld": "The codes are shown once the balance is paid. Please transfer the amount below, with your customer code as the reference:",
    "balance.payAmount": "Amount to pay", "balance.reference": "Reference (customer code)",
    "balance.afterPayment": "Once the payment arrives the codes appear here straight away.",
    "balance.noCodes": "No code is valid today for serial number {serial}. Please contact our help desk.",
    "balance.sheet": "Account (settlement sheet)", "balance.empty": "Nothing booked yet.",
    "col.date": "Date", "col.type": "Type", "col.document": "Document", "col.description": "Description",
    "col.due": "Due", "col.debit": "Debit", "col.credit": "Credit", "col.running": "Balance",
    "type.invoice": "Invoice", "type.cancellation": "Cancellation", "type.payment": "Payment", "type.refund": "Refund",
    "support.title": "Support events", "support.filters": "Filter", "support.status": "Status",
    "support.category": "Category", "support.from": "Opened from", "support.to": "Opened until",
    "support.q": "Search in subject", "support.apply": "Filter", "support.reset": "Clear filters",
    "support.all": "All", "support.open": "Open", "support.closedOnly": "Closed", "support.anyCategory": "All",
    "support.csv": "Download CSV", "support.total": "{total} events", "support.empty": "No event matches the filter.",
    "support.page": "Page {page} of {pages}", "support.prev": "Previous page", "support.next": "Next page",
    "support.byStatus": "By status", "support.csvFailed": "The download failed, please try again.",
    "col.call": "Reference", "col.opened": "Opened", "col.category": "Category", "col.channel": "Channel",
    "col.subject": "Subject", "col.status": "Status", "col.assignee": "Handled by", "col.updated": "Last change",
    "col.minutes": "Minutes", "col.resolution": "Resolution",
    "status.registered": "Registered", "status.in_progress": "In progress",
    "status.waiting_for_customer": "Waiting for you", "status.closed": "Closed",
    "category.bug_report": "Bug report", "category.help_request": "Help request",
    "category.development_request": "Development request", "category.consultation": "Consultation", "category.other": "Other",
    "channel.phone": "Phone", "channel.email": "E-mail", "channel.remote": "Remote", "channel.on_site": "On site",
    "channel.portal": "Portal",
    "quota.title": "Minute quota statement", "quota.date": "Settlement date", "quota.show": "Show",
    "quota.year": "Support year", "quota.fee": "Annual support fee (net)", "quota.total": "Quota",
    "quota.used": "Used", "quota.remaining": "Remaining", "quota.overrun": "Overrun",
    "quota.bar": "{used} of {total} minutes used", "quota.minutes": "{n} min",
    "quota.usage": "Minutes used, item by item", "quota.noUsage": "No chargeable work in this support year yet.",
    "quota.invoices": "Quota overrun invoices", "quota.noInvoices": "No overrun invoice.",
    "quota.noYear": "No support year covers this date: no annual support fee invoice includes it.",
    "col.performed": "When", "col.staff": "Staff", "col.work": "Work done", "col.cumulative": "Total",
    "col.invoice": "Invoice", "col.issued": "Issued", "col.overrunMinutes": "Overrun (min)",
    "col.net": "Net", "col.gross": "Gross",
    "annex.title": "Contract annex", "annex.customer": "Customer details", "annex.name": "Name",
    "annex.address": "Address", "annex.tax": "Tax number", "annex.email": "E-mail", "annex.code": "Customer code",
    "annex.contract": "Contract {id}", "annex.signed": "Signed", "annex.starts": "In force from",
    "annex.none": "No contract is in force on this date.",
    "col.serial": "Serial number", "col.productCode": "Product code", "col.product": "Program",
    "col.quantity": "Quantity", "col.license": "Licence",
    "license.purchase": "Purchased", "license.rental": "Rented",
    discrepancy: "If anything here is not as agreed, please tell our contract administration (or open a support call) and we will correct it.",
    "fee.title": "Expected annual support fee", "fee.anniversary": "Next anniversary",
    "fee.contract": "Contract {id}", "fee.priceList": "Price list valid from {date}",
    "col.annualFee": "Annual fee (net)", "fee.noPrice": "no price", "fee.rentalIncluded": "included in the rent",
    "fee.net": "Net total", "fee.vat": "VAT ({rate}%)", "fee.gross": "Gross total",
  },
};

const state = { lang: localStorage.getItem("portal.lang") === "en" ? "en" : "hu", support: { page: 1 } };
const PER_PAGE = 20;
const VIEWS = { balance: renderBalance, support: renderSupport, quota: renderQuota, annex: renderAnnex, fee: renderFee };

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

function moment(iso) {
  if (!iso) return t("none");
  const parts = Object.fromEntries(BUDAPEST.formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${day(`${parts.year}-${parts.month}-${parts.day}`)} ${parts.hour}:${parts.minute}`;
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

function copyable(text, field) {
  const code = h("code", { className: "copy-text", "data-field": field }, text);
  const button = h("button", { type: "button", className: "copy", "aria-label": `${t("copy")}: ${text}` }, t("copy"));
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
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
      sessionStorage.setItem("portal.session", JSON.stringify(await response.json()));
      form.reset();
      showLoginError(null);
      if (!VIEWS[location.hash.slice(1)]) history.replaceState(null, "", "#balance");
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
  const data = await api("balance");
  const statusKey = `balance.${data.status}`;
  return [
    viewHeader("balance.title", t("asOf", { date: day(data.as_of) })),
    h("p", { className: `status status-${data.status}`, "data-field": "status" },
      h("strong", {}, t(statusKey)), " ", h("span", { "data-field": "status-amount" }, money(Math.abs(data.balance)))),
    facts([[t("balance.balance"), money(data.balance), "balance"],
      [t("balance.overdue"), money(data.overdue_amount), "overdue_amount"]]),
    h("section", { className: "codes", "aria-labelledby": "codes-title" },
      h("h2", { id: "codes-title" }, t("balance.codes")), codesBlock(data)),
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

function codesBlock(data) {
  if (data.codes) {
    const c = data.codes;
    return h("div", { className: "code-box" }, facts([
      [t("balance.serial"), c.serial_number, "serial"],
      [t("balance.rental"), c.rental_code ? copyable(c.rental_code, "rental_code") : t("balance.noRental"), "rental"],
      [t("balance.internet"), copyable(c.internet_code, "internet_code"), "internet"],
      [t("balance.valid"), `${day(c.valid_from)} – ${day(c.valid_until)}`, "valid"],
    ]));
  }
  const withheld = data.codes_withheld || {};
  if (withheld.reason === "outstanding_balance") {
    return h("div", { className: "code-box withheld" }, h("p", {}, t("balance.withheld")), facts([
      [t("balance.payAmount"), copyable(money(withheld.amount_due), "amount_due"), "pay"],
      [t("balance.reference"), copyable(data.customer_code, "reference"), "reference"],
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
    supportFilters(filters),
    h("div", { className: "list-head" },
      h("p", { "data-field": "total" }, t("support.total", { total: data.total })),
      csvLink(filters)),
    statusSummary(data.summary.by_status),
    data.calls.length ? table("calls", [
      { key: "call_id", label: "col.call", cell: (c) => c.call_id },
      { key: "opened_at", label: "col.opened", cell: (c) => moment(c.opened_at) },
      { key: "category", label: "col.category", cell: (c) => t(`category.${c.category}`) },
      { key: "channel", label: "col.channel", cell: (c) => t(`channel.${c.channel}`) },
      { key: "subject", label: "col.subject", cell: (c) => c.subject },
      { key: "status", label: "col.status", cell: (c) => h("span", { className: `badge ${c.status}` }, t(`status.${c.status}`)) },
      { key: "assignee", label: "col.assignee", cell: (c) => c.assignee || t("none") },
      { key: "last_update_at", label: "col.updated", cell: (c) => moment(c.last_update_at) },
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
    field("f-from", "support.from", h("input", { id: "f-from", name: "from", type: "date", value: filters.from || "" })),
    field("f-to", "support.to", h("input", { id: "f-to", name: "to", type: "date", value: filters.to || "" })),
    field("f-q", "support.q", h("input", { id: "f-q", name: "q", type: "search", maxlength: "200", value: filters.q || "" })),
    h("div", { className: "field buttons" },
      h("button", { type: "submit" }, t("support.apply")),
      h("button", { type: "reset", className: "secondary" }, t("support.reset"))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(form));
    state.support = { ...values, page: 1 };
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
      const blob = await api("support-calls", { ...supportQuery(filters), format: "csv" }, "text/csv");
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
  const picker = h("form", { className: "filters" },
    h("div", { className: "field" }, h("label", { for: "settlement_date" }, t("quota.date")),
      h("input", { id: "settlement_date", name: "settlement_date", type: "date", value: state.settlementDate || "" })),
    h("div", { className: "field buttons" }, h("button", { type: "submit" }, t("quota.show"))));
  picker.addEventListener("submit", (event) => {
    event.preventDefault();
    state.settlementDate = picker.settlement_date.value;
    show("quota", "#settlement_date");
  });
  let data;
  try {
    data = await api("quota", { settlement_date: state.settlementDate });
  } catch (error) {
    if (error.status === 404) return [viewHeader("quota.title"), picker, message(t("quota.noYear"))];
    throw error;
  }
  picker.settlement_date.value = data.settlement_date;
  const year = data.support_year;
  return [
    viewHeader("quota.title", `${t("quota.year")}: ${day(year.starts_on)} – ${day(year.ends_on)}`),
    picker,
    facts([[t("quota.fee"), money(data.annual_fee), "annual_fee"],
      [t("quota.total"), t("quota.minutes", { n: number(data.total_minutes) }), "total_minutes"],
      [t("quota.used"), t("quota.minutes", { n: number(data.used_minutes) }), "used_minutes"],
      [t("quota.remaining"), t("quota.minutes", { n: number(data.remaining_minutes) }), "remaining_minutes"],
      [t("quota.overrun"), t("quota.minutes", { n: number(data.overrun_minutes) }), "overrun_minutes"]]),
    quotaBar(data.used_minutes, data.total_minutes),
    h("h2", {}, t("quota.usage")),
    data.usage.length ? table("usage", [
      { key: "performed_at", label: "col.performed", cell: (u) => moment(u.performed_at) },
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
    data = await api("contract-annex");
  } catch (error) {
    if (error.status === 404) return [viewHeader("annex.title"), message(t("annex.none"))];
    throw error;
  }
  const c = data.customer;
  return [
    viewHeader("annex.title", t("asOf", { date: day(data.as_of) })),
    h("h2", {}, t("annex.customer")),
    facts([[t("annex.name"), c.name, "name"], [t("annex.code"), c.customer_code, "customer_code"],
      [t("annex.address"), `${c.postal_code} ${c.city}, ${c.street_address}`, "address"],
      [t("annex.tax"), c.tax_number || t("none"), "tax_number"], [t("annex.email"), c.email || t("none"), "email"]]),
    data.contracts.map((contract) => h("section", { className: "contract", "data-contract": contract.contract_id },
      h("h2", {}, t("annex.contract", { id: contract.contract_id })),
      facts([[t("annex.signed"), day(contract.signed_on), "signed_on"], [t("annex.starts"), day(contract.starts_on), "starts_on"]]),
      itemsTable("items", contract.items, []))),
    discrepancyNote(data.discrepancy_note),
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

function discrepancyNote(fromApi) {
  const text = state.lang === "en" && fromApi ? fromApi : t("discrepancy");
  return h("aside", { className: "note", "data-field": "discrepancy" }, text);
}

async function renderFee() {
  let data;
  try {
    data = await api("expected-fee");
  } catch (error) {
    if (error.status === 404) return [viewHeader("fee.title"), message(t("annex.none"))];
    throw error;
  }
  const feeCell = (line) => {
    if (line.price_missing) return t("fee.noPrice");
    return line.license_type === "rental" ? `${money(0)} (${t("fee.rentalIncluded")})` : money(line.annual_fee);
  };
  return [
    viewHeader("fee.title", t("asOf", { date: day(data.as_of) })),
    data.contracts.length ? null : message(t("annex.none")),
    data.contracts.map((contract) => h("section", { className: "contract", "data-contract": contract.contract_id },
      h("h2", {}, t("fee.contract", { id: contract.contract_id })),
      h("p", { className: "anniversary" }, h("span", {}, t("fee.anniversary")),
        h("strong", { "data-field": "anniversary_date" }, day(contract.anniversary_date))),
      h("p", { className: "hint" }, t("fee.priceList", { date: day(contract.price_list_valid_from) })),
      itemsTable("lines", contract.lines, [{ key: "annual_fee", label: "col.annualFee", num: true, cell: feeCell }]),
      facts([[t("fee.net"), money(contract.net_total), "net_total"],
        [t("fee.vat", { rate: contract.vat_rate }), money(contract.vat_amount), "vat_amount"],
        [t("fee.gross"), money(contract.gross_total), "gross_total"]]))),
    discrepancyNote(null),
  ];
}

/* ---------- shell: routing, language, start ---------- */

async function show(name, focusSelector) {
  const target = document.getElementById("view");
  target.replaceChildren(message(t("loading")));
  target.setAttribute("aria-busy", "true");
  document.querySelectorAll("#views a").forEach((a) => {
    if (a.dataset.view === name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  let content;
  try {
    content = await VIEWS[name]();
  } catch (error) {
    if (error.status === 401) return;
    content = [viewHeader(`nav.${name}`), message(t("unavailable"), "error")];
  }
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
  const name = location.hash.slice(1);
  show(VIEWS[name] ? name : "balance");
}

function applyLanguage() {
  document.documentElement.lang = state.lang;
  document.title = t("portal");
  document.querySelectorAll("[data-i18n]").forEach((node) => { node.textContent = t(node.dataset.i18n); });
  document.querySelectorAll("[data-i18n-label]").forEach((node) => {
    node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  });
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
