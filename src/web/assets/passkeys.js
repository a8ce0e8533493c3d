// Passkey ceremonies for Tessera pages (WebAuthn Level 3 JSON helpers, no library needed).
// Buttons with data-passkey="register" or data-passkey="authenticate" run them; data-next names
// the page to go to afterwards; an element with data-passkey-status shows failures.
(() => {
  "use strict";

  /** The tenant's base path: /t/<tenant>/ */
  function tenantBase() {
    const match = /^\/t\/[a-z][a-z0-9-]{1,31}\//.exec(location.pathname);
    if (!match) throw new Error("not a tenant page");
    return match[0];
  }

  async function post(path, body) {
    const response = await fetch(`${tenantBase()}api/passkeys/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body ?? {}),
      credentials: "same-origin",
    });
    const json = await response.json();
    if (!response.ok) throw Object.assign(new Error(json.error_description ?? "error"), { code: json.error });
    return json;
  }

  async function register(name) {
    const { ceremonyId, options } = await post("registration/options");
    const credential = await navigator.credentials.create({
      publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options),
    });
    return post("registration", { ceremonyId, response: credential.toJSON(), name });
  }

  async function authenticate() {
    const { ceremonyId, options } = await post("authentication/options");
    const credential = await navigator.credentials.get({
      publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options),
    });
    return post("authentication", { ceremonyId, response: credential.toJSON() });
  }

  window.tesseraPasskeys = { register, authenticate };

  // A passkey as the second factor of a sign-in flow: the options come with the page, the
  // assertion goes back in the flow's own form.
  document.addEventListener("click", async (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-passkey-assert]") : null;
    if (!button) return;
    event.preventDefault();
    const form = document.getElementById(button.dataset.form);
    const status = form?.querySelector("[data-passkey-status]");
    try {
      const credential = await navigator.credentials.get({
        publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(JSON.parse(button.dataset.passkeyAssert)),
      });
      form.querySelector("input[name=response]").value = JSON.stringify(credential.toJSON());
      form.submit();
    } catch (err) {
      if (status) status.textContent = err.message;
    }
  });

  document.addEventListener("click", async (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-passkey]") : null;
    if (!button) return;
    event.preventDefault();
    const status = document.querySelector("[data-passkey-status]");
    button.disabled = true;
    try {
      if (button.dataset.passkey === "register") await register(button.dataset.name);
      else await authenticate();
      if (button.dataset.next) location.assign(button.dataset.next);
      else location.reload();
    } catch (err) {
      if (status) status.textContent = err.message;
    } finally {
      button.disabled = false;
    }
  });
})();
