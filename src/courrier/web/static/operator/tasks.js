// The morning view's list of the latest work, live. The list's own page (#tasks-list's data-source:
// the same rows, rendered by the server in the visitor's language) is asked for again and its rows put
// in place: every ACTIVE_POLL_MS while a task waits or runs, every IDLE_POLL_MS otherwise (a colleague
// may start one), not while the tab is hidden, one request at a time. Screen readers hear only a task's
// change of state (a polite status line beside the list); its counts change silently. Without
// JavaScript the list stays as the server rendered it, as the task's own page (task.js) does.

const ACTIVE_POLL_MS = 2000;
const IDLE_POLL_MS = 15000;

function rows(list) {
  return new Map([...list.querySelectorAll("tr[id][data-state]")].map((row) => [row.id, row]));
}

// What changed state since the last look (a row not seen before included), as its row words it.
function changed(before, after) {
  const said = [];
  for (const [id, row] of after) {
    if (before.get(id)?.dataset.state !== row.dataset.state) said.push(row.dataset.announce);
  }
  return said;
}

function put(list, fresh) {
  const focused = list.contains(document.activeElement) ? document.activeElement.id : "";
  const body = list.querySelector("tbody");
  const freshBody = fresh.querySelector("tbody");
  if (body && freshBody) {
    // Only the rows: the scrolled table and its caption stay as they are.
    if (body.innerHTML !== freshBody.innerHTML) body.innerHTML = freshBody.innerHTML;
  } else if (list.innerHTML !== fresh.innerHTML) {
    list.innerHTML = fresh.innerHTML;
  }
  // A link the operator had reached with the keyboard is focused again in its new row.
  if (focused && !list.contains(document.activeElement)) document.getElementById(focused)?.focus();
  list.dataset.active = fresh.dataset.active;
}

async function poll(list, announcer) {
  let answer;
  try {
    answer = await fetch(list.dataset.source, {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
      cache: "no-store",
    });
  } catch {
    return; // the server is restarting or the network is down: the next look tries again
  }
  if (!answer.ok) return;
  const page = new DOMParser().parseFromString(await answer.text(), "text/html");
  const fresh = page.getElementById("tasks-list");
  if (!fresh) return; // signed out: the answer is the sign-in page
  const before = rows(list);
  put(list, fresh);
  const said = changed(before, rows(list));
  if (said.length && announcer) announcer.textContent = said.join(" ");
  list.dataset.looks = String(Number(list.dataset.looks || 0) + 1);
}

function start() {
  const list = document.getElementById("tasks-list");
  if (!list || !list.dataset.source) return;
  const announcer = document.getElementById("tasks-announce");
  const hint = document.getElementById("tasks-live-hint");
  if (hint) hint.hidden = false;
  let timer = 0;
  let busy = false;
  const look = async () => {
    window.clearTimeout(timer);
    if (!busy && !document.hidden) {
      busy = true;
      try {
        await poll(list, announcer);
      } finally {
        busy = false;
      }
    }
    const wait = Number(list.dataset.active) > 0 ? ACTIVE_POLL_MS : IDLE_POLL_MS;
    timer = window.setTimeout(look, wait);
  };
  // Back to the tab: look at once rather than at the end of a long wait.
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && !busy) look();
  });
  list.dataset.polling = "on";
  timer = window.setTimeout(look, Number(list.dataset.active) > 0 ? ACTIVE_POLL_MS : IDLE_POLL_MS);
}

start();
