// Drawing the inbox from the desk's answers. Every value goes in as text (never as markup),
// so nothing a customer wrote can run in the agent's page.

export const VIEWS = ["mine", "team", "unassigned", "sla", "approvals"];
const OPEN_CLOCK = new Set(["running", "warned", "breached"]);

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export function formats(lang) {
  const locale = lang === "vi" ? "vi-VN" : "en-GB";
  const time = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" });
  const stamp = new Intl.DateTimeFormat(locale, { dateStyle: "short", timeStyle: "short" });
  const money = new Intl.NumberFormat(locale, { style: "currency", currency: "VND" });
  return {
    time: (iso) => (iso ? time.format(new Date(iso)) : ""),
    stamp: (iso) => (iso ? stamp.format(new Date(iso)) : ""),
    money: (amount) => money.format(amount),
  };
}

// 3:05, 1:02:09 or 2d 3:04:05 — a duration the way a countdown shows it.
export function duration(ms) {
  let s = Math.floor(Math.abs(ms) / 1000);
  const days = Math.floor(s / 86400);
  s %= 86400;
  const [h, m, sec] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  const pad = (n) => String(n).padStart(2, "0");
  const clock = h ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
  return days ? `${days}d ${h ? "" : "0:"}${clock}` : clock;
}

// Every countdown on the page, redrawn once a second from its due moment.
export function tick(t) {
  const now = Date.now();
  for (const node of document.querySelectorAll("[data-due]")) {
    const left = Date.parse(node.dataset.due) - now;
    node.textContent = left >= 0 ? t("left", { time: duration(left) }) : t("overdue", { time: duration(left) });
    node.classList.toggle("late", left < 0);
  }
}

// Redraws `container` and gives the focus back to the same link or button if it was in
// there: a refresh must not throw a keyboard user back to the top of the page.
function keepingFocus(container, draw) {
  const keyOf = (node) => node.getAttribute("href") || node.getAttribute("aria-label") || node.textContent;
  const active = document.activeElement;
  const key = active && container.contains(active) ? keyOf(active) : null;
  draw();
  if (key === null) return;
  [...container.querySelectorAll("a, button")].find((node) => keyOf(node) === key)?.focus();
}

function countdown(due) {
  return due ? el("span", { class: "countdown", "data-due": due }) : null;
}

export function renderViews(list, counts, current, t, views = VIEWS) {
  keepingFocus(list, () => list.replaceChildren(...views.map((view) => el("li", {},
    el("a", { href: `#view=${view}`, "aria-current": view === current ? "page" : null },
      el("span", { text: t(`view_${view}`) }), " ",
      el("span", { class: "count", text: String(counts[view] ?? "…") }))))));
}

export function renderTickets(list, tickets, t, f) {
  keepingFocus(list, () => list.replaceChildren(...tickets.map((ticket) => el("li", {},
    el("a", { class: `card sla-${ticket.sla}`, href: `#ticket=${encodeURIComponent(ticket.ticket_id)}` },
      el("strong", { class: "subject", text: ticket.subject || t("no_subject") }),
      el("span", { class: "line", text: `${ticket.customer_name || ticket.customer_id} · ${t(`channel_${ticket.channel}`)}` }),
      el("span", { class: "chips" },
        el("span", { class: `chip status-${ticket.status}`, text: t(`status_${ticket.status}`) }),
        el("span", { class: `chip priority-${ticket.priority}`, text: t(`priority_${ticket.priority}`) }),
        ticket.offer_expires_at ? el("span", { class: "chip offered", text: t("offered") }) : null,
        el("span", { class: `chip sla sla-${ticket.sla}`, text: t(`sla_${ticket.sla}`) }),
        OPEN_CLOCK.has(ticket.sla) ? countdown(ticket.sla_due_at) : null),
      el("span", { class: "line small", text: `${ticket.ticket_id} · ${f.stamp(ticket.updated_at)}` }))))));
  tick(t);
}

function clockItem(clock, t) {
  const open = OPEN_CLOCK.has(clock.state);
  return el("li", { class: `clock clock-${clock.state}` },
    el("span", { class: "target", text: t(`target_${clock.target}`) }), " ",
    el("span", { class: "state", text: t(`clock_${clock.state}`) }), " ",
    open ? countdown(clock.due_at) : null,
    clock.state === "paused"
      ? el("span", { class: "countdown", text: t("left", { time: duration(clock.remaining_business_seconds * 1000) }) })
      : null);
}

function messageItem(message, t, f) {
  const kind = message.public ? message.author : "note";
  const who = message.public ? t(`author_${message.author}`) : t("internal_note");
  return el("li", { class: `message from-${kind}` },
    el("p", { class: "by" }, el("strong", { text: who }),
      message.author_id ? ` · ${message.author_id}` : "", ` · ${f.stamp(message.sent_at)}`),
    el("p", { class: "text", text: message.text }));
}

