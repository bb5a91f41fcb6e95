// Inline SVG charts: bars, stacked bars and a line. No library; every chart has a text
// alternative (a <title> and a visually plain table is left to the caller when needed).
import { h, number } from "./ui.js";

const NS = "http://www.w3.org/2000/svg";
export const COLORS = ["#1d4ed8", "#b45309", "#047857", "#7c3aed", "#be123c", "#0e7490", "#4d7c0f"];

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function frame(title, width, height) {
  return s("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": title },
    s("title", {}, title));
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= v);
}

/** Vertical bars for [{label, value}]. */
export function barChart(title, items, { unit = "" } = {}) {
  const W = 560, H = 220, L = 44, B = 40, T = 12;
  const svg = frame(title, W, H);
  const max = niceMax(Math.max(0, ...items.map((i) => i.value)));
  const plotH = H - B - T, bw = (W - L - 8) / Math.max(1, items.length);
  for (let k = 0; k <= 4; k++) {
    const y = T + plotH - (plotH * k) / 4;
    svg.append(s("line", { x1: L, x2: W, y1: y, y2: y, stroke: "#e5e7eb" }),
      s("text", { x: L - 6, y: y + 4, "text-anchor": "end" }, number((max * k) / 4)));
  }
  items.forEach((item, i) => {
    const bh = (plotH * item.value) / max, x = L + i * bw + bw * 0.15;
    svg.append(s("rect", { x, y: T + plotH - bh, width: bw * 0.7, height: Math.max(0, bh),
      fill: COLORS[i % COLORS.length], rx: 2 }, s("title", {}, `${item.label}: ${number(item.value)}${unit}`)));
    svg.append(s("text", { x: x + bw * 0.35, y: H - B + 14, "text-anchor": "middle" },
      String(item.label).slice(0, 14)));
  });
  return svg;
}

/** A line over [{label, value}] (e.g. calls per day). */
export function lineChart(title, points) {
  const W = 560, H = 220, L = 44, B = 40, T = 12;
  const svg = frame(title, W, H);
  const max = niceMax(Math.max(0, ...points.map((p) => p.value)));
  const plotH = H - B - T, plotW = W - L - 12;
  const x = (i) => L + (points.length <= 1 ? plotW / 2 : (plotW * i) / (points.length - 1));
  const y = (v) => T + plotH - (plotH * v) / max;
  for (let k = 0; k <= 4; k++) {
    svg.append(s("line", { x1: L, x2: W, y1: y((max * k) / 4), y2: y((max * k) / 4), stroke: "#e5e7eb" }),
      s("text", { x: L - 6, y: y((max * k) / 4) + 4, "text-anchor": "end" }, number((max * k) / 4)));
  }
  svg.append(s("polyline", { fill: "none", stroke: COLORS[0], "stroke-width": 2,
    points: points.map((p, i) => `${x(i)},${y(p.value)}`).join(" ") }));
  const every = Math.max(1, Math.ceil(points.length / 8));
  points.forEach((p, i) => {
    svg.append(s("circle", { cx: x(i), cy: y(p.value), r: 3, fill: COLORS[0] },
      s("title", {}, `${p.label}: ${number(p.value)}`)));
    if (i % every === 0) svg.append(s("text", { x: x(i), y: H - B + 14, "text-anchor": "middle" }, String(p.label).slice(5)));
  });
  return svg;
}

/** Per-turn latency: one stacked bar per agent turn, segments in order of the pipeline. */
export function latencyChart(turns) {
  const stages = [
    ["transcript_ms", "Transcript"],
    ["first_token_ms", "First LLM token"],
    ["first_tts_audio_ms", "First TTS audio"],
    ["first_audio_out_ms", "First audio out"],
  ];
  const W = 560, rowH = 26, L = 60, T = 8;
  const H = T + turns.length * rowH + 28;
  const svg = frame(`Latency of ${turns.length} agent turns, in milliseconds after the caller stopped`, W, H);
  const max = niceMax(Math.max(1, ...turns.flatMap((t) => stages.map(([k]) => Number(t[k]) || 0))));
  const px = (ms) => ((W - L - 10) * ms) / max;
  turns.forEach((turn, i) => {
    const y = T + i * rowH;
    svg.append(s("text", { x: L - 6, y: y + 15, "text-anchor": "end" }, `Turn ${i + 1}`));
    let prev = 0;
    stages.forEach(([key, name], j) => {
      const v = turn[key];
      if (v === null || v === undefined) return;
      const ms = Math.max(prev, Number(v));
      svg.append(s("rect", { x: L + px(prev), y, width: Math.max(1, px(ms - prev)), height: rowH - 8,
        fill: COLORS[j] }, s("title", {}, `Turn ${i + 1} · ${name}: ${Math.round(Number(v))} ms`)));
      prev = ms;
    });
    svg.append(s("text", { x: L + px(prev) + 4, y: y + 15 }, `${Math.round(prev)} ms`));
  });
  svg.append(s("text", { x: L, y: H - 6 }, "0"), s("text", { x: W - 10, y: H - 6, "text-anchor": "end" }, `${number(max)} ms`));
  const legend = h("div", { class: "legend" },
    stages.map(([, name], j) => h("span", { style: { "--c": COLORS[j] } }, name)));
  return h("div", {}, svg, legend);
}
