// The dashboard shell: sign-in, navigation and a hash router (#/page/id).
import { api, session } from "./api.js";
import { busy, field, h, render, say } from "./ui.js";
import * as assistants from "./pages/assistants.js";
import * as calls from "./pages/calls.js";
import * as campaigns from "./pages/campaigns.js";
import * as analytics from "./pages/analytics.js";
import * as numbers from "./pages/numbers.js";
import * as webhooks from "./pages/webhooks.js";
import * as keys from "./pages/keys.js";

const view = document.getElementById("view");
const nav = document.getElementById("nav");
const signOut = document.getElementById("sign-out");

const routes = {
  assistants: assistants.show,
  calls: calls.show,
  campaigns: campaigns.show,
  analytics: analytics.show,
  numbers: numbers.show,
  webhooks: webhooks.show,
  keys: keys.show,
};

// Pages poll while they are on screen; leaving a page stops its timers.
let cleanups = [];
// Routes overlap: a page still loading when the hash changes again must not paint over the newer
// one. Each route renders into its own container, and only the latest route keeps timers.
let latest = 0;

function signIn() {
  nav.hidden = true;
  signOut.hidden = true;
  const form = h("form", { class: "card signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in"),
    h("p", { class: "muted" }, "Use your workspace API key. It stays in this browser tab only."),
    field("API key", "input", { name: "key", type: "password", autocomplete: "off", required: true }),
    h("button", { type: "submit" }, "Sign in"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = form.elements.key.value.trim();
    await busy(form.querySelector("button"), async () => {
      session.key = key;
      try {
        const ws = await api("/workspace");
        say(`Signed in to ${ws.workspace_info.name}.`);
        if (!location.hash || location.hash === "#/") location.hash = "#/assistants";
        else route();
      } catch (err) {
        session.key = null;
        throw err;
      }
    });
  });
  view.replaceChildren(form);
  document.title = "Sign in · callwright";
  form.elements.key.focus();
}

async function route() {
  const generation = ++latest;
  for (const fn of cleanups.splice(0)) fn();
  if (!session.key) return signIn();
  nav.hidden = false;
  signOut.hidden = false;
  const [path, qs = ""] = (location.hash || "#/assistants").slice(1).split("?");
  const [, first, ...rest] = path.split("/");
  const page = first || "assistants";
  for (const a of nav.querySelectorAll("a")) {
    if (a.getAttribute("href") === `#/${page}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const show = routes[page];
  const slot = h("div");
  view.replaceChildren(slot);
  if (!show) {
    render(slot, "Not found", h("p", {}, "No such page."));
    return;
  }
  const onLeave = (fn) => (generation === latest ? cleanups.push(fn) : fn());
  try {
    await show(slot, rest.filter(Boolean).map(decodeURIComponent), { onLeave, query: new URLSearchParams(qs) });
  } catch (err) {
    if (generation !== latest) return;
    if (err.status === 401) {
      session.key = null;
      say("Your API key was not accepted. Sign in again.", { error: true });
      return signIn();
    }
    render(slot, "Something went wrong", h("p", { class: "errors" }, err.message));
  }
  if (generation !== latest) return;
  const heading = view.querySelector("h1");
  if (heading && document.activeElement === document.body) heading.focus({ preventScroll: true });
}

signOut.addEventListener("click", () => {
  session.key = null;
  say("Signed out.");
  location.hash = "#/";
  signIn();
});
window.addEventListener("hashchange", () => { say(""); route(); });
route();
