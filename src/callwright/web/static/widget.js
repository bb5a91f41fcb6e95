/* callwright web-call widget. Embed with one tag:
 *
 *   <script src="https://YOUR-CALLWRIGHT/widget.js" async
 *           data-agent-id="…" data-public-key="…"
 *           data-button-text="Talk to us" data-color="#1d4ed8"
 *           data-variables='{"callee_name": "Visitor"}'></script>
 *
 * A floating button starts a browser call to the assistant. The public key works only on
 * pages whose origin is in the assistant's whitelisted domains (checked by the server).
 * Events on window, like Ringg's widget:
 *   callwright:conversation_status  {status: "started" | "ended", callId}
 *   callwright:widget_error         {code, message}
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) return;
  var server = new URL(script.src).origin;
  var data = script.dataset;
  var color = data.color && CSS.supports("color", data.color) ? data.color : "#1d4ed8";
  var variables = {};
  try { variables = JSON.parse(data.variables || "{}"); } catch (e) { variables = {}; }

  var css = [
    ":host { all: initial; }",
    ".wrap { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; display: flex;",
    "  flex-direction: column; align-items: flex-end; gap: 8px; font: 15px/1.4 system-ui, sans-serif; }",
    "button { font: inherit; font-weight: 600; color: #fff; background: var(--cw-color); border: 0;",
    "  border-radius: 999px; padding: 12px 20px; min-height: 44px; cursor: pointer;",
    "  box-shadow: 0 4px 14px rgba(0,0,0,.25); }",
    "button:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }",
    "button[data-live] { background: #b42318; }",
    ".panel { background: #fff; color: #1b1f24; border: 1px solid #c9ced6; border-radius: 10px;",
    "  padding: 10px 14px; max-width: 280px; box-shadow: 0 4px 14px rgba(0,0,0,.15); }",
    ".panel[hidden] { display: none; }",
    ".panel.error { border-color: #b42318; color: #7a1b12; }",
  ].join("\n");

  var host = document.createElement("div");
  host.id = "callwright-widget";
  var root = host.attachShadow({ mode: "open" });
  try {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } catch (e) {
    var style = document.createElement("style");
    style.textContent = css;
    root.appendChild(style);
  }
  var wrap = document.createElement("div");
  wrap.className = "wrap";
  wrap.style.setProperty("--cw-color", color);
  var panel = document.createElement("div");
  panel.className = "panel";
  panel.setAttribute("role", "status");
  panel.setAttribute("aria-live", "polite");
  panel.hidden = true;
  var button = document.createElement("button");
  button.type = "button";
  var idleText = (data.buttonText || "Talk to us").slice(0, 60);
  button.textContent = idleText;
  wrap.appendChild(panel);
  wrap.appendChild(button);
  root.appendChild(wrap);

  var call = null;

  function show(text, isError) {
    panel.hidden = !text;
    panel.textContent = text || "";
    panel.className = isError ? "panel error" : "panel";
    host.dataset.state = isError ? "error" : (call ? call.state : "idle");
  }

  function emit(name, detail) {
    window.dispatchEvent(new CustomEvent("callwright:" + name, { detail: detail }));
  }

  function idle() {
    call = null;
    button.textContent = idleText;
    button.removeAttribute("data-live");
    button.disabled = false;
  }

  button.addEventListener("click", function () {
    if (call) { call.hangup(); return; }
    button.disabled = true;
    show("Connecting…");
    import(server + "/dashboard/static/webcall.js").then(function (mod) {
      call = new mod.WebCall({ agentId: data.agentId, publicKey: data.publicKey, server: server, variables: variables });
      call.addEventListener("started", function (e) {
        button.disabled = false;
        button.textContent = "End call";
        button.setAttribute("data-live", "");
        show("Connected. Speak now.");
        emit("conversation_status", { status: "started", callId: e.detail.call_id });
      });
      call.addEventListener("ended", function (e) {
        show("Call ended. Thank you!");
        emit("conversation_status", { status: "ended", callId: e.detail.call_id });
        idle();
      });
      call.addEventListener("error", function (e) {
        var msg = e.detail.code === 403 ? "This website is not allowed to call this assistant."
          : (e.detail.message || "The call could not start.");
        show(msg, true);
        emit("widget_error", { code: e.detail.code, message: e.detail.message });
        idle();
      });
      return call.start();
    }).catch(function (err) {
      show("The call could not start: " + (err && err.message ? err.message : err), true);
      idle();
    });
  });

  function mount() { document.body.appendChild(host); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
