// Progressive enhancement for flow pages: the captcha's proof of work, and live password hints.
// Without this script every form still works (the server checks everything), but for the
// captcha, which only a browser running it can solve.
(() => {
  "use strict";

  const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");

  /** ALTCHA: find n with SHA-256(salt + n) = challenge. */
  async function solve(c) {
    const encoder = new TextEncoder();
    for (let n = 0; n <= c.maxnumber; n++) {
      if (hex(await crypto.subtle.digest("SHA-256", encoder.encode(c.salt + n))) === c.challenge) return n;
    }
    return null;
  }

  for (const box of document.querySelectorAll("[data-captcha]")) {
    const challenge = JSON.parse(box.dataset.captcha || "{}");
    if (!challenge.challenge) continue;
    const input = box.querySelector("input[type=hidden]");
    const status = box.querySelector(".captcha-status");
    const form = box.closest("form");
    status.textContent = status.dataset.solving;
    const solving = solve(challenge).then((number) => {
      if (number === null) return;
      input.value = btoa(JSON.stringify({ algorithm: challenge.algorithm, challenge: challenge.challenge, number, salt: challenge.salt, signature: challenge.signature }));
      status.textContent = status.dataset.solved;
    });
    // A form sent before the work is done waits for it.
    form?.addEventListener("submit", (event) => {
      if (input.value) return;
      event.preventDefault();
      solving.then(() => form.requestSubmit());
    });
  }

  const flow = document.querySelector("[data-flow]")?.dataset.flow;
  const tenantBase = /^\/t\/[a-z][a-z0-9-]{1,31}\//.exec(location.pathname)?.[0];
  for (const input of document.querySelectorAll("input[data-password-rules]")) {
    const list = document.getElementById(input.dataset.passwordRules);
    if (!flow || !tenantBase || !list) continue;
    let timer;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const response = await fetch(`${tenantBase}api/flows/${flow}/password-check`, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json" },
          body: JSON.stringify({ password: input.value }),
        });
        if (!response.ok) return;
        const { rules } = await response.json();
        for (const rule of rules) {
          const item = list.querySelector(`[data-rule="${rule.rule}"]`);
          if (!item) continue;
          item.classList.toggle("rule-ok", input.value !== "" && rule.ok);
          item.classList.toggle("rule-fail", input.value !== "" && !rule.ok);
        }
      }, 250);
    });
  }
})();
