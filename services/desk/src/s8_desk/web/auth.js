// Signing in with the OpenID provider from the browser: authorization code with PKCE (S256).
// The page is a public client (no secret to keep), so the code is bound to this tab by a
// one-time verifier only it holds. Tokens live in sessionStorage: one tab, gone with it,
// kept across a reload; the desk itself keeps no session.

const TOKENS = "s8.inbox.tokens";
const PENDING = "s8.inbox.pending";
const EARLY_MS = 60_000; // refresh a minute before the access token expires

function base64url(bytes) {
  let text = "";
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText(size) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

async function challengeOf(verifier) {
  return base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
}

export function claimsOf(token) {
  const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

export class SignInError extends Error {}

export class Auth {
  constructor({ issuer, client_id: clientId }) {
    this.issuer = issuer;
    this.clientId = clientId;
    this.redirectUri = location.origin + location.pathname;
    this.endpoints = null;
    this.refreshing = null;
    this.timer = null;
  }

  async discover() {
    if (!this.endpoints) {
      const reply = await fetch(`${this.issuer}/.well-known/openid-configuration`);
      if (!reply.ok) throw new SignInError(`discovery ${reply.status}`);
      this.endpoints = await reply.json();
    }
    return this.endpoints;
  }

  // True when signed in: back from the provider with a code, or tokens kept in this tab.
  async start() {
    const query = new URLSearchParams(location.search);
    if (query.has("code") || query.has("error")) {
      const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
      sessionStorage.removeItem(PENDING);
      history.replaceState(null, "", location.pathname + (pending?.hash || ""));
      await this.finish(query, pending);
    }
    const kept = this.kept();
    if (!kept) return false;
    if (Date.now() > kept.expires_at - EARLY_MS && !(await this.refresh())) return false;
    this.schedule();
    return true;
  }

  async signIn(language) {
    const endpoints = await this.discover();
    const verifier = randomText(48);
    const state = randomText(16);
    sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, hash: location.hash }));
    const query = new URLSearchParams({
      response_type: "code",
      client_id: this.clientId,
      redirect_uri: this.redirectUri,
      scope: "openid",
      state,
      code_challenge: await challengeOf(verifier),
      code_challenge_method: "S256",
      ui_locales: language,
    });
    location.assign(`${endpoints.authorization_endpoint}?${query}`);
  }

  async finish(query, pending) {
    if (query.has("error")) throw new SignInError(query.get("error_description") || query.get("error"));
    // A code this tab did not ask for (another tab's, or forged) is refused.
    if (!pending || query.get("state") !== pending.state) throw new SignInError("state");
    await this.grant({
      grant_type: "authorization_code",
      code: query.get("code"),
      redirect_uri: this.redirectUri,
      code_verifier: pending.verifier,
    });
  }

  async grant(form) {
    const endpoints = await this.discover();
    const reply = await fetch(endpoints.token_endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...form, client_id: this.clientId }),
    });
    if (!reply.ok) throw new SignInError(`token ${reply.status}`);
    const body = await reply.json();
    sessionStorage.setItem(TOKENS, JSON.stringify({
      access: body.access_token,
      refresh: body.refresh_token || null,
      id: body.id_token || null,
      expires_at: Date.now() + 1000 * Number(body.expires_in || 300),
    }));
  }

  kept() {
    return JSON.parse(sessionStorage.getItem(TOKENS) || "null");
  }

  claims() {
    const kept = this.kept();
    return kept ? claimsOf(kept.access) : null;
  }

  // A fresh token by the refresh grant; false when the provider refuses (session over).
  refresh() {
    this.refreshing ??= (async () => {
      const kept = this.kept();
      try {
        if (!kept?.refresh) return false;
        await this.grant({ grant_type: "refresh_token", refresh_token: kept.refresh });
        this.schedule();
        return true;
      } catch {
        sessionStorage.removeItem(TOKENS);
        return false;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  schedule() {
    clearTimeout(this.timer);
    const kept = this.kept();
    if (kept) this.timer = setTimeout(() => this.refresh(), Math.max(5_000, kept.expires_at - EARLY_MS - Date.now()));
  }

  // The access token for the next call; null when the agent must sign in again.
  async token() {
    const kept = this.kept();
    if (!kept) return null;
    if (Date.now() < kept.expires_at - 10_000) return kept.access;
    return (await this.refresh()) ? this.kept().access : null;
  }

  async signOut() {
    const kept = this.kept();
    sessionStorage.removeItem(TOKENS);
    clearTimeout(this.timer);
    const endpoints = await this.discover().catch(() => null);
    if (!endpoints?.end_session_endpoint) return location.assign(this.redirectUri);
    const query = new URLSearchParams({ client_id: this.clientId, post_logout_redirect_uri: this.redirectUri });
    if (kept?.id) query.set("id_token_hint", kept.id);
    location.assign(`${endpoints.end_session_endpoint}?${query}`);
  }
}
