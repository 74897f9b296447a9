/**
 * Drawing a stored metrics document (`{labels, series: [{name, key, data}], totals, currency}`).
 *
 * bar, line and area are one dataset per series over the labels; pie is each group's total
 * when the query was grouped (`group_by`), else the periods' slices of its one series; table lists the document's
 * values as the API wrote them (exact decimal strings, never re-rounded). Chart.js is exposed as
 * `window.Chart` so a drawn chart's data can be read back (`Chart.getChart(canvas).data`).
 */

import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PieController,
  PointElement,
  Tooltip,
} from "chart.js";
import { h } from "./dom.js";

Chart.register(
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PieController,
  PointElement,
  Tooltip,
);
window.Chart = Chart;

/** A colour-blind-safe palette (Okabe-Ito), cycled over series. */
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"];

/** A document value as a number for drawing (null stays a gap). */
const number = (value) => (value === null || value === undefined ? null : Number(value));

/** The Chart.js configuration for a document drawn as `type`. */
export function chartConfig(type, document) {
  const options = {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    plugins: { legend: { position: "bottom" } },
  };
  if (type === "pie") {
    const grouped = Boolean(document.query?.group_by) || document.series.length > 1;
    const labels = grouped ? document.series.map((series) => series.name) : document.labels;
    const data = grouped
      ? document.series.map((series) => number(document.totals?.[series.name]))
      : (document.series[0]?.data || []).map(number);
    return {
      type: "pie",
      data: {
        labels,
        datasets: [{ label: document.series[0]?.name || "", data, backgroundColor: labels.map((_, i) => PALETTE[i % PALETTE.length]) }],
      },
      options,
    };
  }
  const datasets = document.series.map((series, i) => ({
    label: series.name,
    data: series.data.map(number),
    borderColor: PALETTE[i % PALETTE.length],
    backgroundColor: type === "area" ? `${PALETTE[i % PALETTE.length]}55` : PALETTE[i % PALETTE.length],
    fill: type === "area",
    tension: 0,
  }));
  return {
    type: type === "bar" ? "bar" : "line",
    data: { labels: document.labels, datasets },
    options: { ...options, scales: { y: { beginAtZero: true } } },
  };
}

/** The document as an accessible table (also what a `table` chart is). */
export function documentTable(document, caption) {
  const currency = document.currency ? ` (${document.currency})` : "";
  const head = h("tr", {}, h("th", { scope: "col", text: "Period" }), document.series.map((series) => h("th", { scope: "col", text: series.name + currency })));
  const rows = document.labels.map((label, row) =>
    h("tr", {}, h("th", { scope: "row", text: label }), document.series.map((series) => h("td", { text: series.data[row] ?? "—" }))),
  );
  const totals = document.series.map((series) => document.totals?.[series.name] ?? "—");
  return h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      { class: "chart-table" },
      caption ? h("caption", { class: "visually-hidden", text: caption }) : null,
      h("thead", {}, head),
      h("tbody", {}, rows),
      h("tfoot", {}, h("tr", {}, h("th", { scope: "row", text: "Total" }), totals.map((total) => h("td", { text: total })))),
    ),
  );
}

/**
 * Draw `document` as `type` into `container` (emptied first); returns the Chart (null for a
 * table). The canvas gets a text alternative naming the chart.
 */
export function draw(container, type, document, title) {
  const previous = container.querySelector("canvas");
  if (previous) Chart.getChart(previous)?.destroy();
  container.replaceChildren();
  if (type === "table") {
    container.append(documentTable(document, title));
    return null;
  }
  const canvas = h("canvas", { role: "img", "aria-label": `${title}: ${type} chart` });
  container.append(h("div", { class: "canvas-box" }, canvas));
  return new Chart(canvas, chartConfig(type, document));
}
