/* The dashboard: drives the control API and keeps itself current by re-reading its own page. */
"use strict";
(() => {
  const INTERVAL_MS = 1500;
  const flash = document.getElementById("flash");
  const jobRows = () => document.getElementById("job-rows");
  let scrubbing = null; // the job id the scrubber shows
  let refreshing = false;
  let again = false;

  function say(text, good) {
    flash.textContent = text;
    flash.className = "flash js-only " + (good ? "good" : "bad");
  }

  async function act(what, call) {
    try {
      const answer = await call();
      say(what(answer), true);
    } catch (e) {
      say(e.message, false);
    }
    await refresh();
  }

  // ------------------------------------------------------------------ the page, kept current

  function mergeRows(fresh) {
    const body = jobRows();
    const byId = new Map(Array.from(body.children, (tr) => [tr.dataset.jobId || "", tr]));
    const wanted = Array.from(fresh.children);
    let before = null;
    for (let i = wanted.length - 1; i >= 0; i--) {
      const row = wanted[i];
      let node = byId.get(row.dataset.jobId || "");
      if (node && node.outerHTML === row.outerHTML) {
        byId.delete(row.dataset.jobId || "");
      } else {
        if (node) { byId.delete(row.dataset.jobId || ""); node.remove(); }
        node = document.importNode(row, true);
      }
      if (node.nextSibling !== before || node.parentNode !== body) body.insertBefore(node, before);
      before = node;
    }
    for (const gone of byId.values()) gone.remove();
  }

  async function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    try {
      const doc = await mockjobs.controlPage(window.location.pathname + window.location.search);
      for (const id of ["summary", "jobs-title", "log-count", "log-rows", "errors"]) {
        mockjobs.swap(document.getElementById(id), doc.getElementById(id));
      }
      mergeRows(doc.getElementById("job-rows"));
      const select = document.getElementById("log-job");
      const freshSelect = doc.getElementById("log-job");
      if (document.activeElement !== select && select.innerHTML !== freshSelect.innerHTML) {
        const value = select.value;
        select.replaceChildren(...Array.from(freshSelect.children, (o) => document.importNode(o, true)));
        select.value = value;
      }
      if (scrubbing && !document.querySelector(`#job-rows tr[data-job-id="${CSS.escape(scrubbing)}"]`)) closeScrubber();
      document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
    } catch (e) {
      /* the server may be restarting: try again */
    } finally {
      refreshing = false;
    }
    if (again) { again = false; await refresh(); }
  }

  async function loop() {
    await refresh();
    window.setTimeout(loop, INTERVAL_MS);
  }

  // ------------------------------------------------------------------ scenarios: start a job

  for (const form of document.querySelectorAll("form.start-form")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = { scenario: form.dataset.scenario };
      for (const input of form.querySelectorAll("input")) {
        const value = input.value.trim();
        if (!value) continue;
        const [kind, name] = input.name.split(/:(.*)/s);
        if (kind === "var") (body.vars = body.vars || {})[name] = value;
        else if (kind === "param") (body.params = body.params || {})[name] = value;
        else if (kind === "speed") body.speed = Number(value);
      }
      act((a) => `Started ${a.jobId} (${a.scenario}).`, () => mockjobs.json("POST", "/__mock/jobs", body));
    });
  }

  // ------------------------------------------------------------------ jobs: drive one

  const job = (id) => "/__mock/jobs/" + encodeURIComponent(id);
  document.getElementById("jobs").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const row = button.closest("tr");
    const id = row.dataset.jobId;
    const action = button.dataset.action;
    if (action === "next" || action === "end") {
      act((a) => `${id}: ${a.status} at ${a.elapsed}s.`, () => mockjobs.json("POST", job(id) + "/advance", { to: action }));
    } else if (action === "cancel") {
      act((a) => `${id}: ${a.status}, cancelled.`, () => mockjobs.json("POST", job(id) + "/cancel"));
    } else if (action === "delete") {
      act(() => `Deleted ${id}.`, () => mockjobs.json("DELETE", job(id)));
    } else if (action === "scrub") {
      openScrubber(id, Number(row.dataset.end), Number(row.dataset.elapsed));
    }
  });

  // ------------------------------------------------------------------ the scrubber

  const scrubber = document.getElementById("scrubber");
  const range = document.getElementById("scrub-range");
  let scrubSeq = 0;

  function openScrubber(id, end, elapsed) {
    scrubbing = id;
    scrubber.hidden = false;
    document.getElementById("scrub-job").textContent = id;
    range.max = String(Math.max(end, 0.1));
    range.step = end > 600 ? "1" : "0.1";
    range.value = String(Math.min(elapsed, end));
    showAt();
    range.focus();
  }

  function closeScrubber() {
    scrubbing = null;
    scrubber.hidden = true;
  }

  async function showAt() {
    if (!scrubbing) return;
    const mine = ++scrubSeq;
    const t = Number(range.value);
    document.getElementById("scrub-t").textContent = t.toFixed(2).replace(/\.?0+$/, "") + "s";
    try {
      const doc = await mockjobs.json("GET", job(scrubbing) + "/at?t=" + encodeURIComponent(t + "s"));
      if (mine !== scrubSeq) return;
      const status = document.getElementById("scrub-status");
      status.textContent = doc.status;
      status.className = "status status-" + doc.status;
      const ca = doc.customAttributes;
      document.getElementById("scrub-steps").textContent = `${ca.stepsCompleted} of ${ca.totalSteps} steps`;
      const n = doc.messages.length;
      document.getElementById("scrub-count").textContent = n + (n === 1 ? " message" : " messages");
      document.getElementById("scrub-latest").textContent = doc.messages.length ? doc.messages[doc.messages.length - 1] : "";
    } catch (e) {
      say(e.message, false);
    }
  }

  range.addEventListener("input", showAt);
  document.getElementById("scrub-close").addEventListener("click", closeScrubber);

  // ------------------------------------------------------------------ clock, reset, log

  const clockCalls = {
    freeze: () => ({ freeze: true }),
    unfreeze: () => ({ freeze: false }),
    advance: () => ({ advance: document.getElementById("clock-by").value.trim() }),
    set: () => {
      const raw = document.getElementById("clock-set").value;
      const ms = Date.parse(raw + (raw.length === 16 ? ":00" : "") + "Z");
      if (Number.isNaN(ms)) throw new Error("give the time to set (UTC)");
      return { set: ms };
    },
    real: () => ({ real: true }),
  };
  for (const button of document.querySelectorAll("[data-clock]")) {
    button.addEventListener("click", () => {
      act(
        (c) => `Clock: ${c.frozen ? "frozen" : c.real ? "real time" : "running"} at ${new Date(c.now).toISOString()}.`,
        async () => mockjobs.json("POST", "/__mock/clock", clockCalls[button.dataset.clock]())
      );
    });
  }
  document.getElementById("reset").addEventListener("click", () => {
    if (!window.confirm("Reset: drop started jobs, restore static ones, real clock, empty log?")) return;
    closeScrubber();
    act(() => "Reset.", () => mockjobs.json("POST", "/__mock/reset"));
  });
  document.getElementById("log-clear").addEventListener("click", () => {
    act(() => "Log cleared.", () => mockjobs.json("DELETE", "/__mock/requests"));
  });
  document.getElementById("log-job").addEventListener("change", (event) => {
    const url = new URL(window.location.href);
    if (event.target.value) url.searchParams.set("jobId", event.target.value);
    else url.searchParams.delete("jobId");
    window.history.replaceState(null, "", url.pathname + url.search + "#log");
    refresh();
  });

  window.setTimeout(loop, INTERVAL_MS);
})();
