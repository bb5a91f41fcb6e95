// Audio worklets for browser calls. Loaded by webcall.js with audioWorklet.addModule().
//
// cw-capture: microphone → 20 ms chunks of PCM16 at the context's rate, posted to the page.
// cw-player: agent PCM16 at 16 kHz → speakers, resampled to the context's rate; "clear"
// drops whatever has not been played yet (barge-in).

class Capture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.chunk = new Int16Array(Math.round(sampleRate / 50));
    this.filled = 0;
  }

  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (!input) return true;
    for (let i = 0; i < input.length; i++) {
      const v = Math.max(-1, Math.min(1, input[i]));
      this.chunk[this.filled++] = v < 0 ? v * 0x8000 : v * 0x7fff;
      if (this.filled === this.chunk.length) {
        const out = this.chunk.slice().buffer;
        this.port.postMessage(out, [out]);
        this.filled = 0;
      }
    }
    return true;
  }
}

class Player extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = [];      // Float32Arrays of 16 kHz samples
    this.offset = 0;      // fractional read position in queue[0]
    this.step = 16000 / sampleRate;
    this.port.onmessage = (event) => {
      if (event.data && event.data.type === "clear") {
        this.queue = [];
        this.offset = 0;
        return;
      }
      const pcm = new Int16Array(event.data);
      const f = new Float32Array(pcm.length);
      for (let i = 0; i < pcm.length; i++) f[i] = pcm[i] / 0x8000;
      this.queue.push(f);
    };
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    for (let i = 0; i < out.length; i++) {
      while (this.queue.length && this.offset >= this.queue[0].length) {
        this.offset -= this.queue[0].length;
        this.queue.shift();
      }
      if (!this.queue.length) { out[i] = 0; continue; }
      const buf = this.queue[0];
      const j = Math.floor(this.offset);
      const frac = this.offset - j;
      const next = j + 1 < buf.length ? buf[j + 1] : (this.queue[1] ? this.queue[1][0] : buf[j]);
      out[i] = buf[j] * (1 - frac) + next * frac;
      this.offset += this.step;
    }
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    return true;
  }
}

registerProcessor("cw-capture", Capture);
registerProcessor("cw-player", Player);
