// Numbers and telephony accounts.
import { api } from "../api.js";
import { busy, field, formData, h, option, render, say, table, when } from "../ui.js";

const CREDENTIAL_HINTS = {
  sim: "{}",
  sip: '{"host": "pbx.example.com", "port": 5060, "transport": "udp", "username": "...", "password": "..."}',
  twilio: '{"account_sid": "AC...", "auth_token": "..."}',
};

export async function show(view, _parts, ctx) {
  const [{ workspace_numbers: numbers }, { telephony_accounts: accounts }] = await Promise.all([
    api("/workspace/numbers"), api("/telephony/accounts"),
  ]);
  const reload = () => show(view, _parts, ctx);

  const accountForm = h("form", { class: "card", "aria-labelledby": "acc-title" },
    h("h2", { id: "acc-title" }, "Add a telephony account"),
    h("div", { class: "row" },
      field("Provider", "select", { name: "provider" }, "", ["sim", "sip", "twilio"].map((p) => option(p, p))),
      field("Name", "input", { name: "name", required: true, maxlength: 100 })),
    field("Credentials (JSON)", "textarea", { name: "credentials", rows: 3 }, "Stored, never shown again."),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Add account")));
  const credentials = accountForm.elements.credentials;
  credentials.value = CREDENTIAL_HINTS.sim;
  accountForm.elements.provider.addEventListener("change", (e) => { credentials.value = CREDENTIAL_HINTS[e.target.value]; });
  accountForm.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(accountForm.querySelector("button"), async () => {
      const v = formData(accountForm);
      let creds;
      try { creds = JSON.parse(v.credentials || "{}"); } catch { throw new Error("Credentials must be JSON"); }
      await api("/telephony/accounts", { method: "POST", body: { provider: v.provider, name: v.name, credentials: creds } });
      say("Account added.");
      await reload();
    });
  });

  const importForm = h("form", { class: "card", "aria-labelledby": "imp-title" },
    h("h2", { id: "imp-title" }, "Import numbers"),
    h("div", { class: "row" },
      field("Account", "select", { name: "telephony_account_id", required: true }, "",
        accounts.map((a) => option(a.id, `${a.name} (${a.provider})`))),
      field("Numbers", "input", { name: "numbers", required: true, placeholder: "+14155550123, +14155550124" }, "E.164, comma-separated")),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Import")));
  importForm.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(importForm.querySelector("button"), async () => {
      const v = formData(importForm);
      const list = v.numbers.split(/[,\s]+/).filter(Boolean);
      await api("/workspace/numbers/import", { method: "POST", body: { telephony_account_id: v.telephony_account_id, numbers: list } });
      say(`${list.length} number(s) imported.`);
      await reload();
    });
  });

  render(view, "Numbers",
    h("h2", {}, "Caller numbers"),
    table([
      ["Number", (n) => n.number],
      ["Provider", (n) => n.provider || "—"],
      ["Inbound assistant", (n) => (n.agent ? n.agent.agent_display_name : "—")],
      ["Calls", (n) => n.call_count],
      ["Added", (n) => when(n.created_at)],
      ["", (n) => h("button", { type: "button", class: "link", "aria-label": `Remove ${n.number}`,
        onclick: (e) => busy(e.target, async () => {
          if (!confirm(`Remove ${n.number}?`)) return;
          await api(`/workspace/number/${n.id}`, { method: "DELETE" });
          await reload();
        }) }, "Remove")],
    ], numbers),
    h("h2", {}, "Telephony accounts"),
    table([
      ["Name", (a) => a.name],
      ["Provider", (a) => a.provider],
      ["Added", (a) => when(a.created_at)],
      ["", (a) => h("button", { type: "button", class: "link", "aria-label": `Remove account ${a.name}`,
        onclick: (e) => busy(e.target, async () => {
          await api(`/telephony/accounts/${a.id}`, { method: "DELETE" });
          await reload();
        }) }, "Remove")],
    ], accounts),
    importForm, accountForm);
}
