// The Liaison console: four views over the gateway's JSON API (Connect unary: POST JSON to
// /<package.Service>/<Method>). No second backend: what a view shows is what the API answers to
// the caller's identity. Record content is untrusted text: it is only ever set as textContent.
"use strict";

// -- the API ------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.code) || "unknown";
    this.details = (body && body.details) || [];
  }
}

async function call(method, request) {
  const url = new URL(`../${method}`, document.baseURI);
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request || {}),
      credentials: "same-origin",
    });
  } catch (error) {
    throw new ApiError(0, { code: "unavailable", message: "the gateway cannot be reached" });
  }
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : {}; } catch (error) { body = { message: text.slice(0, 200) }; }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

const EXPLAINED = {
  permission_denied: "Your identity may not do this",
  unauthenticated: "The gateway does not know who you are",
  unimplemented: "This gateway does not offer this",
  failed_precondition: "Not possible on this gateway now",
  not_found: "Not found (or not visible to you)",
  aborted: "Someone changed it in the meantime",
  invalid_argument: "The request was refused",
  unavailable: "The gateway is unavailable; try again",
  resource_exhausted: "Too many requests; try again shortly",
  deadline_exceeded: "The gateway took too long; try again",
};

function errorBox(error) {
  const box = h("div", { class: "error", role: "alert" });
  const code = error.code || "unknown";
  box.append(h("strong", {}, `${EXPLAINED[code] || "The call failed"} (${code.replace(/_/g, " ")})`));
  if (error.message) box.append(h("span", {}, error.message));
  for (const detail of error.details || []) {
    for (const violation of (detail.debug && detail.debug.fieldViolations) || []) {
      box.append(h("div", {}, `${violation.field}: ${violation.description}`));
    }
  }
  return box;
}

// -- DOM helpers ---------------------------------------------------------------------------

function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === false || value === null || value === undefined) continue;
    element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function table(caption, headers, rows) {
  return h("table", {},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, headers.map((name) => h("th", { scope: "col" }, name)))),
    h("tbody", {}, rows));
}

