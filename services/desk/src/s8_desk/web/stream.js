// The agent's live stream (GET v1/stream, Server-Sent Events) read with fetch(): EventSource
// cannot send the Authorization header. After a drop it reconnects with Last-Event-ID (the id
// of the last event received), so the desk first sends what came in between, once.

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 15_000;
const SIGNED_OUT = "signed out";

// Splits a text/event-stream into events: {id, event, data} for each blank line that ends one.
export class EventParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = "";
    this.reset();
  }

  reset() {
    this.data = [];
    this.event = "message";
    this.id = null;
  }

  push(text) {
    this.buffer += text;
    for (;;) {
      const end = this.buffer.search(/\r\n|\r|\n/);
      // A lone CR at the end may be the first half of CRLF: wait for the next chunk.
      if (end < 0 || (end === this.buffer.length - 1 && this.buffer[end] === "\r")) return;
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(this.buffer.startsWith("\r\n", end) ? end + 2 : end + 1);
      this.line(line);
    }
  }

  line(line) {
    if (line === "") {
      if (this.data.length) this.onEvent({ id: this.id, event: this.event, data: this.data.join("\n") });
      this.reset();
      return;
    }
    if (line.startsWith(":")) return; // a comment: the server's keep-alive ping
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) this.id = value;
  }
}

export class LiveStream {
  // token(): the access token, or null (signed out); renew(): a fresh one, false if refused;
  // onNotice(notice); onState("live" | "down").
  constructor({ url, token, renew, onNotice, onState, storageKey }) {
    Object.assign(this, { url, token, renew, onNotice, onState, storageKey });
    this.controller = null;
  }

  get lastId() {
    return sessionStorage.getItem(this.storageKey);
  }

  start() {
    this.stop();
    this.controller = new AbortController();
    this.run(this.controller.signal);
  }

  stop() {
    this.controller?.abort();
    this.controller = null;
  }

  async run(signal) {
    let wait = RETRY_MIN_MS;
    while (!signal.aborted) {
      try {
        if ((await this.once(signal, () => { wait = RETRY_MIN_MS; })) === SIGNED_OUT) {
          this.onState("down"); // the page finds no token and asks the agent to sign in
          return;
        }
      } catch {
        if (signal.aborted) return;
      }
      this.onState("down");
      // Spread out: after a desk restart every agent's page must not come back at once.
      await new Promise((done) => setTimeout(done, wait * (0.75 + Math.random() / 2)));
      wait = Math.min(wait * 2, RETRY_MAX_MS);
    }
  }

  async once(signal, opened) {
    const token = await this.token();
    if (!token) return SIGNED_OUT;
    const headers = { Authorization: `Bearer ${token}`, Accept: "text/event-stream" };
    if (this.lastId) headers["Last-Event-ID"] = this.lastId;
    const reply = await fetch(this.url, { headers, signal, cache: "no-store" });
    if (reply.status === 401 && !(await this.renew())) return SIGNED_OUT;
    if (!reply.ok || !reply.body) throw new Error(`stream ${reply.status}`);
    opened();
    this.onState("live");
    const parser = new EventParser((event) => {
      if (event.id) sessionStorage.setItem(this.storageKey, event.id);
      try {
        this.onNotice(JSON.parse(event.data));
      } catch (error) {
        console.error("notice not handled", error);
      }
    });
    const reader = reply.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      parser.push(value);
    }
  }
}
