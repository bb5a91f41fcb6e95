// Analytics: /analytics/* with a date range, assistant and campaign filter, drawn as SVG.
import { api } from "../api.js";
import { barChart, lineChart } from "../charts.js";
import { field, formData, h, humanize, number, option, render, seconds, table } from "../ui.js";

function isoDay(d) {
  return d.toISOString().slice(0, 10);
}

export async function show(view, _parts, ctx) {
  const q = ctx.query;
  const today = new Date();
  const from = q.get("start_date") || isoDay(new Date(today.getTime() - 29 * 86400000));
  const to = q.get("end_date") || isoDay(today);
  const filter = { start_date: from, end_date: to, agent_id: q.get("agent_id"), bulk_list_id: q.get("bulk_list_id") };
  const [{ data }, platform, durations, classes, numbers, drill] = await Promise.all([
    api("/agent/all", { query: { limit: 100 } }),
    api("/analytics/platform-analytics", { query: filter }),
    api("/analytics/duration-distribution", { query: filter }),
    api("/analytics/classification-analytics", { query: filter }),
    api("/analytics/number-analytics", { query: filter }),
    filter.bulk_list_id ? api("/analytics/drill-down-analytics", { query: filter }) : Promise.resolve(null),
  ]);

  const form = h("form", { class: "card", "aria-label": "Analytics filters" },
    h("div", { class: "row" },
      field("From", "input", { name: "start_date", type: "date", value: from }),
      field("To", "input", { name: "end_date", type: "date", value: to }),
      field("Assistant", "select", { name: "agent_id" }, "",
        [option("", "All assistants"), ...data.agents.map((a) => option(a.id, a.agent_display_name, a.id === filter.agent_id))]),
      field("Campaign id", "input", { name: "bulk_list_id", value: filter.bulk_list_id || "" })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Show")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams(Object.entries(formData(form)).filter(([, v]) => v));
    location.hash = `#/analytics?${params}`;
  });

  const s = platform.metrics_summary;
  const perf = platform.performance_metrics;
  const kpi = (label, value, id) => h("div", { class: "kpi", id }, h("div", { class: "value" }, value), h("div", { class: "label" }, label));
  const statuses = Object.entries(perf.status_distribution).filter(([, n]) => n > 0).map(([label, value]) => ({ label, value }));
  const dd = durations.duration_distribution;
  const cl = classes.classification_analytics;
  const classItems = Object.entries(cl.counts || {}).map(([label, value]) => ({ label, value }));

  render(view, "Analytics", form,
    h("section", { class: "kpis", "aria-label": "Key figures" },
      kpi("Total calls", number(s.total_calls), "kpi-total"),
      kpi("Connected", number(s.connected_calls), "kpi-connected"),
      kpi("Connectivity", `${number(s.connectivity)} %`),
      kpi("Average duration", seconds(s.average_duration)),
      kpi("Total cost", `${number(s.total_cost)} credits`),
      kpi("Voicemail", number(s.voicemail_detected)),
      kpi("Numbers", number(s.workspace_numbers))),
    h("div", { class: "grid2" },
      h("section", { class: "card", "aria-labelledby": "per-day" }, h("h2", { id: "per-day" }, "Calls per day"),
        perf.calls_per_day.length
          ? lineChart("Calls per day", perf.calls_per_day.map((d) => ({ label: d.date, value: d.total_calls })))
          : h("p", { class: "muted" }, "No calls in this period.")),
      h("section", { class: "card", "aria-labelledby": "by-status" }, h("h2", { id: "by-status" }, "Calls by status"),
        statuses.length ? barChart("Calls by status", statuses) : h("p", { class: "muted" }, "No calls.")),
      h("section", { class: "card", "aria-labelledby": "durations" }, h("h2", { id: "durations" }, "Call durations"),
        barChart("Completed calls by duration", dd.buckets.map((b) => ({ label: b.label, value: b.count })))),
      h("section", { class: "card", "aria-labelledby": "classes" }, h("h2", { id: "classes" }, "Classifications"),
        classItems.length ? barChart("Calls per classification", classItems) : h("p", { class: "muted" }, "No classified calls."),
        h("p", { class: "muted" }, `${cl.total_analysed} analysed, ${cl.unclassified} unclassified, ${cl.pending_analysis} pending`))),
    drill ? h("section", { class: "card", "aria-labelledby": "drill" }, h("h2", { id: "drill" }, "This campaign"),
      h("dl", { class: "facts" }, Object.entries(drill.performance_metrics)
        .filter(([, v]) => typeof v !== "object")
        .flatMap(([k, v]) => [h("dt", {}, humanize(k)), h("dd", {}, number(v))]))) : null,
    h("h2", {}, "Per assistant"),
    table([
      ["Assistant", (a) => a.agent_name || a.agent_id],
      ["Calls", (a) => number(a.total_calls)],
      ["Connected", (a) => number(a.connected_calls)],
      ["Connectivity", (a) => `${number(a.connectivity)} %`],
      ["Avg duration", (a) => seconds(a.average_duration)],
      ["Cost", (a) => number(a.total_cost)],
    ], perf.agents),
    h("h2", {}, "Per caller number"),
    table([
      ["Number", (n) => n.from_number || "—"],
      ["Calls", (n) => number(n.total_calls)],
      ["Connected", (n) => number(n.connected_calls)],
      ["Connectivity", (n) => `${number(n.connectivity)} %`],
    ], numbers.number_analytics));
}
