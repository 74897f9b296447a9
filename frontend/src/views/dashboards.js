/**
 * Dashboards: the list (and a form to create one), and a dashboard with every stored chart
 * drawn, its stale flag and refresh buttons, the form that builds a chart's metrics query, and
 * the sharing form. Everything goes through `dashboards/` and `insights/sources/`.
 */

import { ApiError, del, get, post, put } from "../api.js";
import { draw } from "../charts.js";
import { field, h, replace, select, when } from "../dom.js";
import { clearErrors, onSubmit, showErrors } from "../forms.js";
import { session } from "../session.js";

const CHART_TYPES = [
  ["bar", "Bar"],
  ["line", "Line"],
  ["area", "Area"],
  ["pie", "Pie"],
  ["table", "Table"],
];

/** A message in place of a view that could not load. */
function failure(main, error) {
  replace(main, h("p", { class: "form-error", role: "alert", text: error instanceof ApiError ? error.message : "The server could not be reached." }));
}

/** The list of dashboards and the form creating one. */
export async function renderDashboards(main) {
  replace(main, h("h1", { text: "Dashboards" }), h("p", { text: "Loading…" }));
  let page;
  try {
    page = await get("dashboards/", { page_size: 100 });
  } catch (error) {
    failure(main, error);
    return;
  }
  const list = h(
    "ul",
    { id: "dashboard-list", class: "cards" },
    page.results.map((dashboard) =>
      h("li", {}, h("a", { href: `#/dashboards/${dashboard.id}`, text: dashboard.title }), h("span", { class: "muted", text: ` ${dashboard.visibility}` })),
    ),
  );
  const title = h("input", { id: "dashboard-title-input", name: "title", required: true });
  const form = h(
    "form",
    { id: "dashboard-form", class: "card", novalidate: true },
    h("h2", { text: "New dashboard" }),
    h("p", { id: "dashboard-error", class: "form-error", role: "alert", hidden: true }),
    field("Title", title),
    h("button", { type: "submit", text: "Create dashboard" }),
  );
  onSubmit(
    form,
    "dashboard",
    async () => {
      const dashboard = await post("dashboards/", { title: title.value });
      location.hash = `#/dashboards/${dashboard.id}`;
    },
    { title: "title-input" },
  );
  replace(main, h("h1", { text: "Dashboards" }), page.results.length ? list : h("p", { text: "No dashboard yet." }), form);
}

/** One chart as a figure: caption, stale flag, refresh, the drawing. */
function chartFigure(dashboardId, chart) {
  const stale = h("span", { class: "chart-stale badge warn", text: "stale", title: "The data changed since this chart was computed", hidden: !chart.stale });
  const computed = h("span", { class: "muted small", text: `computed ${when(chart.computed_at)}` });
  const body = h("div", { class: "chart-body" });
  const refresh = h("button", { type: "button", class: "chart-refresh secondary", text: "Refresh", "aria-label": `Refresh ${chart.title}` });
  const remove = h("button", { type: "button", class: "chart-delete secondary", text: "Delete", "aria-label": `Delete ${chart.title}` });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const figure = h(
    "figure",
    { class: "chart card", dataset: { chartId: chart.id, chartType: chart.chart_type, state: "drawing" } },
    h("figcaption", {}, h("span", { class: "chart-title", text: chart.title }), stale, h("span", { class: "chart-tools" }, refresh, remove)),
    body,
    computed,
    error,
  );
  const show = (current) => {
    try {
      draw(body, current.chart_type, current.document, current.title);
      figure.dataset.state = "drawn";
    } catch (drawError) {
      figure.dataset.state = "error";
      error.textContent = `This chart could not be drawn: ${drawError.message}`;
      error.hidden = false;
    }
    stale.hidden = !current.stale;
    computed.textContent = `computed ${when(current.computed_at)}`;
  };
  refresh.addEventListener("click", async () => {
    refresh.disabled = true;
    error.hidden = true;
    try {
      show(await post(`dashboards/${dashboardId}/charts/${chart.id}/refresh/`));
    } catch (refreshError) {
      error.textContent = refreshError.message;
      error.hidden = false;
    } finally {
      refresh.disabled = false;
    }
  });
  remove.addEventListener("click", async () => {
    if (!confirm(`Delete the chart "${chart.title}"?`)) return;
    try {
      await del(`dashboards/${dashboardId}/charts/${chart.id}/`);
      figure.remove();
    } catch (deleteError) {
      error.textContent = deleteError.message;
      error.hidden = false;
    }
  });
  // Drawn once in the document, so Chart.js can measure its box.
  queueMicrotask(() => show(chart));
  return figure;
}

