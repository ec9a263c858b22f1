// The agentdur console: a single page over the admin API of `agentdur serve` (same origin).
// No build step and no dependency: views are rebuilt from JSON with the DOM helper `h`, which sets
// text content only (journal values are user data and never parsed as HTML).

const TOKEN_KEY = "agentdur-token";
const REFRESH_MS = 2000;
const PAGE_SIZE = 25;
const STATUSES = ["scheduled", "pending", "ready", "running", "suspended", "backing-off", "paused", "completed"];
const OUTCOMES = ["succeeded", "failed", "cancelled", "killed"];
const USAGE_GROUPS = ["service", "key", "model", "invocation"];

// ------------------------------------------------------------------ DOM and formatting helpers

function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "style") node.style.cssText = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 1) return `${(seconds * 1000).toFixed(seconds < 0.01 ? 2 : 0)} ms`;
  if (seconds < 60) return `${seconds.toFixed(2)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return date.toLocaleString(undefined, { hour12: false });
}

function epoch(iso) {
  return iso ? new Date(iso).getTime() / 1000 : null;
}

function json(value) {
  return JSON.stringify(value, null, 2);
}

function money(value) {
  return value === null || value === undefined ? "—" : `$${Number(value).toFixed(value < 0.01 ? 6 : 4)}`;
}

function statusBadge(info) {
  const label = info.outcome || info.status;
  return h("span", { class: `status status-${label}`, "data-status": label }, label);
}

// ------------------------------------------------------------------ the admin API with the token

class Unauthorized extends Error {}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, options = {}) {
  const headers = { accept: "application/json", ...(options.headers || {}) };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) throw new Unauthorized("the server wants a token");
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { message: text };
  }
  if (!response.ok) throw new ApiError(response.status, (body && body.message) || response.statusText);
  return body;
}

function post(path, value) {
  return api(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(value),
  });
}

let loginWaiters = [];

function askForToken(message) {
  const dialog = document.getElementById("login");
  const error = document.getElementById("login-error");
  error.hidden = !message;
  error.textContent = message || "";
  if (!dialog.open) dialog.showModal();
  document.getElementById("login-token").focus();
  return new Promise((resolve) => loginWaiters.push(resolve));
}

function setUpLogin() {
  const form = document.getElementById("login-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const field = document.getElementById("login-token");
    sessionStorage.setItem(TOKEN_KEY, field.value);
    field.value = "";
    document.getElementById("login").close();
    document.getElementById("logout").hidden = false;
    const waiters = loginWaiters;
    loginWaiters = [];
    waiters.forEach((resolve) => resolve());
  });
  document.getElementById("login").addEventListener("cancel", (event) => event.preventDefault());
  const logout = document.getElementById("logout");
  logout.hidden = !sessionStorage.getItem(TOKEN_KEY);
  logout.addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    logout.hidden = true;
    render();
  });
}

// ------------------------------------------------------------------ routing and refresh

const routes = [
  [/^#?\/?$/, invocationsView, "invocations"],
  [/^#\/invocations\/([^/?]+)$/, invocationView, "invocations"],
  [/^#\/approvals$/, approvalsView, "approvals"],
  [/^#\/state(?:\/([^/]+)(?:\/(.+))?)?$/, stateView, "state"],
  [/^#\/usage$/, usageView, "usage"],
];

let generation = 0;
let refreshTimer = null;
let listQuery = { offset: 0 };

function routeOf(hash) {
  const [path, search] = hash.split("?");
  for (const [pattern, view, nav] of routes) {
    const match = path.match(pattern);
    if (match) return { view, nav, args: match.slice(1).map((part) => part && decodeURIComponent(part)), search };
  }
  return { view: notFoundView, nav: "", args: [], search };
}

async function render(quiet = false) {
  const mine = ++generation;
  clearTimeout(refreshTimer);
  const route = routeOf(location.hash || "#/");
  document.querySelectorAll("[data-nav]").forEach((link) => {
    link.classList.toggle("active", link.dataset.nav === route.nav);
  });
  const target = document.getElementById("view");
  let content;
  try {
    content = await route.view(...route.args);
  } catch (error) {
    if (error instanceof Unauthorized) {
      const hadToken = Boolean(sessionStorage.getItem(TOKEN_KEY));
      sessionStorage.removeItem(TOKEN_KEY);
      if (mine !== generation) return;
      target.replaceChildren(h("p", { class: "error", id: "refused" }, "Sign in to see this server's data."));
      await askForToken(hadToken ? "That token was refused." : "");
      return render();
    }
    content = h("p", { class: "error" }, `${error.message}`);
  }
  if (mine !== generation) return; // a newer render started while this one waited
  if (!quiet || !target.contains(document.activeElement) || document.activeElement === document.body) {
    const open = new Set([...target.querySelectorAll("details[data-index][open]")].map((node) => node.dataset.index));
    content.querySelectorAll("details[data-index]").forEach((node) => { if (open.has(node.dataset.index)) node.open = true; });
    target.replaceChildren(content);
  }
  updateApprovalCount();
  if (document.getElementById("live").checked && content.dataset.live !== "off") {
    refreshTimer = setTimeout(() => render(true), REFRESH_MS);
  }
}

async function updateApprovalCount() {
  const badge = document.getElementById("approval-count");
  try {
    const { awakeables } = await api("/awakeables");
    badge.hidden = awakeables.length === 0;
    badge.textContent = String(awakeables.length);
  } catch {
    badge.hidden = true;
  }
}

function notFoundView() {
  return h("p", { class: "error" }, "No such page.");
}

// ------------------------------------------------------------------ invocations list

async function invocationsView() {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(listQuery.offset || 0) });
  for (const name of ["service", "status", "key", "since", "until"]) {
    if (listQuery[name]) params.set(name, name === "since" || name === "until" ? toIso(listQuery[name]) : listQuery[name]);
  }
  const [{ services }, page] = await Promise.all([api("/services"), api(`/invocations?${params}`)]);
  return h("section", { id: "invocations" },
    h("h1", {}, "Invocations"),
    filterForm(services),
    page.invocations.length === 0
      ? h("p", { class: "muted", id: "no-invocations" }, "No invocations match.")
      : invocationTable(page.invocations),
    pager(page),
  );
}

function toIso(local) {
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? local : date.toISOString();
}

function filterForm(services) {
  const select = (name, options, label) =>
    h("label", {}, label,
      h("select", { name },
        h("option", { value: "" }, "any"),
        options.map((value) => h("option", { value, selected: listQuery[name] === value }, value))));
  const form = h("form", { class: "filters", id: "filters" },
    select("service", services.map((s) => s.name), "Service"),
    select("status", [...OUTCOMES, ...STATUSES], "Status"),
    h("label", {}, "Key", h("input", { name: "key", value: listQuery.key || "", placeholder: "object key" })),
    h("label", {}, "Since", h("input", { name: "since", type: "datetime-local", step: "1", value: listQuery.since || "" })),
    h("label", {}, "Until", h("input", { name: "until", type: "datetime-local", step: "1", value: listQuery.until || "" })),
    h("button", { type: "submit" }, "Filter"),
    h("button", { type: "reset", onclick: () => { listQuery = { offset: 0 }; setTimeout(render); } }, "Clear"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    listQuery = { offset: 0 };
    for (const [name, value] of data.entries()) if (value) listQuery[name] = String(value);
    render();
  });
  return form;
}

function invocationTable(invocations) {
  return h("table", { class: "list", id: "invocation-list" },
    h("thead", {}, h("tr", {},
      ["Invocation", "Target", "Status", "Attempts", "Created", "Duration"].map((title) => h("th", {}, title)))),
    h("tbody", {}, invocations.map((info) => {
      const end = info.completed_at ? epoch(info.completed_at) : null;
      return h("tr", { "data-id": info.id },
        h("td", {}, h("a", { href: `#/invocations/${encodeURIComponent(info.id)}`, class: "mono" }, info.id)),
        h("td", {}, `${info.service}${info.key !== null ? `/${info.key}` : ""}/${info.handler}`),
        h("td", {}, statusBadge(info)),
        h("td", { class: "num" }, info.attempts),
        h("td", {}, when(info.created_at)),
        h("td", { class: "num" }, end ? duration(end - epoch(info.created_at)) : "…"),
      );
    })));
}

