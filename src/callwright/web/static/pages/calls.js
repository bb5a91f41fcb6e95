// Calls: a filterable list (/calling/history) and one call (/calling/call-details), which
// refreshes itself until the call and its analysis are finished.
import { api } from "../api.js";
import { latencyChart } from "../charts.js";
import { badge, field, fill, formData, h, option, render, seconds, table, when } from "../ui.js";

const STATUSES = ["registered", "ongoing", "retry", "completed", "failed", "error", "cancelled", "forwarded"];
const PAGE = 20;

export async function show(view, [id], ctx) {
  if (id) return detail(view, id, ctx);
  return list(view, ctx);
}

function dateParam(value, endOfDay) {
  if (!value) return undefined;
  const d = new Date(`${value}T${endOfDay ? "23:59:59" : "00:00:00"}`);
  return d.toISOString().replace("Z", "+00:00");
}

async function list(view, ctx) {
  const q = ctx.query;
  const { data } = await api("/agent/all", { query: { limit: 100 } });
  const filters = h("form", { class: "card", "aria-label": "Filter calls" },
    h("div", { class: "row" },
      field("Assistant", "select", { name: "agent_id" }, "",
        [option("", "All assistants"), ...data.agents.map((a) => option(a.id, a.agent_display_name, a.id === q.get("agent_id")))]),
      field("Status", "select", { name: "status" }, "",
        [option("", "Any status"), ...STATUSES.map((s) => option(s, s, s === q.get("status")))]),
      field("From", "input", { name: "from", type: "date", value: q.get("from") || "" }),
      field("To", "input", { name: "to", type: "date", value: q.get("to") || "" }),
      field("Campaign id", "input", { name: "bulk_list_id", value: q.get("bulk_list_id") || "" })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Apply filters")));
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams(Object.entries(formData(filters)).filter(([, v]) => v));
    location.hash = `#/calls?${params}`;
  });
  const offset = Number(q.get("offset") || 0);
  const history = await api("/calling/history", { query: {
    agent_id: q.get("agent_id"), status: q.get("status"), bulk_list_id: q.get("bulk_list_id"),
    start_date: dateParam(q.get("from"), false), end_date: dateParam(q.get("to"), true),
    limit: PAGE, offset,
  } });
  const pageLink = (to, text) => {
    const p = new URLSearchParams(q);
    p.set("offset", String(to));
    return h("a", { class: "button secondary", href: `#/calls?${p}` }, text);
  };
  const total = history.total === "many" ? "many" : history.total;
  render(view, "Calls", filters,
    h("p", { class: "muted", id: "calls-count" }, `${history.count} shown of ${total}`),
    table([
      ["When", (c) => h("a", { href: `#/calls/${c.id}` }, when(c.created_at))],
      ["Assistant", (c) => c.agent.agent_name],
      ["To", (c) => (c.call_type === "webcall" ? "browser" : c.to_number)],
      ["Name", (c) => c.name],
      ["Type", (c) => c.call_type],
      ["Status", (c) => badge(c.status)],
      ["Duration", (c) => seconds(c.call_duration)],
    ], history.calls),
    h("div", { class: "actions" },
      offset > 0 ? pageLink(Math.max(0, offset - PAGE), "Newer") : null,
      history.count === PAGE ? pageLink(offset + PAGE, "Older") : null));
}

const UNFINISHED = new Set(["registered", "ongoing", "retry"]);

