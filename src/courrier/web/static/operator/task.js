// A task's page, live: every POLL_MS the page is asked again (as it is, from the server: the texts
// stay in the visitor's language, the state is the database's) and its live parts ([data-live]) that
// changed are put in place, until the task has ended. Without JavaScript the page reloads itself
// (<noscript> refresh) instead.

const POLL_MS = 2000;
const ENDED = new Set(["finished", "failed", "interrupted", "cancelled"]);

function ended(root) {
  return ENDED.has(root.dataset.state);
}

async function poll(root) {
  const url = new URL(window.location.href);
  url.searchParams.set("refresh", "0");
  let answer;
  try {
    answer = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
  } catch {
    return; // the server is restarting or the network is down: the next poll tries again
  }
  if (!answer.ok) return;
  const page = new DOMParser().parseFromString(await answer.text(), "text/html");
  const fresh = page.getElementById("operator-task");
  if (!fresh) return;
  for (const part of fresh.querySelectorAll("[data-live][id]")) {
    const here = document.getElementById(part.id);
    // Only what changed is replaced: the state line is a live region, announced when it changes.
    if (here && here.innerHTML !== part.innerHTML) {
      here.innerHTML = part.innerHTML;
      here.className = part.className;
    }
  }
  root.dataset.state = fresh.dataset.state;
}

function start() {
  const root = document.getElementById("operator-task");
  if (!root || ended(root)) return;
  root.dataset.polling = "on";
  // One poll at a time: the next is planned when the last has answered.
  const next = () =>
    window.setTimeout(async () => {
      await poll(root);
      if (ended(root)) root.dataset.polling = "ended";
      else next();
    }, POLL_MS);
  next();
}

start();
