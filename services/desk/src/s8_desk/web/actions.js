// The actions on the open ticket, each a form posted to the desk as the signed-in agent
// (`v1/tickets/{id}/actions`, passed on to intake), and the offer and presence controls.
// Every action carries a fresh id: a retried request is applied once.

const enc = encodeURIComponent;

function act(ctx, id, build, { keep = false } = {}) {
  const { $, api, say, alarm, failed, followUp, ticketId } = ctx;
  const form = $(id);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = build();
    if (!body) return;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await api("POST", `v1/tickets/${enc(ticketId())}/actions`, { action_id: crypto.randomUUID(), ...body });
      if (!keep) form.reset();
      alarm("");
      say(`done_${body.kind}`, { ticket: ticketId() });
      followUp();
    } catch (error) {
      failed(error);
    } finally {
      button.disabled = false;
    }
  });
}

export function wireActions(ctx) {
  const { $, api, t, say, alarm, failed, followUp, ticketId } = ctx;
  const value = (id) => $(id).value.trim() || undefined;
  const onAction = (...args) => act(ctx, ...args);
  onAction("reply-form", () => ({ kind: "reply", text: $("reply-text").value }));
  onAction("note-form", () => ({ kind: "note", text: $("note-text").value }));
  onAction("status-form", () => ({ kind: "set_status", status: $("status-select").value }), { keep: true });
  onAction("transfer-form", () => {
    const body = { kind: "transfer", to_team: value("transfer-team"), to_agent_id: value("transfer-agent"), to_tier: value("transfer-tier"), reason: value("transfer-reason") };
    if (body.to_team || body.to_agent_id || body.to_tier) return body;
    alarm(t("transfer_needs_target"));
    return null;
  });
  onAction("compensation-form", () => ({ kind: "offer_compensation", compensation: $("compensation-kind").value,
    amount: Number($("compensation-amount").value), reason: value("compensation-reason") }));
  for (const [id, verb] of [["accept", "accept"], ["decline", "decline"]]) {
    $(id).addEventListener("click", async () => {
      try {
        await api("POST", `v1/offers/${enc(ticketId())}/${verb}`);
        say(`done_${verb}`, { ticket: ticketId() });
        followUp();
      } catch (error) {
        failed(error);
      }
    });
  }
  wireCanned(ctx);
  $("presence").addEventListener("change", async (event) => {
    const presence = event.target.value;
    if (!presence) return;
    try {
      await api("PUT", "v1/me/presence", { presence });
      alarm("");
      say("presence_set", { presence: t(`presence_${presence}`) });
    } catch (error) {
      failed(error);
    }
  });
}

// Canned replies of the page's language, listed when the picker is opened, filled in for the
// open ticket and the signed-in agent by the desk, and put in the reply box to edit and send.
function wireCanned(ctx) {
  const { $, api, t, failed, ticketId, lang } = ctx;
  const picker = $("canned-select");
  picker.addEventListener("focus", async () => {
    try {
      const replies = await api("GET", `v1/canned?language=${enc(lang())}`);
      const keep = picker.value;
      picker.replaceChildren(new Option(t("canned_none"), ""), ...replies.map((r) => new Option(r.title, r.canned_id)));
      picker.value = keep;
    } catch (error) {
      failed(error);
    }
  });
  picker.addEventListener("change", async () => {
    if (!picker.value) return;
    try {
      const filled = await api("GET", `v1/tickets/${enc(ticketId())}/canned/${enc(picker.value)}`);
      $("reply-text").value = filled.text;
      $("reply-text").focus();
    } catch (error) {
      failed(error);
    }
  });
}
