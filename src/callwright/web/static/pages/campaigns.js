// Campaigns: upload a CSV (previewed and checked in the browser, then by the server),
// start, pause, resume, terminate, and watch progress per contact.
import { api } from "../api.js";
import { badge, busy, fail, field, fill, h, option, render, say, table, variableNames, when } from "../ui.js";

export async function show(view, [id], ctx) {
  if (id) return detail(view, id, ctx);
  return list(view);
}

/** RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF. Returns rows of cells. */
export function parseCsv(text) {
  const rows = [];
  let row = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell === "") quoted = true;
    else if (ch === ",") { row.push(cell); cell = ""; }
    else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(cell); rows.push(row); row = []; cell = "";
    } else cell += ch;
  }
  if (cell !== "" || row.length) { row.push(cell); rows.push(row); }
  return rows.filter((r) => r.some((c) => c.trim() !== ""));
}

const PHONE = /^\+?[0-9][0-9 ()-]{5,18}$/;

/** What the browser can tell before uploading: header problems and rows that will fail. */
export function checkRows(rows, variables) {
  const header = (rows[0] || []).map((c) => c.trim().replace(/^\uFEFF/, ""));
  const problems = [];
  const mobile = header.indexOf("Mobile Number");
  if (mobile < 0) problems.push("The CSV needs a 'Mobile Number' column.");
  const missing = variables.filter((v) => !["callee_name", "mobile_number"].includes(v) && !header.includes(v));
  if (missing.length) problems.push(`No column for the assistant's variables: ${missing.join(", ")}`);
  const parsed = rows.slice(1).map((cells, i) => {
    const errors = [];
    if (cells.length !== header.length) errors.push(`has ${cells.length} cells, the header has ${header.length}`);
    const number = mobile >= 0 ? (cells[mobile] || "").trim() : "";
    if (mobile >= 0 && !number) errors.push("no mobile number");
    else if (mobile >= 0 && !PHONE.test(number)) errors.push(`'${number}' is not a phone number`);
    return { line: i + 2, cells, errors };
  });
  return { header, problems, rows: parsed };
}

function variablesMap(header, variables) {
  const map = { mobile_number: "Mobile Number" };
  const name = ["Name", "name", "callee_name", "Callee Name"].find((c) => header.includes(c));
  if (name) map.callee_name = name;
  for (const v of variables) if (header.includes(v) && !map[v]) map[v] = v;
  return map;
}

function ringgTime(local) {
  // <input type=datetime-local> gives 2026-12-01T09:00; Ringg wants "01/12/2026, 09:00"
  if (!local) return "";
  const [date, time] = local.split("T");
  const [y, m, d] = date.split("-");
  return `${d}/${m}/${y}, ${time.slice(0, 5)}`;
}

async function list(view) {
  const [{ campaigns }, { data }] = await Promise.all([
    api("/campaign/all", { query: { limit: 50 } }),
    api("/agent/all", { query: { limit: 100 } }),
  ]);
  const agents = data.agents;
  render(view, "Campaigns",
    await uploadForm(agents),
    h("h2", {}, "All campaigns"),
    table([
      ["Name", (c) => h("a", { href: `#/campaigns/${c.id}` }, c.name)],
      ["Status", (c) => badge(c.status || c.campaign_status)],
      ["Contacts", (c) => c.total_count ?? c.total_contacts],
      ["Completed", (c) => c.completed_count ?? "—"],
      ["Created", (c) => when(c.created_at)],
    ], campaigns));
}

async function uploadForm(agents) {
  const preview = h("div", { id: "csv-preview", "aria-live": "polite" });
  const result = h("div", { id: "csv-result", "aria-live": "polite" });
  let checked = null;
  const form = h("form", { class: "card", "aria-labelledby": "upload-title" },
    h("h2", { id: "upload-title" }, "New campaign"),
    h("div", { class: "row" },
      field("Campaign name", "input", { name: "campaign_name", required: true, maxlength: 200 }),
      field("Assistant", "select", { name: "agent_id", required: true }, "",
        agents.map((a) => option(a.id, a.agent_display_name))),
      field("Country code", "input", { name: "country_code", value: "+1", required: true },
        "Used for numbers without one")),
    h("div", { class: "row" },
      field("Start", "input", { name: "start", type: "datetime-local" }, "optional"),
      field("End", "input", { name: "end", type: "datetime-local" }, "optional")),
    field("Contacts (CSV)", "input", { name: "file", type: "file", accept: ".csv,text/csv", required: true },
      "A 'Mobile Number' column, and one column per assistant variable."),
    h("label", {}, h("input", { type: "checkbox", name: "remove_invalid_rows" }), " Skip bad rows instead of refusing the file"),
    preview,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Upload contacts")),
    result);

  const variablesOf = async (agentId) => {
    const { agents: a } = await api(`/agent/${agentId}`);
    return variableNames(a.agent_config && a.agent_config.custom_variables);
  };
  const check = async () => {
    const file = form.elements.file.files[0];
    if (!file || !form.elements.agent_id.value) { fill(preview); checked = null; return; }
    const rows = parseCsv(await file.text());
    checked = checkRows(rows, await variablesOf(form.elements.agent_id.value));
    const bad = checked.rows.filter((r) => r.errors.length);
    fill(preview, 
      h("h3", {}, "Preview"),
      h("p", { id: "csv-summary" }, `${checked.rows.length} rows, ${bad.length} with problems.`),
      checked.problems.length ? h("ul", { class: "errors" }, checked.problems.map((p) => h("li", {}, p))) : null,
      table([
        ["Line", (r) => r.line],
        ...checked.header.map((col, i) => [col, (r) => r.cells[i] ?? ""]),
        ["Problems", (r) => (r.errors.length ? h("span", { class: "errors" }, r.errors.join("; ")) : "ok")],
      ], checked.rows.slice(0, 50), { rowClass: (r) => (r.errors.length ? "bad" : null),
        caption: checked.rows.length > 50 ? "The first 50 rows" : null }));
  };
  form.elements.file.addEventListener("change", () => check().catch(fail));
  form.elements.agent_id.addEventListener("change", () => check().catch(fail));

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(form.querySelector("button[type=submit]"), async () => {
      if (!checked) await check();
      const body = new FormData();
      body.set("file", form.elements.file.files[0]);
      body.set("agent_id", form.elements.agent_id.value);
      body.set("campaign_name", form.elements.campaign_name.value.trim());
      body.set("country_code", form.elements.country_code.value.trim());
      body.set("variables_map", JSON.stringify(variablesMap(checked.header, await variablesOf(form.elements.agent_id.value))));
      body.set("call_config", "{}");
      if (form.elements.start.value) body.set("campaign_start_time", ringgTime(form.elements.start.value));
      if (form.elements.end.value) body.set("campaign_end_time", ringgTime(form.elements.end.value));
      body.set("remove_invalid_rows", form.elements.remove_invalid_rows.checked ? "true" : "false");
      try {
        const saved = await api("/campaign/save", { method: "POST", body });
        fill(result, h("p", {}, `${saved.successful_rows} of ${saved.total_rows} contacts imported.`),
          rejected(saved.invalid_rows || []),
          h("a", { class: "button", href: `#/campaigns/${saved.list_id}` }, "Open the campaign"));
        say("Contacts imported.");
      } catch (err) {
        const rows = (err.body && err.body.invalid_rows) || [];
        fill(result, h("p", { class: "errors" }, err.message), rejected(rows));
        throw err;
      }
    });
  });
  return form;
}

