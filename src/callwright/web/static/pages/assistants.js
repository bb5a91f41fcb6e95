// Assistants: list, create (/public/agent), edit (PATCH /agent/v1), talk to it, place a call.
import { api, session } from "../api.js";
import { WebCall } from "../webcall.js";
import { busy, field, fill, formData, h, option, render, say, table, variableNames, when } from "../ui.js";

const LANGUAGES = ["en-US", "en-IN", "en-GB", "hi-IN", "ta-IN", "te-IN", "kn-IN", "mr-IN", "gu-IN", "bn-IN", "ar-AE"];

export async function show(view, [id], ctx) {
  if (id === "new") return create(view);
  if (id) return detail(view, id, ctx);
  return list(view);
}

async function list(view) {
  const data = await api("/agent/all", { query: { limit: 100 } });
  render(view, "Assistants",
    h("div", { class: "actions" }, h("a", { class: "button", href: "#/assistants/new" }, "New assistant")),
    h("h2", {}, "Your assistants"),
    table([
      ["Name", (a) => h("a", { href: `#/assistants/${a.id}` }, a.agent_display_name)],
      ["Type", (a) => a.agent_type],
      ["Calls", (a) => a.call_count],
      ["Created", (a) => when(a.created_at)],
    ], data.data.agents));
}

async function voiceOptions(selected) {
  const { voices } = await api("/agent/voices");
  return voices.map((v) => option(v.id, `${v.name} (${v.languages.join(", ")})`, v.id === selected));
}

async function create(view) {
  const form = h("form", { class: "card", "aria-label": "New assistant" },
    field("Name", "input", { name: "agent_name", required: true, maxlength: 100 }),
    h("div", { class: "row" },
      field("Type", "select", { name: "agent_type" }, "", ["outbound", "inbound", "webcall"].map((t) => option(t, t))),
      field("Language", "select", { name: "primary_language" }, "", LANGUAGES.map((l) => option(l, l))),
      field("Voice", "select", { name: "voice_id", required: true }, "", await voiceOptions())),
    field("Introduction and objective", "textarea", { name: "introduction_and_objective", required: true, maxlength: 2000 },
      "Who the assistant is and what the call is for."),
    field("Response guidelines", "textarea", { name: "response_guidelines", required: true, maxlength: 3000 }),
    field("Task", "textarea", { name: "task", required: true, maxlength: 1500 }),
    field("FAQ", "textarea", { name: "faq", maxlength: 5000 }),
    field("First message", "input", { name: "intro_message", maxlength: 500 }, "Use @{{callee_name}} for variables."),
    field("Variables", "input", { name: "custom_variables" }, "Comma-separated, e.g. plan, due_date"),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Create assistant")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(form.querySelector("button[type=submit]"), async () => {
      const body = formData(form);
      body.custom_variables = splitList(body.custom_variables);
      for (const k of ["faq", "intro_message"]) if (!body[k]) delete body[k];
      const created = await api("/public/agent", { method: "POST", body });
      say("Assistant created.");
      location.hash = `#/assistants/${created.data.id}`;
    });
  });
  render(view, "New assistant", form);
}

function splitList(text) {
  return String(text || "").split(/[,\n]/).map((s) => s.trim()).filter(Boolean);
}

async function edit(agentId, operation, fields) {
  await api("/agent/v1", { method: "PATCH", body: { operation, agent_id: agentId, ...fields } });
}

async function detail(view, id, ctx) {
  const [{ agents: agent }, numbers] = await Promise.all([
    api(`/agent/${encodeURIComponent(id)}`),
    api("/workspace/numbers").catch(() => ({ workspace_numbers: [] })),
  ]);
  const version = agent.version_details[agent.active_agent_version_id] || {};
  const config = version.call_config || {};
  const ac = agent.agent_config || {};

  render(view, agent.agent_display_name,
    h("p", { class: "muted" }, `${agent.agent_type} · ${agent.language} · voice ${agent.voice ? agent.voice.name : "default"}`),
    talkCard(agent, ctx),
    callCard(agent, numbers.workspace_numbers),
    promptForm(agent, ac, await voiceOptions(agent.voice && agent.voice.id)),
    callConfigForm(agent, config),
    widgetCard(agent),
    h("div", { class: "actions" },
      h("a", { href: `#/calls?agent_id=${agent.id}` }, "This assistant's calls"),
      h("button", { class: "danger", type: "button", onclick: (e) => busy(e.target, async () => {
        if (!confirm(`Archive ${agent.agent_display_name}?`)) return;
        await api(`/agent/${agent.id}`, { method: "DELETE" });
        say("Assistant archived.");
        location.hash = "#/assistants";
      }) }, "Archive assistant")));
}

