// Webhooks: an assistant's subscriptions (PATCH /agent/v1 edit_event_subscriptions), its
// endpoints, and each endpoint's delivery log with test sends and replays.
import { api } from "../api.js";
import { badge, busy, field, formData, h, option, render, say, table, when } from "../ui.js";

const EVENTS = ["call_started", "call_completed", "recording_completed", "platform_analysis_completed",
  "client_analysis_completed", "all_processing_completed"];

export async function show(view, [endpointId], ctx) {
  if (endpointId) return deliveries(view, endpointId);
  const { data } = await api("/agent/all", { query: { limit: 100 } });
  const agents = data.agents;
  const agentId = ctx.query.get("agent_id") || (agents[0] && agents[0].id);
  if (!agentId) {
    render(view, "Webhooks", h("p", {}, "Create an assistant first: webhooks belong to assistants."));
    return;
  }
  const [{ endpoints }, { agents: agent }] = await Promise.all([
    api("/webhooks/endpoints", { query: { agent_id: agentId } }),
    api(`/agent/${agentId}`),
  ]);
  const version = agent.version_details[agent.active_agent_version_id] || {};
  const subs = version.event_subscriptions || [];

  const picker = field("Assistant", "select", { name: "agent" }, "",
    agents.map((a) => option(a.id, a.agent_display_name, a.id === agentId)));
  picker.querySelector("select").addEventListener("change", (e) => { location.hash = `#/webhooks?agent_id=${e.target.value}`; });

  const form = h("form", { class: "card", "aria-labelledby": "sub-title" },
    h("h2", { id: "sub-title" }, "Add a webhook"),
    field("URL", "input", { name: "callback_url", type: "url", required: true, placeholder: "https://example.com/hooks/calls" }),
    h("fieldset", {}, h("legend", {}, "Events"),
      EVENTS.map((e) => h("label", {}, h("input", { type: "checkbox", name: "event", value: e, checked: e === "all_processing_completed" }), " ", e))),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Subscribe")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(form.querySelector("button"), async () => {
      const events = [...form.querySelectorAll("input[name=event]:checked")].map((i) => i.value);
      if (!events.length) throw new Error("Pick at least one event.");
      const sub = { callback_url: formData(form).callback_url, event_type: events };
      await api("/agent/v1", { method: "PATCH", body: { operation: "edit_event_subscriptions", agent_id: agentId,
        event_subscriptions: [...subs, sub] } });
      say("Subscribed.");
      await show(view, [], ctx);
    });
  });

  render(view, "Webhooks", picker,
    h("h2", {}, "Endpoints"),
    table([
      ["URL", (e) => h("a", { href: `#/webhooks/${e.id}` }, e.url)],
      ["Events", (e) => e.event_types.join(", ")],
      ["State", (e) => (e.disabled ? badge("disabled") : badge("live"))],
      ["Since", (e) => when(e.created_at)],
      ["", (e) => h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", onclick: (ev) => busy(ev.target, async () => {
          const d = await api(`/webhooks/endpoints/${e.id}/test`, { method: "POST" });
          say(`Test event sent: ${d.status}${d.last_status_code ? ` (HTTP ${d.last_status_code})` : ""}.`);
        }) }, "Send test"),
        e.disabled ? h("button", { type: "button", onclick: (ev) => busy(ev.target, async () => {
          await api(`/webhooks/endpoints/${e.id}/enable`, { method: "POST" });
          await show(view, [], ctx);
        }) }, "Enable") : null,
        h("button", { type: "button", class: "danger", onclick: (ev) => busy(ev.target, async () => {
          if (!confirm(`Stop sending events to ${e.url}?`)) return;
          await api(`/webhooks/endpoints/${e.id}`, { method: "DELETE" });
          await show(view, [], ctx);
        }) }, "Remove"))],
    ], endpoints),
    form);
}

async function deliveries(view, endpointId) {
  const [endpoint, log] = await Promise.all([
    api(`/webhooks/endpoints/${encodeURIComponent(endpointId)}`),
    api(`/webhooks/endpoints/${encodeURIComponent(endpointId)}/deliveries`, { query: { limit: 50 } }),
  ]);
  render(view, "Deliveries",
    h("p", {}, h("span", { class: "mono" }, endpoint.url), " · ", endpoint.disabled ? badge("disabled") : badge("live")),
    endpoint.disabled_reason ? h("p", { class: "errors" }, endpoint.disabled_reason) : null,
    table([
      ["Event", (d) => d.event_type],
      ["Status", (d) => badge(d.status)],
      ["Attempts", (d) => d.attempt_count],
      ["Last answer", (d) => (d.last_status_code ? `HTTP ${d.last_status_code}` : d.last_error || "—")],
      ["Created", (d) => when(d.created_at)],
      ["Next try", (d) => when(d.next_attempt_at)],
      ["", (d) => h("button", { type: "button", class: "secondary", onclick: (e) => busy(e.target, async () => {
        await api(`/webhooks/deliveries/${d.id}/replay`, { method: "POST" });
        say("Queued again.");
      }) }, "Replay")],
    ], log.deliveries),
    h("div", { class: "actions" }, h("a", { href: `#/webhooks?agent_id=${endpoint.agent_id}` }, "Back to endpoints")));
}