function pager(page) {
  const offset = listQuery.offset || 0;
  const go = (to) => () => { listQuery.offset = to; render(); };
  return h("nav", { class: "pager" },
    h("button", { type: "button", id: "prev-page", disabled: offset === 0, onclick: go(Math.max(0, offset - PAGE_SIZE)) }, "← Newer"),
    h("span", { class: "muted" }, `${offset + 1}–${offset + page.invocations.length}`),
    h("button", { type: "button", id: "next-page", disabled: page.next_offset === null, onclick: go(page.next_offset) }, "Older →"),
  );
}

// ------------------------------------------------------------------ one invocation

async function usageOf(group, id) {
  try {
    const usage = await api(`/usage?by=${group}`);
    return usage.rows.find((row) => row.group === id) || null;
  } catch (error) {
    if (error instanceof ApiError) return null; // no ledger on this server (404) or none recorded
    throw error;
  }
}

async function invocationView(id) {
  const [info, usage] = await Promise.all([api(`/invocations/${encodeURIComponent(id)}`), usageOf("invocation", id)]);
  const section = h("section", { id: "invocation", "data-id": info.id },
    h("p", {}, h("a", { href: "#/" }, "← Invocations")),
    h("h1", {}, `${info.service}${info.key !== null ? `/${info.key}` : ""}/${info.handler} `, statusBadge(info)),
    summary(info, usage),
    h("h2", {}, "Timeline"),
    timeline(info),
    info.error ? h("details", { open: true, class: "traceback" },
      h("summary", {}, `Error: ${info.error.type}: ${info.error.message}`),
      h("pre", { id: "traceback" }, info.error.traceback || "")) : null,
  );
  if (info.status === "completed") section.dataset.live = "off";
  return section;
}

