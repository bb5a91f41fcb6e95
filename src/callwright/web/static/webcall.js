// A browser call: microphone → WebSocket → the assistant, and its voice back to the speakers.
// Used by the dashboard ("Talk to it") and by the embeddable widget (widget.js).
//
// Events (CustomEvent on the WebCall object):
//   state       {state: "connecting" | "live" | "ended" | "error", message?}
//   started     {call_id}
//   transcript  {role: "user", text}          what the assistant heard you say
//   audio       {seconds}                     agent audio received so far
//   ended       {call_id, end_reason}
//   error       {code, message}

export class WebCall extends EventTarget {
  /**
   * @param {object} o
   * @param {string} o.agentId
   * @param {string} [o.apiKey]     dashboard: the workspace API key
   * @param {string} [o.publicKey]  widget: the assistant's public key (origin must be whitelisted)
   * @param {string} [o.server]     the callwright server's origin (default: this page's)
   * @param {object} [o.variables]  the call's custom variables
   */
  constructor({ agentId, apiKey, publicKey, server, variables }) {
    super();
    this.agentId = agentId;
    this.apiKey = apiKey;
    this.publicKey = publicKey;
    this.server = server || location.origin;
    this.variables = variables || {};
    this.callId = null;
    this.agentBytes = 0;
    this.state = "idle";
    this._finished = false;
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  _setState(state, message) {
    this.state = state;
    this._emit("state", { state, message });
  }

  async start() {
    this._setState("connecting");
    try {
      try {
        this.ctx = new AudioContext({ sampleRate: 16000 });
      } catch {
        this.ctx = new AudioContext(); // the worklets resample; the server is told the rate
      }
      await this.ctx.audioWorklet.addModule(new URL("./audio-worklet.js", import.meta.url));
      this.mic = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
    } catch (err) {
      this._fail(0, `Microphone unavailable: ${err.message || err}`);
      return;
    }
    this.player = new AudioWorkletNode(this.ctx, "cw-player", { outputChannelCount: [1] });
    this.player.connect(this.ctx.destination);
    const url = new URL("/ca/api/v0/webcall/ws", this.server);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      const start = { type: "start", agent_id: this.agentId, variables: this.variables,
        sample_rate_hz: this.ctx.sampleRate };
      if (this.apiKey) start.api_key = this.apiKey;
      else start.public_key = this.publicKey;
      ws.send(JSON.stringify(start));
    };
    ws.onmessage = (event) => this._onMessage(event.data);
    ws.onclose = (event) => {
      if (!this._finished) {
        this._fail(event.code, event.reason || "The connection closed");
      }
      this._cleanup();
    };
  }

  _onMessage(data) {
    if (data instanceof ArrayBuffer) {
      this.agentBytes += data.byteLength;
      this.player.port.postMessage(data, [data]);
      this._emit("audio", { seconds: this.agentBytes / 32000 });
      return;
    }
    const msg = JSON.parse(data);
    if (msg.type === "started") {
      this.callId = msg.call_id;
      this._connectMic();
      this._setState("live");
      this._emit("started", { call_id: msg.call_id });
    } else if (msg.type === "transcript") {
      this._emit("transcript", msg);
    } else if (msg.type === "clear") {
      this.player.port.postMessage({ type: "clear" });
    } else if (msg.type === "ended") {
      this._finished = true;
      this._setState("ended");
      this._emit("ended", msg);
    } else if (msg.type === "error") {
      this._fail(msg.code, msg.message);
    }
  }

  _connectMic() {
    const source = this.ctx.createMediaStreamSource(this.mic);
    this.capture = new AudioWorkletNode(this.ctx, "cw-capture", { numberOfOutputs: 1 });
    this.capture.port.onmessage = (event) => {
      if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(event.data);
    };
    const mute = this.ctx.createGain();
    mute.gain.value = 0; // keeps the capture node pulled by the graph, silently
    source.connect(this.capture).connect(mute).connect(this.ctx.destination);
  }

  _fail(code, message) {
    if (this._finished) return;
    this._finished = true;
    this._setState("error", message);
    this._emit("error", { code, message });
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close();
    this._cleanup();
  }

  /** End the call from the browser. */
  hangup() {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ type: "hangup" }));
    } else {
      this._cleanup();
    }
  }

  _cleanup() {
    if (this.mic) this.mic.getTracks().forEach((t) => t.stop());
    this.mic = null;
    if (this.ctx && this.ctx.state !== "closed") {
      // let the last agent words play out before closing the speakers
      setTimeout(() => this.ctx && this.ctx.state !== "closed" && this.ctx.close(), 1500);
    }
  }
}