function routingItem(decision, t, f) {
  const rejected = Object.entries(decision.rejected || {});
  return el("li", {},
    el("p", {}, el("strong", { text: t(`decision_${decision.decision.replace("ticket.", "")}`) }),
      decision.agent_id ? ` → ${decision.agent_id}` : "", ` · ${f.stamp(decision.at)}`),
    el("p", { class: "reason", text: decision.reason }),
    decision.eligible.length ? el("p", { class: "small", text: `${t("eligible")}: ${decision.eligible.join(", ")}` }) : null,
    rejected.length
      ? el("ul", { class: "small", "aria-label": t("not_chosen") },
        ...rejected.map(([agent, why]) => el("li", { text: `${agent}: ${why}` })))
      : null);
}

export function offerText(offer, t, f) {
  return `${t(`kind_${offer.kind}`)} ${f.money(offer.amount)} · ${offer.agent_id} · ${offer.ticket_id}`;
}

// Approve and reject buttons, named with the offer (several may be on the page at once).
export function decisionButtons(offer, t, f, decide) {
  const what = offerText(offer, t, f);
  return el("span", { class: "buttons" },
    el("button", { type: "button", "aria-label": `${t("approve")}: ${what}`, text: t("approve"), onclick: () => decide(offer, "approve") }),
    el("button", { type: "button", class: "quiet", "aria-label": `${t("reject")}: ${what}`, text: t("reject"), onclick: () => decide(offer, "reject") }));
}

function offerItem(offer, me, t, f, decide) {
  const mayDecide = me.lead && offer.status === "pending_approval" && offer.agent_id !== me.id;
  return el("li", { class: `offer-item offer-${offer.status}` },
    el("p", {}, el("strong", { text: `${t(`kind_${offer.kind}`)} ${f.money(offer.amount)}` }),
      ` · ${t(`offer_${offer.status}`)} · ${offer.agent_id}`),
    el("p", { class: "small", text: offer.status_reason }),
    mayDecide ? decisionButtons(offer, t, f, decide) : null);
}

function fact(term, value) {
  return [el("dt", { text: term }), el("dd", { text: value })];
}

export function renderDetail(refs, detail, me, t, f, decide) {
  const { ticket, customer } = detail;
  refs.title.textContent = ticket.subject || t("no_subject");
  refs.meta.replaceChildren(
    el("span", { class: `chip status-${ticket.status}`, text: t(`status_${ticket.status}`) }), " ",
    el("span", { class: `chip priority-${ticket.priority}`, text: t(`priority_${ticket.priority}`) }),
    ` ${ticket.ticket_id} · ${t(`channel_${ticket.channel}`)} · ${t("holder")}: ${ticket.agent_id || t("nobody")}`,
    ticket.team ? ` · ${t("team")}: ${ticket.team}` : "");
  const offered = ticket.offer_expires_at && ticket.agent_id === me.id;
  refs.offer.hidden = !offered;
  if (offered) {
    refs.offerText.replaceChildren(t("offered_to_you"), " ", countdown(ticket.offer_expires_at));
  }
  refs.clocks.replaceChildren(...(detail.clocks.length ? detail.clocks.map((c) => clockItem(c, t)) : [el("li", { text: t("no_clocks") })]));
  refs.conversation.replaceChildren(...detail.conversation.map((m) => messageItem(m, t, f)));
  refs.customer.replaceChildren(
    ...fact(t("name"), ticket.customer_name || "—"),
    ...fact(t("customer_id"), customer.customer_id),
    ...fact(t("tickets"), `${customer.tickets} (${t("open_count", { n: customer.open_tickets })})`),
    ...fact(t("contacts"), customer.contacts.join(", ") || "—"),
    ...fact(t("last_csat"), customer.last_csat ? `${customer.last_csat}/5` : "—"));
  keepingFocus(refs.offers, () => refs.offers.replaceChildren(...(detail.compensation.length
    ? detail.compensation.map((o) => offerItem(o, me, t, f, decide)) : [el("li", { text: t("no_offers") })])));
  refs.routing.replaceChildren(...(detail.routing.length
    ? detail.routing.map((d) => routingItem(d, t, f)) : [el("li", { text: t("no_routing") })]));
  refs.status.value = ticket.status === "new" ? "open" : ticket.status;
  tick(t);
}

export function renderApprovals(section, list, pending, t, f, decide) {
  const offers = [...pending.values()];
  section.hidden = offers.length === 0;
  keepingFocus(list, () => list.replaceChildren(...offers.map((offer) => el("li", { class: "approval" },
    el("a", { href: `#ticket=${encodeURIComponent(offer.ticket_id)}`, text: offerText(offer, t, f) }),
    offer.reason ? el("span", { class: "small", text: ` · ${offer.reason}` }) : null,
    decisionButtons(offer, t, f, decide)))));
}
