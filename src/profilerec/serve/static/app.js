// The page talks to the same server's /v1 API only: no CDN, works offline.
"use strict";
const $ = (id) => document.getElementById(id);
let nextItemId = null;

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const body = await response.json().catch(() => ({ detail: response.statusText }));
  if (!response.ok) {
    const detail = Array.isArray(body.detail)
      ? body.detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ")
      : body.detail;
    throw new Error(`${response.status}: ${detail}`);
  }
  return body;
}

function item(li, text, cls) {
  const el = document.createElement(li);
  el.textContent = text;
  if (cls) el.className = cls;
  return el;
}

function showRecs(list, recs) {
  list.replaceChildren();
  for (const r of recs.items) {
    const li = item("li", r.title);
    li.dataset.itemId = r.item_id;
    li.append(" ", item("span", `(${r.why})`, "why"));
    if (r.item_id === recs.next_item_id) {
      li.classList.add("target");
      li.title = "the held-out next item";
    }
    list.append(li);
  }
}

async function loadRecs(which) {
  const user = $("user-input").value.trim();
  const method = $(`method-${which}`).value;
  const recs = await api(`/v1/users/${encodeURIComponent(user)}/recommendations?k=10&method=${encodeURIComponent(method)}`);
  showRecs($(`recs-${which}`), recs);
}

async function openUser(event) {
  event.preventDefault();
  $("user-error").textContent = "";
  const user = $("user-input").value.trim();
  if (!user) {  // `/v1/users/` is the user list, not a user
    $("user-view").hidden = true;
    $("user-error").textContent = "enter a user id (type to search the list)";
    return;
  }
  try {
    const data = await api(`/v1/users/${encodeURIComponent(user)}`);
    if (!data || !data.next_item || !Array.isArray(data.history)) throw new Error(`no user ${user}`);
    nextItemId = data.next_item.item_id;
    $("next-item").textContent = data.next_item.title;
    $("history").replaceChildren(...data.history.map((h) =>
      item("li", `${h.title}${h.rating != null ? ` (rated ${h.rating}/5)` : ""}`)));
    $("profiles").replaceChildren(...data.profiles.map((p) => {
      const div = item("div", "", "profile");
      div.append(item("strong", p.name), item("blockquote", p.profile),
        item("div", `model ${p.provenance.model_id || "?"}, template ${p.provenance.template || "?"}, method ${p.provenance.method || "?"}`, "provenance"));
      return div;
    }));
    $("user-view").hidden = false;
    await Promise.all([loadRecs("a"), loadRecs("b")]);
  } catch (err) {
    $("user-view").hidden = true;
    $("user-error").textContent = err.message;
  }
}

async function adhoc() {
  $("adhoc-error").textContent = "";
  const history = $("adhoc-history").value.split("\n").map((s) => s.trim()).filter(Boolean);
  const headers = { "Content-Type": "application/json" };
  if ($("api-key").value) headers["X-API-Key"] = $("api-key").value;
  if (!history.length) {
    $("adhoc-error").textContent = "paste at least one item (one per line)";
    return;
  }
  $("adhoc-go").disabled = true;
  const started = Date.now();
  const tick = () => { $("adhoc-status").textContent = `writing a profile ... ${Math.round((Date.now() - started) / 1000)} s`; };
  tick();
  const timer = setInterval(tick, 1000);
  try {
    const made = await api("/v1/profiles", { method: "POST", headers, body: JSON.stringify({ history }) });
    clearInterval(timer);
    $("adhoc-status").textContent = `profile written in ${((Date.now() - started) / 1000).toFixed(1)} s${made.cached ? " (cached: same history as before)" : ""}`;
    $("adhoc-profile").textContent = made.profile;
    const recs = await api("/v1/recommendations", {
      method: "POST", headers, body: JSON.stringify({ history, profile: made.profile, method: "profile", k: 10 }),
    });
    showRecs($("adhoc-recs"), recs);
    $("adhoc-view").hidden = false;
  } catch (err) {
    $("adhoc-status").textContent = "";
    $("adhoc-error").textContent = err.message;
  } finally {
    clearInterval(timer);
    $("adhoc-go").disabled = false;
  }
}

async function init() {
  const methods = await api("/v1/methods");
  for (const [which, pick] of [["a", 0], ["b", 1]]) {
    const select = $(`method-${which}`);
    select.replaceChildren(...methods.user_methods.map((m) => {
      const o = item("option", (methods.labels || {})[m] || m);
      o.value = m;
      return o;
    }));
    select.selectedIndex = Math.min(pick, methods.user_methods.length - 1);
    select.addEventListener("change", () => loadRecs(which).catch((e) => { $("user-error").textContent = e.message; }));
  }
  const users = await api("/v1/users?limit=1000");
  $("user-list").replaceChildren(...users.users.map((u) => { const o = document.createElement("option"); o.value = u; return o; }));
  $("status").textContent = `${users.total} users; generator: ${methods.generator || "none"}`;
  if ((methods.generator || "").toLowerCase().includes("smollm2")) {
    $("caveat").textContent = "Profiles come from the bundled SmolLM2-135M, a 135M-parameter model chosen to run offline on a CPU: expect generic, sometimes inaccurate text; start the server with --generator for a larger model.";
    $("caveat").hidden = false;
  }
  document.body.dataset.ready = "1";
}

$("user-form").addEventListener("submit", openUser);
$("adhoc-go").addEventListener("click", adhoc);
init().catch((err) => { $("status").textContent = err.message; });