/** Today and a year back, as YYYY-MM-DD, the chart form's default period. */
function defaultPeriod() {
  const end = new Date();
  const start = new Date(end.getFullYear(), end.getMonth() - 11, 1);
  const iso = (date) => `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")}`;
  return [iso(start), iso(end)];
}

/** The form building a chart's metrics query from the catalogue of sources. */
function chartForm(dashboardId, catalogue, added) {
  const sources = catalogue.sources;
  const title = h("input", { id: "chart-title", name: "title", required: true, maxlength: "200" });
  const type = select("chart-type", CHART_TYPES, "bar");
  const source = select("chart-source", sources.map((item) => [item.name, item.name]));
  const measure = select("chart-measure", []);
  const [startDefault, endDefault] = defaultPeriod();
  const start = h("input", { id: "chart-start-date", name: "start_date", type: "date", value: startDefault });
  const end = h("input", { id: "chart-end-date", name: "end_date", type: "date", value: endDefault });
  const interval = select("chart-interval", catalogue.intervals.map((name) => [name, name]), catalogue.intervals.includes("month") ? "month" : undefined);
  const groupBy = select("chart-group-by", []);
  const refill = () => {
    const chosen = sources.find((item) => item.name === source.value);
    replace(measure, (chosen?.measures || []).map((name) => h("option", { value: name, text: name })));
    replace(groupBy, h("option", { value: "", text: "(none)" }), (chosen?.dimensions || []).map((name) => h("option", { value: name, text: name })));
  };
  source.addEventListener("change", refill);
  refill();
  const form = h(
    "form",
    { id: "chart-form", class: "card", novalidate: true },
    h("h2", { text: "Add a chart" }),
    h("p", { id: "chart-form-error", class: "form-error", role: "alert", hidden: true }),
    h("div", { class: "grid" }, field("Title", title), field("Chart type", type), field("Source", source), field("Measure", measure), field("From", start), field("To", end), field("Interval", interval), field("Group by", groupBy)),
    h("button", { type: "submit", text: "Add chart" }),
  );
  onSubmit(
    form,
    "chart",
    async () => {
      const query = { source: source.value, measure: measure.value, interval: interval.value };
      if (start.value) query.start_date = start.value;
      if (end.value) query.end_date = end.value;
      if (groupBy.value) query.group_by = groupBy.value;
      const chart = await post(`dashboards/${dashboardId}/charts/`, { title: title.value, chart_type: type.value, query });
      added(chart);
      title.value = "";
    },
    { query: "form" },
  );
  return form;
}

