// Small DOM helpers. Everything is built with createElement/textContent: never innerHTML,
// so names, transcripts and CSV cells from users cannot inject markup.

/** h("button", {class: "x", onclick: f}, "text", child) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "style") for (const [prop, v] of Object.entries(value)) el.style.setProperty(prop, v);
    else if (key === "value") el.value = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, value);
  }
  append(el, children);
  return el;
}

/** Replace an element's children; null/false children are skipped, strings become text. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

let fieldSeq = 0;

/** A labelled form control: field("Name", "input", {name: "agent_name", required: true}, "hint").
 * The hint sits outside the label (so it is not part of the control's name) and describes it. */
export function field(label, tag, attrs = {}, hint = "", options = []) {
  const id = attrs.id || `f${++fieldSeq}`;
  const control = h(tag, { ...attrs, id }, ...options);
  const hintEl = hint ? h("span", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", `${id}-hint`);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hintEl);
}

export function option(value, text, selected = false) {
  return h("option", { value, selected }, text);
}

export function badge(text) {
  return h("span", { class: `badge ${String(text || "").toLowerCase()}` }, text || "—");
}

/** A table from rows; columns are [header, row => cell]. */
export function table(columns, rows, { caption, rowClass } = {}) {
  return h("div", { class: "table-wrap" },
    h("table", {},
      caption ? h("caption", { class: "muted" }, caption) : null,
      h("thead", {}, h("tr", {}, columns.map(([title]) => h("th", { scope: "col" }, title)))),
      h("tbody", {}, rows.length
        ? rows.map((row) => h("tr", { class: rowClass ? rowClass(row) : null },
          columns.map(([, cell]) => h("td", {}, cell(row)))))
        : h("tr", {}, h("td", { colspan: columns.length, class: "muted" }, "Nothing here yet.")))));
}

const statusEl = () => document.getElementById("status");

/** Say something in the polite live region (screen readers announce it). */
export function say(text, { error = false } = {}) {
  const el = statusEl();
  el.replaceChildren(text ? h("div", { class: `msg${error ? " error" : ""}` }, text) : "");
}

export function fail(err) {
  say(err && err.message ? err.message : String(err), { error: true });
}

/** Run an async action from a button: disable it meanwhile, report failures. */
export async function busy(button, action) {
  if (button) button.disabled = true;
  try {
    return await action();
  } catch (err) {
    fail(err);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

export function formData(form) {
  const out = {};
  for (const [key, value] of new FormData(form).entries()) {
    if (typeof value === "string") out[key] = value.trim();
    else out[key] = value;
  }
  return out;
}

export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function seconds(s) {
  const n = Number(s || 0);
  return n >= 60 ? `${Math.floor(n / 60)} min ${Math.round(n % 60)} s` : `${n.toFixed(1)} s`;
}

export function number(n) {
  if (typeof n !== "number") return String(n ?? "—");
  return Number.isInteger(n) ? n.toLocaleString() : n.toLocaleString(undefined, { maximumFractionDigits: 2 });
}

export function humanize(key) {
  const text = String(key).replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Replace the view's content; focus the heading for screen readers and keyboards. */
export function render(view, title, ...children) {
  // A page left before it loaded renders into a detached container; the title is not its own.
  if (view.isConnected) document.title = `${title} · callwright`;
  const heading = h("h1", { tabindex: "-1" }, title);
  fill(view, heading, ...children);
  return heading;
}

/** An assistant's variable names: a list, or the documented {name: type} map. */
export function variableNames(vars) {
  if (Array.isArray(vars)) return vars;
  return vars && typeof vars === "object" ? Object.keys(vars) : [];
}