function when(timestamp) {
  if (!timestamp) return "";
  const date = new Date(timestamp);
  return Number.isNaN(date.getTime()) ? timestamp : date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function words(enumName, prefix) {
  if (!enumName) return "";
  return enumName.replace(prefix, "").toLowerCase().replace(/_/g, " ");
}

function say(id, text) { document.getElementById(id).textContent = text; }

function show(id, ...nodes) {
  const body = document.getElementById(id);
  body.replaceChildren(...nodes);
}

// -- screening hits ------------------------------------------------------------------------

const DECISIONS = [
  ["SCREENING_DECISION_KIND_MATCH", "Match"],
  ["SCREENING_DECISION_KIND_NO_MATCH", "No match"],
  ["SCREENING_DECISION_KIND_UNSURE", "Unsure"],
];
const BANDS = [["SCREENING_BAND_HIT", "Hit band"], ["SCREENING_BAND_REVIEW", "Review band"]];
const hitsState = { hits: [], cursor: "" };

function hitsRequest(cursor) {
  const form = document.getElementById("hits-filters");
  const request = { pageSize: 50 };
  if (form.band.value) request.bands = [form.band.value];
  if (form.decision.value) request.decisions = [form.decision.value];
  if (form.list.value.trim()) request.lists = [form.list.value.trim()];
  if (cursor) request.cursor = cursor;
  return request;
}

async function loadHits(more) {
  say("hits-status", "Loading hits…");
  try {
    const answer = await call("liaison.v1.Screening/ListHits", hitsRequest(more ? hitsState.cursor : ""));
    hitsState.hits = (more ? hitsState.hits : []).concat(answer.hits || []);
    hitsState.cursor = answer.nextCursor || "";
    document.getElementById("hits-more").hidden = !answer.hasMore;
    renderHits();
    say("hits-status", `${hitsState.hits.length} hit(s) shown${answer.hasMore ? ", more to load" : ""}.`);
  } catch (error) {
    say("hits-status", "");
    show("hits-body", errorBox(error));
  }
}

function renderHits() {
  const sections = [];
  for (const [band, title] of BANDS) {
    const inBand = hitsState.hits.filter((record) => (record.screeningHit || {}).band === band);
    const byList = new Map();
    for (const record of inBand) {
      const list = record.screeningHit.list || "(no list)";
      if (!byList.has(list)) byList.set(list, []);
      byList.get(list).push(record);
    }
    const section = h("section", { class: "band", "aria-label": title },
      h("h3", {}, `${title}: ${inBand.length}`));
    if (!inBand.length) section.append(h("p", { class: "muted" }, "None."));
    for (const [list, records] of byList) {
      section.append(h("h4", {}, `List ${list}: ${records.length}`));
      section.append(...records.map(hitCard));
    }
    sections.push(section);
  }
  show("hits-body", ...sections);
}

function hitCard(record) {
  const hit = record.screeningHit;
  const decision = hit.decision && hit.decision.kind;
  const id = record.recordId;
  const card = h("article", { class: "hit", "aria-label": `Hit ${id}`, "data-record-id": id });
  card.append(h("div", { class: "hit-summary" },
    h("span", { class: "score" }, `score ${Number(hit.score || 0).toFixed(2)}`),
    h("span", {}, "subject ", h("code", {}, hit.subjectRecordId || "")),
    h("span", {}, "entry ", h("code", {}, hit.entryRecordId || "(not visible to you)")),
    h("span", {}, `contact ${hit.entryCentre || "?"}`),
    h("span", { class: "muted" }, `screened ${when(hit.screenedAt)}`),
    decision
      ? h("span", { class: "badge good" }, `decided: ${words(decision, "SCREENING_DECISION_KIND_")}`)
      : h("span", { class: "badge warn" }, "undecided")));
  const evidence = hit.explanation || [];
  card.append(table(`Why it is a hit (${evidence.length} piece(s) of evidence)`,
    ["Feature", "Outcome", "Weight", "Detail"],
    evidence.map((line) => h("tr", {},
      h("td", {}, line.feature || ""), h("td", {}, line.outcome || ""),
      h("td", { class: "num" }, Number(line.weight || 0).toFixed(2)),
      h("td", {}, line.detail || "")))));
  if (decision) {
    card.append(h("p", {}, `Decided by ${hit.decision.analyst || "?"} at ${when(hit.decision.decidedAt)}`,
      hit.decision.note ? `: “${hit.decision.note}”` : ""));
  }
  card.append(decideForm(record));
  return card;
}

let formCount = 0;
function decideForm(record) {
  const n = ++formCount;
  const hit = record.screeningHit;
  const current = (hit.decision && hit.decision.kind) || "";
  const fieldset = h("fieldset", {}, h("legend", {}, current ? "Change the decision" : "Decision"));
  for (const [value, label] of DECISIONS) {
    const input = h("input", { type: "radio", name: "decision", value, id: `d${n}-${value}`, required: true, checked: value === current });
    fieldset.append(h("span", {}, input, " ", h("label", { for: `d${n}-${value}` }, label)));
  }
  const status = h("div", { class: "message", role: "status", "aria-live": "polite" });
  const form = h("form", { class: "decide" },
    fieldset,
    h("label", { class: "note", for: `n${n}` }, "Note"),
    h("textarea", { id: `n${n}`, name: "note", rows: 2, maxlength: 2000 }),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Record the decision")),
    status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    status.replaceChildren("Recording…");
    try {
      const answer = await call("liaison.v1.Screening/Decide", {
        hitRecordId: record.recordId,
        decision: form.decision.value,
        note: form.note.value,
        expectedVersion: record.version,
      });
      status.replaceChildren(`Recorded as version ${answer.ack.version} of ${record.recordId}.`);
      Object.assign(record, answer.hit);
    } catch (error) {
      status.replaceChildren(errorBox(error));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

// -- threads -------------------------------------------------------------------------------

async function loadThreads() {
  say("threads-status", "Loading threads…");
  const openOnly = document.getElementById("threads-open").checked;
  try {
    const answer = await call("liaison.v1.RecordExchange/ListThreads", { openOnly });
    const threads = answer.threads || [];
    const overdue = threads.filter((thread) => thread.overdue).length;
    say("threads-status", `${threads.length} thread(s), ${overdue} overdue.`);
    show("threads-body", table("Requests and replies, most recent request first",
      ["Thread", "From", "To", "State", "Urgency", "Reply due", "Sent", "Delivered", "Read", "Answered", "Replies"],
      threads.map((thread) => h("tr", { class: thread.overdue ? "overdue" : null },
        h("td", {}, h("code", {}, thread.threadId || ""), thread.overdue ? [" ", h("span", { class: "badge bad" }, "overdue")] : null),
        h("td", {}, thread.requestingCentre || ""),
        h("td", {}, thread.addressedCentre || ""),
        h("td", {}, words(thread.state, "THREAD_STATE_")),
        h("td", {}, words(thread.urgency, "URGENCY_")),
        h("td", {}, when(thread.replyDeadline)),
        h("td", {}, when(thread.sentAt)),
        h("td", {}, when(thread.deliveredAt)),
        h("td", {}, when(thread.readAt)),
        h("td", {}, when(thread.answeredAt)),
        h("td", {}, (thread.replyRecordIds || []).map((id) => h("code", {}, id, " ")))))));
  } catch (error) {
    say("threads-status", "");
    show("threads-body", errorBox(error));
  }
}

// -- deliveries ----------------------------------------------------------------------------

async function loadDeliveries() {
  say("deliveries-status", "Loading deliveries…");
  const form = document.getElementById("deliveries-filters");
  const request = { limit: 500 };
  if (form.peer.value.trim()) request.peer = form.peer.value.trim();
  if (form.state.value) request.states = [form.state.value];
  try {
    const answer = await call("liaison.v1.FederationAdmin/ListDeliveries", request);
    const deliveries = answer.deliveries || [];
    const byPeer = new Map();
    for (const delivery of deliveries) {
      if (!byPeer.has(delivery.peer)) byPeer.set(delivery.peer, []);
      byPeer.get(delivery.peer).push(delivery);
    }
    say("deliveries-status", `${deliveries.length} deliveries to ${byPeer.size} peer(s).`);
    const sections = [];
    for (const [peer, rows] of [...byPeer].sort()) {
      const dead = rows.filter((row) => row.state === "DELIVERY_STATE_DEAD_LETTERED");
      const counts = {};
      for (const row of rows) counts[row.state] = (counts[row.state] || 0) + 1;
      const summary = Object.entries(counts).map(([state, count]) => `${count} ${words(state, "DELIVERY_STATE_")}`).join(", ");
      const section = h("section", { "aria-label": `Peer ${peer}` }, h("h3", {}, `${peer}: ${summary}`));
      const status = h("div", { class: "message", role: "status", "aria-live": "polite" });
      if (dead.length) {
        const replay = h("button", { type: "button" }, `Replay ${dead.length} dead letter(s) to ${peer}`);
        replay.addEventListener("click", () => replayDeadLetters(peer, [], replay, status));
        section.append(h("div", { class: "peer-actions" }, replay), status);
      }
      section.append(table(`Deliveries to ${peer}, newest first`,
        ["Record", "Version", "State", "Attempts", "Last error / routing", "Queued", "Updated", "Next attempt"],
        rows.map((row) => h("tr", {},
          h("td", {}, h("code", {}, row.recordId)),
          h("td", { class: "num" }, row.version || ""),
          h("td", {}, h("span", { class: `badge ${stateTone(row.state)}` }, words(row.state, "DELIVERY_STATE_"))),
          h("td", { class: "num" }, row.attempts || 0),
          h("td", {}, row.lastError || row.reason || ""),
          h("td", {}, when(row.queuedAt)),
          h("td", {}, when(row.updatedAt)),
          h("td", {}, when(row.nextAttemptAt))))));
      sections.push(section);
    }
    if (!sections.length) sections.push(h("p", { class: "muted" }, "No delivery to show."));
    show("deliveries-body", ...sections);
  } catch (error) {
    say("deliveries-status", "");
    show("deliveries-body", errorBox(error));
  }
}

function stateTone(state) {
  if (state === "DELIVERY_STATE_DELIVERED") return "good";
  if (state === "DELIVERY_STATE_DEAD_LETTERED" || state === "DELIVERY_STATE_FAILED") return "bad";
  return "warn";
}

async function replayDeadLetters(peer, recordIds, button, status) {
  button.disabled = true;
  status.replaceChildren("Replaying…");
  try {
    const answer = await call("liaison.v1.FederationAdmin/ReplayDeadLetters", { peer, recordIds });
    status.replaceChildren(`${(answer.requeued || []).length} delivery(ies) re-queued to ${peer}.`);
  } catch (error) {
    status.replaceChildren(errorBox(error));
  } finally {
    button.disabled = false;
  }
}

// -- audit chain ---------------------------------------------------------------------------

async function verifyAudit() {
  const button = document.getElementById("audit-verify");
  button.disabled = true;
  say("audit-status", "Verifying the audit log…");
  try {
    const answer = await call("liaison.v1.FederationAdmin/VerifyAuditLog", {});
    say("audit-status", `Verified at ${when(answer.verifiedAt)}.`);
    const facts = h("dl", { class: "facts" });
    const fact = (name, value) => facts.append(h("dt", {}, name), h("dd", {}, value));
    fact("Entries read", answer.entries || "0");
    fact("Last good entry", `${answer.headSequence || "0"}`);
    fact("Its hash", h("code", {}, answer.headHash || ""));
    fact("Keyed (HMAC)", answer.keyed ? "yes, verified with the gateway's key" : "no (plain SHA-256 chain)");
    fact("Own checkpoints reached", answer.anchored || 0);
    const checkpoint = answer.latestCheckpoint;
    fact("Latest checkpoint", checkpoint
      ? `${checkpoint.entries} entries at ${when(checkpoint.time)}, key ${checkpoint.keyId}`
      : "none taken yet");
    const nodes = [h("p", { class: `verdict ${answer.intact ? "good" : "bad"}` },
      answer.intact ? "✓ The audit chain is intact" : "✗ The audit chain is broken"), facts];
    if (answer.firstBreak) {
      nodes.push(h("div", { class: "error", role: "alert" },
        h("strong", {}, `First break at position ${answer.firstBreak.position}` +
          (answer.firstBreak.sequence ? ` (sequence ${answer.firstBreak.sequence})` : "")),
        h("span", {}, answer.firstBreak.reason || "")));
    }
    show("audit-body", ...nodes);
  } catch (error) {
    say("audit-status", "");
    show("audit-body", errorBox(error));
  } finally {
    button.disabled = false;
  }
}

// -- views ---------------------------------------------------------------------------------

const VIEWS = { hits: () => loadHits(false), threads: loadThreads, deliveries: loadDeliveries, audit: verifyAudit };

function route() {
  const name = (location.hash || "#hits").slice(1);
  const view = name in VIEWS ? name : "hits";
  for (const key of Object.keys(VIEWS)) {
    document.getElementById(`view-${key}`).hidden = key !== view;
    const link = document.querySelector(`nav a[data-view="${key}"]`);
    if (key === view) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  document.title = `${document.querySelector(`#view-${view} h2`).textContent} · Liaison console`;
  VIEWS[view]();
}

function submitted(id, load) {
  document.getElementById(id).addEventListener("submit", (event) => { event.preventDefault(); load(); });
}

document.addEventListener("DOMContentLoaded", () => {
  submitted("hits-filters", () => loadHits(false));
  submitted("threads-filters", loadThreads);
  submitted("deliveries-filters", loadDeliveries);
  document.getElementById("hits-more").addEventListener("click", () => loadHits(true));
  document.getElementById("audit-verify").addEventListener("click", verifyAudit);
  window.addEventListener("hashchange", route);
  route();
});