function rejected(rows) {
  if (!rows.length) return null;
  return h("section", { id: "rejected-rows", "aria-label": "Rows the server rejected" },
    h("h3", {}, `Rejected rows (${rows.length})`),
    table([["Row", (r) => r.row_number], ["Reason", (r) => r.reason]], rows,
      { rowClass: () => "bad" }));
}

async function detail(view, id, ctx) {
  let timer = null;
  ctx.onLeave(() => clearTimeout(timer));
  const numbers = (await api("/workspace/numbers")).workspace_numbers;
  const body = h("div");
  render(view, "Campaign", body);
  const act = (label, cls, run) => h("button", { type: "button", class: cls, onclick: (e) => busy(e.target, async () => {
    await run();
    await refresh();
  }) }, label);

  const refresh = async () => {
    clearTimeout(timer);
    const p = await api(`/campaign/${encodeURIComponent(id)}/status`, { query: { limit: 100 } });
    const c = p.campaign;
    view.querySelector("h1").textContent = c.name;
    const total = p.pagination.total || c.total_contacts || 0;
    const done = Object.entries(p.by_status)
      .filter(([s]) => !["registered", "ongoing", "retry"].includes(s))
      .reduce((n, [, v]) => n + v, 0);
    const pct = total ? Math.round((100 * done) / total) : 0;
    const from = field("Call from", "select", { name: "from" }, "", numbers.map((n) => option(n.number, n.number)));
    fill(body, 
      h("section", { class: "card", "aria-labelledby": "progress-title" },
        h("h2", { id: "progress-title" }, "Progress"),
        h("p", {}, "Status ", h("span", { id: "campaign-status" }, badge(c.status)), ` · ${done} of ${total} contacts finished`),
        h("div", { class: "progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": pct, "aria-label": "Contacts finished" },
          h("div", { style: { width: `${pct}%` } })),
        h("p", { class: "muted" }, Object.entries(p.by_status).map(([s, n]) => `${s}: ${n}`).join(" · ") || "No calls yet."),
        h("div", { class: "actions" },
          ["draft", "ready", "uploaded", "pending"].includes(c.status) ? [from,
            act("Start", "", () => api("/campaign/start", { method: "POST",
              body: { agent_id: c.agent_id, list_id: c.id, from_numbers: [from.querySelector("select").value] } }).then(() => say("Campaign started.")))] : null,
          ["running", "scheduled"].includes(c.status) ? act("Pause", "secondary", () => api(`/campaign/${c.id}/pause`, { method: "POST" }).then(() => say("Campaign paused."))) : null,
          c.status === "paused" ? act("Resume", "", () => api(`/campaign/${c.id}/resume`, { method: "POST" }).then(() => say("Campaign resumed."))) : null,
          !["completed", "terminated", "failed", "cancelled"].includes(c.status) ? act("Terminate", "danger", async () => {
            if (!confirm("Stop every queued call of this campaign?")) return;
            await api("/campaign/terminate", { method: "PATCH", body: { campaign_id: c.id } });
            say("Queued calls terminated.");
          }) : null,
          h("a", { href: `#/calls?bulk_list_id=${c.id}` }, "Calls of this campaign"))),
      h("h2", {}, "Contacts"),
      table([
        ["Name", (r) => r.callee_name],
        ["Number", (r) => r.mobile_number],
        ["Status", (r) => badge(r.status)],
        ["Attempts", (r) => r.attempts],
        ["Next try", (r) => when(r.next_attempt_time)],
        ["Call", (r) => h("a", { href: `#/calls/${r.call_id}` }, "details")],
      ], p.contacts));
    // A poll still in flight when the page was left must not start another.
    if (view.isConnected && !["completed", "terminated", "failed", "cancelled"].includes(c.status)) {
      timer = setTimeout(() => refresh().catch(fail), 2000);
    }
  };
  await refresh();
}
