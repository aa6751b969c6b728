// The agents' inbox: views with live counts, a ticket's whole story and the actions on it,
// presence, leads' approvals, all through the desk's API as the signed-in agent.
import { wireActions } from "./actions.js";
import { Auth } from "./auth.js";
import { LiveStream } from "./stream.js";
import { TEXTS } from "./texts.js";
import { VIEWS, formats, renderApprovals, renderDetail, renderTickets, renderViews, tick } from "./render.js";

const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;
const config = JSON.parse(document.body.dataset.config);
const auth = new Auth(config);
const state = { lang: "vi", me: null, view: "mine", counts: {}, tickets: [], ticketId: null, detail: null, approvals: new Map() };
const seq = { list: 0, ticket: 0 };
let f = formats(state.lang);
let stream = null;
let soonTimer = null;

function t(key, vars = {}) {
  const text = TEXTS[state.lang][key] ?? TEXTS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

function say(key, vars) {
  state.said = [key, vars]; // said again in the other language when the agent switches
  $("status").textContent = t(key, vars);
}

function alarm(text) {
  $("alert").hidden = !text;
  $("alert").textContent = text || "";
}

class ApiError extends Error {
  constructor(status, body) {
    const detail = body?.detail;
    super(typeof detail === "string" ? detail : Array.isArray(detail) ? detail.map((d) => d.msg).join("; ") : `HTTP ${status}`);
    this.status = status;
  }
}

function failed(error) {
  alarm(t("failed", { reason: error.message }));
}

// One call to the desk as the signed-in agent; a refused token is refreshed once.
async function api(method, path, body) {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const token = await auth.token();
    if (!token) break;
    const headers = { Authorization: `Bearer ${token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const reply = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
    if (reply.status === 401 && attempt === 0 && (await auth.refresh())) continue;
    if (reply.status === 401) break;
    const data = (reply.headers.get("content-type") || "").includes("json") ? await reply.json() : null;
    if (!reply.ok) throw new ApiError(reply.status, data);
    return data;
  }
  signedOut(true);
  throw new ApiError(401, { detail: t("session_over") });
}

function signedOut(ended = false) {
  if (ended) alarm(t("session_over"));
  stream?.stop();
  $("app").hidden = true;
  $("sign-out").hidden = true;
  $("presence-field").hidden = true;
  $("live").hidden = true;
  $("signin").hidden = false;
}

function applyTexts() {
  document.documentElement.lang = state.lang;
  document.title = t("title");
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
  $("lang").value = state.lang;
}

function drawWho() {
  if (!state.me) return;
  const role = state.me.lead ? ` · ${t("lead")}` : "";
  $("who").textContent = t("signed_in_as", { who: `${state.me.name || state.me.id} (${state.me.id})${role}` });
}

function views() {
  return state.me?.lead ? VIEWS : VIEWS.filter((view) => view !== "approvals"); // leads decide offers
}

function drawApprovals() {
  renderApprovals($("approvals"), $("approval-list"), state.approvals, t, f, decide);
}

async function loadApprovals() {
  // Every offer awaiting a lead, also those asked for before this page opened.
  if (!state.me.lead) return;
  const offers = await api("GET", "v1/approvals?limit=100");
  state.approvals.clear();
  keepApprovals({ compensation: offers });
}

async function loadMe() {
  // The presence switch shows what the router last published for this agent.
  const me = await api("GET", "v1/me");
  $("presence").value = me.presence || "";
}

function redraw() {
  if (!state.me) return;
  drawWho();
  renderViews($("views"), state.counts, state.ticketId ? null : state.view, t, views());
  $("list-title").textContent = t(`view_${state.view}`);
  renderTickets($("tickets"), state.tickets, t, f);
  $("empty").hidden = state.tickets.length > 0;
  $("back").href = `#view=${state.view}`;
  if (state.detail) renderDetail(detailRefs(), state.detail, state.me, t, f, decide);
  drawApprovals();
  tick(t);
}

function detailRefs() {
  return { title: $("ticket-title"), meta: $("ticket-meta"), offer: $("offer"), offerText: $("offer-text"),
    clocks: $("clocks"), conversation: $("conversation"), customer: $("customer"), offers: $("offers"),
    routing: $("routing"), status: $("status-select") };
}

async function loadCounts() {
  const counts = await api("GET", "v1/views");
  state.counts = Object.fromEntries(counts.map((c) => [c.view, c.count]));
  renderViews($("views"), state.counts, state.ticketId ? null : state.view, t, views());
}

async function loadList() {
  const mine = ++seq.list;
  const tickets = await api("GET", `v1/tickets?view=${enc(state.view)}&limit=100`);
  if (mine !== seq.list) return; // the agent moved to another view meanwhile
  state.tickets = tickets;
  $("list-title").textContent = t(`view_${state.view}`);
  renderTickets($("tickets"), tickets, t, f);
  $("empty").hidden = tickets.length > 0;
}

async function loadTicket() {
  const mine = ++seq.ticket;
  const id = state.ticketId;
  if (!id) return;
  const detail = await api("GET", `v1/tickets/${enc(id)}`);
  if (mine !== seq.ticket || id !== state.ticketId) return;
  const first = state.detail?.ticket.ticket_id !== id;
  const status = $("status-select");
  const shown = `${id}:${detail.ticket.status}`;
  const keepChoice = status.dataset.shown === shown ? status.value : null; // a choice not yet sent stays
  state.detail = detail;
  renderDetail(detailRefs(), detail, state.me, t, f, decide);
  if (keepChoice) status.value = keepChoice;
  status.dataset.shown = shown;
  keepApprovals(detail);
  if (first) $("ticket-title").focus();
}

// Background refreshes: a failure shows in the live indicator, not as an alert.
const quietly = (load) => load().catch((error) => console.warn("refresh failed", error));

function refreshSoon() {
  clearTimeout(soonTimer);
  soonTimer = setTimeout(() => {
    quietly(loadCounts);
    quietly(loadList);
  }, 250);
}

// What an action changes shows once the desk has read it back from the topics.
function followUp() {
  for (const ms of [600, 2000, 5000]) setTimeout(() => { quietly(loadTicket); refreshSoon(); }, ms);
}

async function route() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const ticketId = hash.get("ticket");
  if (views().includes(hash.get("view"))) state.view = hash.get("view");
  const changedTicket = ticketId !== state.ticketId;
  state.ticketId = ticketId;
  $("main").classList.toggle("reading", Boolean(ticketId));
  $("ticket").hidden = !ticketId;
  if (!ticketId) {
    state.detail = null;
    renderViews($("views"), state.counts, state.view, t, views());
    $("back").href = `#view=${state.view}`;
    await Promise.all([loadList(), loadCounts()]).catch(failed);
    return;
  }
  if (changedTicket) {
    state.detail = null;
    for (const form of document.querySelectorAll("form.act")) form.reset();
  }
  renderViews($("views"), state.counts, null, t, views());
  await loadTicket().catch(failed);
}

function keepApprovals(detail) {
  if (!state.me.lead) return;
  for (const offer of detail.compensation) {
    if (offer.status === "pending_approval" && offer.agent_id !== state.me.id) state.approvals.set(offer.offer_id, offer);
    else state.approvals.delete(offer.offer_id);
  }
  drawApprovals();
}

async function decide(offer, decision) {
  try {
    await api("POST", `v1/approvals/${enc(offer.offer_id)}`, { decision });
    state.approvals.delete(offer.offer_id);
    drawApprovals();
    alarm("");
    say(decision === "approve" ? "approved" : "rejected", { offer: offer.offer_id });
    followUp();
  } catch (error) {
    failed(error);
  }
}

function onNotice(notice) {
  say(`notice_${notice.kind}`, { ticket: notice.ticket_id });
  if (notice.kind === "approval_needed") quietly(async () => keepApprovals(await api("GET", `v1/tickets/${enc(notice.ticket_id)}`)));
  refreshSoon();
  if (notice.ticket_id === state.ticketId) quietly(loadTicket);
}

function claim(claims, path) {
  return path.split(".").reduce((node, key) => (node == null ? undefined : node[key]), claims);
}

function begin() {
  // Who is signed in, for the page only (the desk checks the token on every call).
  const claims = auth.claims();
  const roles = claim(claims, config.roles_claim) || [];
  state.me = { id: String(claim(claims, config.actor_claim) || claims.sub), name: claims.name, lead: roles.includes("lead") };
  $("signin").hidden = true;
  $("app").hidden = false;
  $("sign-out").hidden = false;
  $("presence-field").hidden = !(roles.includes("agent") || roles.includes("lead"));
  drawWho();
  window.addEventListener("hashchange", () => route());
  stream = new LiveStream({
    url: "v1/stream",
    token: () => auth.token(),
    renew: () => auth.refresh(),
    onNotice,
    onState: (live) => {
      if (!auth.kept()) return signedOut(true);
      $("live").hidden = false;
      $("live").dataset.state = live;
      $("live").textContent = t(live === "live" ? "live" : "reconnecting");
      if (live === "live") { refreshSoon(); quietly(loadApprovals); } // what changed while it was down
    },
    storageKey: `s8.inbox.last-event.${state.me.id}`,
  });
  stream.start();
  quietly(loadMe);
  setInterval(() => tick(t), 1000);
  setInterval(() => { if (!document.hidden) refreshSoon(); }, 15_000); // team and queue counts
  setInterval(() => { if (!document.hidden && state.ticketId) quietly(loadTicket); }, 5_000); // clocks, replies
  route();
}

async function main() {
  const kept = localStorage.getItem("s8.inbox.lang");
  state.lang = TEXTS[kept] ? kept : "vi";
  f = formats(state.lang);
  applyTexts();
  $("lang").addEventListener("change", (event) => {
    state.lang = event.target.value;
    localStorage.setItem("s8.inbox.lang", state.lang);
    f = formats(state.lang);
    applyTexts();
    redraw();
    if (state.said) say(...state.said);
    if ($("live").dataset.state) $("live").textContent = t($("live").dataset.state === "live" ? "live" : "reconnecting");
  });
  $("sign-in").addEventListener("click", () => auth.signIn(state.lang).catch(failed));
  $("sign-out").addEventListener("click", () => { stream?.stop(); auth.signOut(); });
  wireActions({ $, api, t, say, alarm, failed, followUp, ticketId: () => state.ticketId, lang: () => state.lang });
  let signedIn = false;
  try {
    signedIn = await auth.start();
  } catch (error) {
    alarm(t("sign_in_failed", { reason: error.message }));
  }
  if (signedIn) begin();
  else signedOut();
}

main();