function summary(info, usage) {
  const rows = [
    ["Id", h("span", { class: "mono" }, info.id)],
    ["Status", `${info.status}${info.outcome ? ` (${info.outcome})` : ""}`],
    ["Attempts", info.attempts],
    ["Created", when(info.created_at)],
    ["Completed", when(info.completed_at) || "—"],
    ["Duration", info.completed_at ? duration(epoch(info.completed_at) - epoch(info.created_at)) : "running"],
    ["Input", h("pre", {}, json(info.input))],
  ];
  if (info.status === "completed" && !info.failure) rows.push(["Result", h("pre", { id: "result" }, json(info.result))]);
  if (info.failure) rows.push(["Failure", h("pre", { class: "error", id: "failure" }, `${info.failure.code}: ${info.failure.message}`)]);
  if (info.last_error && info.status !== "completed") rows.push(["Last error", h("pre", { class: "error" }, info.last_error)]);
  if (usage) {
    rows.push(["Tokens", `${usage.input_tokens} in, ${usage.output_tokens} out, ${usage.cached_tokens} cached (${usage.model_calls} model calls)`]);
    rows.push(["Cost", `${money(usage.cost_usd)} spent, ${money(usage.saved_cost_usd)} saved by replay`]);
  }
  return h("dl", { class: "summary" }, rows.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

function timeline(info) {
  const now = Date.now() / 1000;
  const start = epoch(info.created_at);
  const entries = info.journal;
  const ends = entries.map((entry) => (entry.completed_at ? epoch(entry.completed_at) : now));
  const end = Math.max(info.completed_at ? epoch(info.completed_at) : now, ...ends, start + 0.001);
  const span = end - start;
  const position = (from, to) => {
    const left = ((from - start) / span) * 100;
    const width = Math.max(((to - from) / span) * 100, 0.4);
    return `left:${left.toFixed(3)}%;width:${Math.min(width, 100 - left).toFixed(3)}%`;
  };
  if (entries.length === 0) return h("p", { class: "muted", id: "timeline" }, "No journal entries yet.");
  return h("div", { class: "timeline", id: "timeline" },
    h("div", { class: "axis" }, h("span", {}, "0"), h("span", {}, duration(span))),
    entries.map((entry) => {
      const from = epoch(entry.started_at);
      const to = entry.completed_at ? epoch(entry.completed_at) : now;
      // The step's bar spans all its attempts; the failed ones are drawn over its start.
      const bars = [
        h("div", { class: `bar kind-${entry.kind} entry-${entry.status}`, style: position(from, to), title: `${entry.kind} ${entry.name}` }),
        ...(entry.failed_attempts || []).map((attempt, i) => h("div", {
          class: "bar attempt-failed",
          style: position(epoch(attempt.started_at), epoch(attempt.completed_at)),
          title: `attempt ${i + 1} failed after ${duration(attempt.duration)}: ${attempt.error}`,
        })),
      ];
      return h("details", { class: "step", "data-index": entry.index, "data-kind": entry.kind, "data-status": entry.status },
        h("summary", {},
          h("span", { class: "label" },
            h("span", { class: "index" }, `#${entry.index}`),
            h("span", { class: "kind" }, entry.kind),
            h("span", { class: "name" }, entry.name),
            entry.attempts > 1 ? h("span", { class: "attempts" }, `${entry.attempts} attempts`) : null),
          h("span", { class: "track" }, bars),
          h("span", { class: "duration num" }, entry.duration !== null ? duration(entry.duration) : entry.status)),
        stepDetails(entry));
    }));
}

function stepDetails(entry) {
  const parts = [
    h("p", { class: "muted" },
      `${entry.status}; started ${when(entry.started_at)}`,
      entry.completed_at ? `, finished ${when(entry.completed_at)}` : "",
      entry.task ? `; task ${entry.task}` : "",
      entry.target ? `; target ${entry.target}` : ""),
  ];
  const call = entry.model_call;
  if (call) {
    parts.push(h("div", { class: "model-call" },
      h("p", {},
        h("strong", {}, call.model || "model"),
        ` — ${call.input_tokens ?? "?"} input, ${call.output_tokens ?? "?"} output`,
        call.cached_tokens ? `, ${call.cached_tokens} cached` : "",
        " tokens",
        call.cost_usd !== undefined ? `, ${money(call.cost_usd)}` : ""),
      call.tool_calls.length ? h("p", {}, "Tool calls: ", h("code", {}, call.tool_calls.join(", "))) : null,
      call.text ? h("pre", { class: "response" }, call.text) : null));
  }
  (entry.failed_attempts || []).forEach((attempt, i) => {
    parts.push(h("p", { class: "error" }, `Attempt ${i + 1} failed after ${duration(attempt.duration)}: ${attempt.error}`));
  });
  if (entry.failure) parts.push(h("pre", { class: "error" }, `${entry.failure.code}: ${entry.failure.message}`));
  if (entry.value !== null && entry.value !== undefined) {
    parts.push(h("details", { open: !call }, h("summary", {}, call ? "Response JSON" : "Value"), h("pre", {}, json(entry.value))));
  }
  return h("div", { class: "details" }, parts);
}

// ------------------------------------------------------------------ approvals inbox

async function approvalsView() {
  const { awakeables } = await api("/awakeables");
  const section = h("section", { id: "approvals" }, h("h1", {}, "Approvals"));
  if (awakeables.length === 0) section.append(h("p", { class: "muted", id: "no-approvals" }, "Nothing waits for a decision."));
  for (const item of awakeables) section.append(approvalCard(item));
  if (awakeables.length) section.dataset.live = "off"; // a refresh would wipe a half-filled form
  return section;
}

function resolveRef(schema, root) {
  let node = schema || {};
  for (let i = 0; i < 8 && node.$ref; i++) {
    const name = node.$ref.split("/").pop();
    node = ((root && root.$defs) || {})[name] || {};
  }
  if (node.anyOf) {
    const options = node.anyOf.filter((option) => option.type !== "null");
    if (options.length === 1) return { ...resolveRef(options[0], root), nullable: true };
  }
  return node;
}

function fieldInput(name, schema, example) {
  const id = `field-${name}`;
  if (schema.enum) {
    return h("select", { name, id }, schema.enum.map((value) => h("option", { value: JSON.stringify(value), selected: value === example }, String(value))));
  }
  switch (schema.type) {
    case "boolean":
      return h("input", { type: "checkbox", name, id, checked: example === true });
    case "integer":
    case "number":
      return h("input", { type: "number", name, id, step: schema.type === "integer" ? "1" : "any", value: example ?? "" });
    case "string":
      return h("input", { type: "text", name, id, value: schema.nullable ? "" : example ?? "" });
    default:
      return h("textarea", { name, id, "data-json": "1", rows: "2" }, example === undefined ? "" : JSON.stringify(example));
  }
}

function readField(input, schema) {
  if (input.type === "checkbox") return input.checked;
  if (input.tagName === "SELECT") return JSON.parse(input.value);
  const text = input.value.trim();
  if (input.dataset.json) return text ? JSON.parse(text) : null;
  if (text === "" && (schema.nullable || schema.default === null)) return null;
  if (input.type === "number") return text === "" ? null : Number(text);
  return input.value;
}

// The checks a person should see before sending; the server checks the full schema again.
function checkValue(value, schema, root) {
  const node = resolveRef(schema, root);
  if (node.type !== "object" || typeof value !== "object" || value === null) return null;
  for (const name of node.required || []) {
    if (value[name] === null || value[name] === undefined || value[name] === "") return `${name}: a value is required`;
  }
  for (const [name, prop] of Object.entries(node.properties || {})) {
    const field = resolveRef(prop, root);
    const given = value[name];
    if (given === null || given === undefined) continue;
    if (field.type === "integer" && !Number.isInteger(given)) return `${name}: must be a whole number`;
    if (field.type === "number" && typeof given !== "number") return `${name}: must be a number`;
  }
  return null;
}

function approvalCard(item) {
  const root = item.value_schema;
  const schema = resolveRef(root, root);
  const example = item.example && typeof item.example === "object" ? item.example : {};
  const isObject = schema.type === "object" && schema.properties;
  const hasApproved = isObject && resolveRef(schema.properties.approved, root).type === "boolean";
  const message = h("p", { class: "error result", hidden: true });
  const fields = isObject
    ? Object.entries(schema.properties).filter(([name]) => !(hasApproved && name === "approved")).map(([name, prop]) => {
        const field = resolveRef(prop, root);
        return h("label", { class: "field" }, prop.title || field.title || name, fieldInput(name, field, example[name]));
      })
    : [h("label", { class: "field" }, "Value (JSON)",
        h("textarea", { name: "value", "data-json": "1", rows: "3" }, item.example === undefined || item.example === null ? "" : JSON.stringify(item.example)))];
  const form = h("form", { class: "approval-form" }, fields);

  const valueOf = (approved) => {
    if (!isObject) return readField(form.elements.value, {});
    const value = {};
    for (const [name, prop] of Object.entries(schema.properties)) {
      if (hasApproved && name === "approved") continue;
      value[name] = readField(form.elements[name], resolveRef(prop, root));
    }
    if (hasApproved) value.approved = approved;
    for (const [name, given] of Object.entries(value)) {
      if (given === null && !(schema.required || []).includes(name)) delete value[name];
    }
    return value;
  };
  const send = async (action) => {
    message.hidden = true;
    try {
      if (action === "reject-error") {
        const reason = window.prompt("Reason for rejecting", "rejected");
        if (reason === null) return;
        await post(`/awakeables/${encodeURIComponent(item.id)}/reject`, { reason });
      } else {
        const value = valueOf(action === "approve");
        const problem = checkValue(value, root, root);
        if (problem) throw new ApiError(400, problem);
        await post(`/awakeables/${encodeURIComponent(item.id)}/resolve`, value);
      }
      card.classList.add("decided");
      card.replaceChildren(h("p", { class: "ok" }, `Sent: ${action === "reject-error" ? "rejected" : "decision recorded"}.`));
      setTimeout(render, 300);
    } catch (error) {
      if (error instanceof Unauthorized) return render();
      message.hidden = false;
      message.textContent = error instanceof SyntaxError ? `invalid JSON: ${error.message}` : error.message;
    }
  };
  const buttons = hasApproved
    ? [h("button", { type: "button", class: "approve", onclick: () => send("approve") }, "Approve"),
       h("button", { type: "button", class: "reject", onclick: () => send("decline") }, "Reject")]
    : [h("button", { type: "button", class: "approve", onclick: () => send("approve") }, "Resolve")];
  buttons.push(h("button", { type: "button", class: "secondary", onclick: () => send("reject-error") }, "Fail with error…"));
  const card = h("article", { class: "approval", "data-id": item.id, "data-invocation": item.invocation_id },
    h("h2", {}, item.description || "(no description)"),
    h("p", { class: "muted" },
      `${item.service}${item.key !== null ? `/${item.key}` : ""}/${item.handler} · waiting since ${when(item.created_at)} · `,
      h("a", { href: `#/invocations/${encodeURIComponent(item.invocation_id)}` }, "invocation")),
    form,
    h("div", { class: "buttons" }, buttons),
    message,
    root ? h("details", {}, h("summary", {}, "Schema"), h("pre", {}, json(root))) : null);
  return card;
}

// ------------------------------------------------------------------ object state

async function stateView(service, key) {
  const { services } = await api("/services");
  // workflows keep state per key too: their run handler writes it
  const objects = services.filter((s) => s.ty === "VirtualObject" || s.ty === "Workflow").map((s) => s.name);
  const section = h("section", { id: "state" }, h("h1", {}, "Object state"));
  if (objects.length === 0) {
    section.append(h("p", { class: "muted" }, "This app has no virtual objects."));
    return section;
  }
  const chosen = service && objects.includes(service) ? service : objects[0];
  const { keys } = await api(`/state/${encodeURIComponent(chosen)}`);
  const form = h("form", { class: "filters", id: "state-form" },
    h("label", {}, "Object", h("select", { name: "service" }, objects.map((name) => h("option", { value: name, selected: name === chosen }, name)))),
    h("label", {}, "Key", h("input", { name: "key", value: key || "", list: "known-keys", placeholder: "object key" })),
    h("datalist", { id: "known-keys" }, keys.map((k) => h("option", { value: k }))),
    h("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    location.hash = `#/state/${encodeURIComponent(data.get("service"))}/${encodeURIComponent(data.get("key") || "")}`;
  });
  section.append(form);
  if (key) {
    const { state } = await api(`/state/${encodeURIComponent(chosen)}/${encodeURIComponent(key)}`);
    const names = Object.keys(state);
    section.append(names.length === 0
      ? h("p", { class: "muted", id: "no-state" }, `${chosen}/${key} has no state.`)
      : h("table", { class: "list", id: "state-table" },
          h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Value"))),
          h("tbody", {}, names.map((name) => h("tr", {}, h("td", { class: "mono" }, name), h("td", {}, h("pre", {}, json(state[name]))))))));
  } else {
    section.append(h("p", { class: "muted" }, `${keys.length} known key(s): `,
      keys.slice(0, 50).map((k, i) => [i ? ", " : "", h("a", { href: `#/state/${encodeURIComponent(chosen)}/${encodeURIComponent(k)}` }, k)])));
  }
  return section;
}

// ------------------------------------------------------------------ usage

let usageQuery = { by: "service", since: "" };

async function usageView() {
  const section = h("section", { id: "usage" }, h("h1", {}, "Usage"));
  const form = h("form", { class: "filters" },
    h("label", {}, "Group by", h("select", { name: "by" }, USAGE_GROUPS.map((g) => h("option", { value: g, selected: g === usageQuery.by }, g)))),
    h("label", {}, "Since", h("input", { name: "since", type: "datetime-local", step: "1", value: usageQuery.since })),
    h("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    usageQuery = { by: String(data.get("by")), since: String(data.get("since") || "") };
    render();
  });
  section.append(form);
  const params = new URLSearchParams({ by: usageQuery.by });
  if (usageQuery.since) params.set("since", toIso(usageQuery.since));
  let usage;
  try {
    usage = await api(`/usage?${params}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      section.append(h("p", { class: "muted", id: "no-usage" }, "No usage recorded: this server keeps no token and cost ledger."));
      return section;
    }
    throw error;
  }
  if (!usage.rows.length) {
    section.append(h("p", { class: "muted", id: "no-usage" }, "No usage recorded yet."));
    return section;
  }
  const columns = [
    ["invocations", "Invocations"], ["model_calls", "Model calls"], ["input_tokens", "Input tokens"],
    ["output_tokens", "Output tokens"], ["cached_tokens", "Cached"], ["cost_usd", "Cost"],
    ["saved_model_calls", "Calls saved"], ["saved_cost_usd", "Saved by replay"],
  ];
  const cell = (row, name) => h("td", { class: "num" }, name.endsWith("usd") ? money(row[name]) : row[name]);
  section.append(h("table", { class: "list", id: "usage-table" },
    h("thead", {}, h("tr", {}, h("th", {}, usageQuery.by), columns.map(([, title]) => h("th", {}, title)))),
    h("tbody", {}, usage.rows.map((row) => h("tr", {},
      h("td", { class: "mono" }, usageQuery.by === "invocation"
        ? h("a", { href: `#/invocations/${encodeURIComponent(row.group)}` }, row.group) : row.group),
      columns.map(([name]) => cell(row, name))))),
    h("tfoot", {}, h("tr", {}, h("th", {}, "Total"), columns.map(([name]) => cell(usage.total, name))))));
  return section;
}

// ------------------------------------------------------------------ start

setUpLogin();
document.getElementById("live").addEventListener("change", () => render());
window.addEventListener("hashchange", () => render());
render();