function talkCard(agent, ctx) {
  const state = h("span", { class: "state", id: "talk-state" }, "Not connected");
  const heard = h("ol", { class: "transcript", id: "talk-heard", "aria-label": "What the assistant heard" });
  const audio = h("span", { id: "talk-audio", class: "muted" });
  const after = h("div", { id: "talk-after" });
  const startBtn = h("button", { type: "button", id: "talk-start" }, "Start talking");
  const stopBtn = h("button", { type: "button", class: "secondary", id: "talk-stop", disabled: true }, "Hang up");
  let call = null;
  startBtn.addEventListener("click", async () => {
    fill(heard);
    fill(after);
    call = new WebCall({ agentId: agent.id, apiKey: session.key });
    call.addEventListener("state", (e) => {
      const { state: s, message } = e.detail;
      state.textContent = { connecting: "Connecting…", live: "Live: speak now", ended: "Call ended", error: `Failed: ${message}` }[s] || s;
      state.dataset.state = s;
      startBtn.disabled = s === "connecting" || s === "live";
      stopBtn.disabled = !(s === "connecting" || s === "live");
    });
    call.addEventListener("transcript", (e) => heard.append(h("li", { class: "user" }, h("span", { class: "who" }, "You"), e.detail.text)));
    call.addEventListener("audio", (e) => { audio.textContent = `Agent audio received: ${e.detail.seconds.toFixed(1)} s`; audio.dataset.seconds = e.detail.seconds; });
    call.addEventListener("ended", (e) => fill(after, 
      h("a", { href: `#/calls/${e.detail.call_id}`, id: "talk-call-link" }, "See this call's transcript and recording")));
    await call.start();
  });
  stopBtn.addEventListener("click", () => call && call.hangup());
  ctx.onLeave(() => call && call.hangup());
  return h("section", { class: "card", "aria-labelledby": "talk-title" },
    h("h2", { id: "talk-title" }, "Talk to it"),
    h("p", { class: "muted" }, "A call from this browser, with your microphone."),
    h("div", { class: "talk" }, startBtn, stopBtn, h("span", { role: "status" }, state), audio),
    heard, after);
}

function callCard(agent, numbers) {
  const form = h("form", { class: "card", "aria-labelledby": "call-title" },
    h("h2", { id: "call-title" }, "Place a phone call"),
    h("div", { class: "row" },
      field("Callee name", "input", { name: "name", value: "Test Caller", required: true }),
      field("Phone number", "input", { name: "mobile_number", value: "+14155550100", required: true, inputmode: "tel" },
        "E.164. Sim numbers answer with a simulated person."),
      field("From", "select", { name: "from_number_id", required: true }, "",
        numbers.map((n) => option(n.id, `${n.number} (${n.provider || "?"})`)))),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Call now")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(form.querySelector("button"), async () => {
      const body = { ...formData(form), agent_id: agent.id };
      const placed = await api("/calling/outbound/individual", { method: "POST", body });
      say("Call placed.");
      location.hash = `#/calls/${placed.data.call_id}`;
    });
  });
  return form;
}