async function detail(view, id, ctx) {
  let timer = null;
  let shownKey = "";
  const audioHolder = h("div");
  const body = h("div");
  ctx.onLeave(() => clearTimeout(timer));
  render(view, "Call", body);

  const refresh = async () => {
    const { data: c } = await api("/calling/call-details", { query: { id, send_analysis: true } });
    const finished = !UNFINISHED.has(c.call_status) && c.platform_analysis_status !== "pending";
    // Redraw only when something changed, so the audio player keeps playing.
    const key = JSON.stringify([c.call_status, c.transcription_url.length, c.platform_analysis_status, c.recording_url ? 1 : 0]);
    if (key !== shownKey) {
      shownKey = key;
      if (c.recording_url && !audioHolder.firstChild) {
        // Same-origin path: the signed link carries the configured public URL, which may
        // differ from how this browser reached the server.
        const u = new URL(c.recording_url, location.origin);
        audioHolder.append(h("audio", { controls: true, preload: "metadata", src: u.pathname + u.search,
          id: "recording", "aria-label": "Call recording" }));
      }
      fill(body, ...sections(c, audioHolder));
    }
    // A poll still in flight when the page was left must not start another.
    if (!finished && view.isConnected) timer = setTimeout(() => refresh().catch(() => {}), 1000);
  };
  await refresh();
}

function sections(c, audioHolder) {
  const analysis = c.platform_analysis || {};
  const transcript = c.transcription_url || [];
  return [
    h("section", { class: "card", "aria-labelledby": "facts-title" },
      h("h2", { id: "facts-title" }, "Summary"),
      h("dl", { class: "facts" },
        h("dt", {}, "Status"), h("dd", { id: "call-status" }, badge(c.call_status), " ", h("span", { class: "muted" }, c.call_sub_status)),
        h("dt", {}, "Direction"), h("dd", {}, c.call_direction),
        h("dt", {}, "Callee"), h("dd", {}, c.callee_name || "—", " ", c.call_direction === "webcall" ? "" : c.to_number),
        h("dt", {}, "From"), h("dd", {}, c.from_number || "—"),
        h("dt", {}, "Started"), h("dd", {}, when(c.initiation_time)),
        h("dt", {}, "Duration"), h("dd", {}, seconds(c.call_duration)),
        h("dt", {}, "Cost"), h("dd", {}, `${c.call_cost} credits`),
        h("dt", {}, "Ended by"), h("dd", {}, c.end_reason || "—"),
        h("dt", {}, "Call id"), h("dd", { class: "mono" }, c.id))),
    h("section", { class: "card", "aria-labelledby": "rec-title" },
      h("h2", { id: "rec-title" }, "Recording"),
      c.recording_url ? audioHolder : h("p", { class: "muted" }, "No recording yet.")),
    h("section", { class: "card", "aria-labelledby": "analysis-title" },
      h("h2", { id: "analysis-title" }, "Analysis"),
      c.platform_analysis_status === "pending" || UNFINISHED.has(c.call_status)
        ? h("p", { class: "muted", id: "analysis-pending" }, "Analysis runs when the call ends…")
        : h("dl", { class: "facts", id: "analysis" },
          h("dt", {}, "Summary"), h("dd", { id: "analysis-summary" }, analysis.summary || "—"),
          h("dt", {}, "Classification"), h("dd", { id: "analysis-classification" }, analysis.classification ? badge(analysis.classification) : "—"),
          h("dt", {}, "Sentiment"), h("dd", {}, analysis.sentiment || "—"),
          analysis.key_points && analysis.key_points.length ? [h("dt", {}, "Key points"), h("dd", {}, analysis.key_points.join("; "))] : null,
          ...Object.entries(c.client_analysis || {}).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, JSON.stringify(v))]))),
    h("section", { class: "card", "aria-labelledby": "transcript-title" },
      h("h2", { id: "transcript-title" }, "Transcript"),
      transcript.length
        ? h("ol", { class: "transcript", id: "transcript" }, transcript.map((turn) => {
          const role = "bot" in turn ? "bot" : "user";
          return h("li", { class: role }, h("span", { class: "who" }, role === "bot" ? "Assistant" : "Caller"), turn[role]);
        }))
        : h("p", { class: "muted" }, UNFINISHED.has(c.call_status) ? "The transcript appears when the call ends." : "Nothing was said.")),
    h("section", { class: "card", "aria-labelledby": "latency-title" },
      h("h2", { id: "latency-title" }, "Latency per turn"),
      c.turn_latencies && c.turn_latencies.length
        ? latencyChart(c.turn_latencies)
        : h("p", { class: "muted" }, "No agent turns measured yet.")),
  ];
}
