// API keys: list, create (shown once), revoke.
import { api, session } from "../api.js";
import { badge, busy, field, h, render, say, table, when } from "../ui.js";

export async function show(view, _parts, ctx) {
  const { api_keys: keys } = await api("/workspace/api-keys");
  const fresh = h("div", { id: "new-key", "aria-live": "polite" });
  const form = h("form", { class: "card", "aria-labelledby": "key-title" },
    h("h2", { id: "key-title" }, "Create a key"),
    field("Name", "input", { name: "name", required: true, maxlength: 100, value: "backend" }),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Create key")),
    fresh);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(form.querySelector("button"), async () => {
      const created = await api("/workspace/api-keys", { method: "POST", body: { name: form.elements.name.value.trim() } });
      await show(view, _parts, ctx);
      view.querySelector("#new-key").replaceChildren(h("div", { class: "secret" },
        h("p", {}, "Your new key. Copy it now: it will not be shown again."),
        h("p", { class: "mono", id: "new-key-value" }, created.api_key)));
    });
  });
  const mine = (k) => session.key && k.hint && session.key.startsWith(k.hint.split("…")[0]) && session.key.endsWith(k.hint.split("…")[1] || "");
  render(view, "API keys",
    table([
      ["Name", (k) => k.name],
      ["Key", (k) => h("span", { class: "mono" }, k.hint, mine(k) ? " (this session)" : "")],
      ["Created", (k) => when(k.created_at)],
      ["State", (k) => (k.revoked_at ? badge("revoked") : badge("live"))],
      ["", (k) => (k.revoked_at ? "" : h("button", { type: "button", class: "link", "aria-label": `Revoke ${k.name}`,
        onclick: (e) => busy(e.target, async () => {
          if (!confirm(`Revoke ${k.name}? Programs using it stop working at once.`)) return;
          await api(`/workspace/api-keys/${k.id}`, { method: "DELETE" });
          say("Key revoked.");
          await show(view, _parts, ctx);
        }) }, "Revoke"))],
    ], keys),
    form);
}