/** The sharing form: visibility, and the users and teams the dashboard is shared with. */
async function shareForm(dashboardId) {
  const [share, teams, members] = await Promise.all([
    get(`dashboards/${dashboardId}/share/`),
    get("teams/", { page_size: 100 }).catch(() => ({ results: [] })),
    get(`organizations/${session.organization.id}/members/`, { page_size: 100 }).catch(() => ({ results: [] })),
  ]);
  const names = new Map();
  for (const team of teams.results) names.set(`team:${team.id}`, `Team ${team.name}`);
  for (const member of members.results) names.set(`user:${member.user.id}`, member.user.email);
  let rows = share.shares.map((item) => ({ key: item.user ? `user:${item.user}` : `team:${item.team}`, role: item.role }));
  const visibility = select("share-visibility", [["private", "Private (shared only as listed)"], ["organization", "Everyone in the organization"]], share.visibility);
  const list = h("ul", { id: "share-list", class: "plain" });
  const whom = select("share-whom", [...names.entries()]);
  const role = select("share-role", [["viewer", "Viewer"], ["editor", "Editor"]]);
  const status = h("p", { id: "share-status", class: "muted", role: "status" });
  const paint = () => {
    replace(
      list,
      rows.map((row, index) =>
        h(
          "li",
          {},
          h("span", { text: `${names.get(row.key) || row.key} — ${row.role}` }),
          h("button", { type: "button", class: "secondary small", text: "Remove", "aria-label": `Stop sharing with ${names.get(row.key) || row.key}`, onclick: () => { rows.splice(index, 1); paint(); } }),
        ),
      ),
    );
  };
  paint();
  const add = h("button", { type: "button", class: "secondary", text: "Add" });
  add.addEventListener("click", () => {
    if (!whom.value) return;
    rows = rows.filter((row) => row.key !== whom.value);
    rows.push({ key: whom.value, role: role.value });
    paint();
  });
  const form = h(
    "form",
    { id: "share-form", class: "card", novalidate: true },
    h("h2", { text: "Sharing" }),
    h("p", { id: "share-form-error", class: "form-error", role: "alert", hidden: true }),
    field("Visibility", visibility),
    list,
    h("div", { class: "grid" }, field("Share with", whom), field("Role", role)),
    h("div", { class: "row" }, add, h("button", { type: "submit", text: "Save sharing" })),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    status.textContent = "";
    const shares = rows.map((row) => {
      const [kind, id] = row.key.split(":");
      return { [kind]: id, role: row.role };
    });
    try {
      await put(`dashboards/${dashboardId}/share/`, { shares, visibility: visibility.value });
      status.textContent = "Sharing saved.";
    } catch (error) {
      showErrors(form, "share", error);
    }
  });
  return form;
}

/** A dashboard: its charts drawn, the chart form and (for its owner and admins) sharing. */
export async function renderDashboard(main, id) {
  replace(main, h("p", { text: "Loading…" }));
  let dashboard;
  const catalogue = get("insights/sources/");
  catalogue.catch(() => {});
  try {
    dashboard = await get(`dashboards/${id}/`);
  } catch (error) {
    failure(main, error);
    return;
  }
  const charts = h("div", { id: "charts", class: "charts" });
  const add = (chart) => {
    charts.querySelector(".empty")?.remove();
    charts.append(chartFigure(id, chart));
  };
  const refreshError = h("p", { id: "dashboard-refresh-error", class: "form-error", role: "alert", hidden: true });
  const refreshAll = h("button", { type: "button", id: "dashboard-refresh", class: "secondary", text: "Refresh all" });
  refreshAll.addEventListener("click", async () => {
    refreshAll.disabled = true;
    refreshError.hidden = true;
    try {
      await post(`dashboards/${id}/refresh/`);
      const fresh = await get(`dashboards/${id}/charts/`);
      replace(charts);
      fresh.forEach(add);
    } catch (error) {
      refreshError.textContent = `Could not refresh: ${error.message}`;
      refreshError.hidden = false;
    } finally {
      refreshAll.disabled = false;
    }
  });
  replace(
    main,
    h("p", {}, h("a", { href: "#/dashboards", text: "← Dashboards" })),
    h("div", { class: "row spread" }, h("h1", { id: "dashboard-title", text: dashboard.title }), refreshAll),
    dashboard.description ? h("p", { text: dashboard.description }) : null,
    refreshError,
    charts,
  );
  [...dashboard.charts].sort((a, b) => a.position - b.position).forEach(add);
  if (!dashboard.charts.length) charts.append(h("p", { class: "muted empty", text: "No chart yet: add one below." }));
  try {
    main.append(chartForm(id, await catalogue, add));
  } catch (error) {
    main.append(h("p", { class: "form-error", role: "alert", text: `The chart form could not load its sources: ${error.message}` }));
  }
  if (dashboard.owner === session.user.id || session.permissions.role === "admin") {
    try {
      main.append(await shareForm(id));
    } catch {
      // Sharing is the owner's and admins'; a refusal leaves the form out.
    }
  }
}