function promptForm(agent, ac, voices) {
  const form = h("form", { class: "card", "aria-labelledby": "prompt-title" },
    h("h2", { id: "prompt-title" }, "Conversation"),
    field("Name", "input", { name: "agent_display_name", value: agent.agent_display_name, required: true, maxlength: 100 }),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Save")));
  // Built separately so the textarea gets its value as text, not as an attribute.
  const prompt = field("Prompt", "textarea", { name: "agent_prompt", rows: 10 }, "Use @{{variable}} for call variables.");
  prompt.querySelector("textarea").value = ac.agent_prompt || "";
  const intro = field("First message", "input", { name: "intro_message", value: ac.intro_message || "" });
  const vars = field("Variables", "input", { name: "custom_variables", value: variableNames(ac.custom_variables).join(", ") },
    "Comma-separated. Outbound assistants always keep callee_name and mobile_number.");
  const voice = field("Voice", "select", { name: "voice_id" }, "", voices);
  form.insertBefore(prompt, form.lastChild);
  form.insertBefore(intro, form.lastChild);
  form.insertBefore(vars, form.lastChild);
  form.insertBefore(voice, form.lastChild);
  const initial = formData(form);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(form.querySelector("button"), async () => {
      const now = formData(form);
      const ops = [
        ["agent_display_name", "edit_agent_display_name", (v) => ({ agent_display_name: v })],
        ["agent_prompt", "edit_prompt", (v) => ({ agent_prompt: v })],
        ["intro_message", "edit_intro_message", (v) => ({ intro_message: v })],
        ["custom_variables", "edit_custom_vars", (v) => ({ custom_variables: splitList(v) })],
        ["voice_id", "edit_voice", (v) => ({ voice_id: v })],
      ];
      let changed = 0;
      for (const [key, op, body] of ops) {
        if (now[key] !== initial[key]) {
          await edit(agent.id, op, body(now[key]));
          initial[key] = now[key];
          changed++;
        }
      }
      say(changed ? "Saved." : "Nothing changed.");
    });
  });
  return form;
}

function callConfigForm(agent, config) {
  const time = config.call_time || {};
  const retry = config.call_retry_config || {};
  const num = (label, name, value, hint) => field(label, "input", { name, type: "number", min: 0, value: value ?? "" }, hint);
  const form = h("form", { class: "card", "aria-labelledby": "config-title" },
    h("h2", { id: "config-title" }, "Call settings"),
    h("div", { class: "row" },
      num("Idle warning (s)", "idle_timeout_warning", config.idle_timeout_warning),
      num("Idle hang-up (s)", "idle_timeout_end", config.idle_timeout_end),
      num("Max call length (s)", "max_call_length", config.max_call_length)),
    h("div", { class: "row" },
      num("Retries", "retry_count", retry.retry_count),
      field("Calls from", "input", { name: "call_start_time", type: "time", value: time.call_start_time }),
      field("Calls until", "input", { name: "call_end_time", type: "time", value: time.call_end_time }),
      field("Time zone", "input", { name: "timezone", value: time.timezone })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Save call settings")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(form.querySelector("button"), async () => {
      const v = formData(form);
      await edit(agent.id, "edit_call_config", { call_config: {
        idle_timeout_warning: Number(v.idle_timeout_warning),
        idle_timeout_end: Number(v.idle_timeout_end),
        max_call_length: Number(v.max_call_length),
        call_retry_config: { retry_count: Number(v.retry_count) },
        call_time: { call_start_time: v.call_start_time, call_end_time: v.call_end_time, timezone: v.timezone },
      } });
      say("Call settings saved.");
    });
  });
  return form;
}

function snippet(agent, key) {
  return `<script src="${location.origin}/widget.js" data-agent-id="${agent.id}" data-public-key="${key}" ` +
    `data-button-text="Talk to us" data-color="#1d4ed8" async></script>`;
}

function widgetCard(agent) {
  let key = agent.webcall_public_key || "";
  const code = h("textarea", { readonly: true, rows: 3, id: "widget-snippet", "aria-label": "Embed code" });
  code.value = snippet(agent, key);
  const domains = field("Whitelisted domains", "textarea", { name: "domains", rows: 3 },
    "One origin per line, e.g. https://shop.example.com. The widget works only on these sites.");
  domains.querySelector("textarea").value = (agent.whitelisted_domains || []).join("\n");
  const form = h("form", { class: "card", "aria-labelledby": "widget-title" },
    h("h2", { id: "widget-title" }, "Website widget"),
    h("p", {}, "Paste this tag into your site's pages to add a call button:"), code,
    domains,
    h("div", { class: "actions" },
      h("button", { type: "submit" }, "Save domains"),
      h("button", { type: "button", class: "secondary", onclick: (e) => busy(e.target, async () => {
        if (!confirm("Rotate the public key? Pages using the old one stop working.")) return;
        const r = await api(`/webcall/agents/${agent.id}/public-key`, { method: "POST" });
        key = r.webcall_public_key;
        code.value = snippet(agent, key);
        say("Public key rotated. Update the tag on your pages.");
      }) }, "Rotate public key")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(form.querySelector("button"), async () => {
      await edit(agent.id, "edit_agent_whitelisted_domains",
        { whitelisted_domains: splitList(form.elements.domains.value) });
      say("Domains saved.");
    });
  });
  return form;
}

