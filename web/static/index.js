// The front page: lists broadcasts from GET /api/v1/broadcasts (live first, as the API orders
// them) with links to their watch pages; refreshes every 5 s. Titles are inserted as text,
// never as HTML.

const REFRESH_MS = 5000;

const list = document.getElementById('broadcasts');
const empty = document.getElementById('empty');

function item(b) {
  const li = document.createElement('li');
  const a = document.createElement('a');
  a.href = `/watch/${encodeURIComponent(b.id)}`;
  a.textContent = b.title;
  const badge = document.createElement('span');
  badge.className = 'badge';
  badge.dataset.status = b.status;
  badge.textContent = b.status;
  li.append(badge, a);
  return li;
}

async function refresh() {
  try {
    const r = await fetch('/api/v1/broadcasts', {headers: {Accept: 'application/json'}});
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    const {broadcasts} = await r.json();
    list.replaceChildren(...broadcasts.map(item));
    empty.hidden = broadcasts.length > 0;
  } catch (e) {
    console.warn(`livehouse: cannot list broadcasts: ${e}`);
  }
}

async function main() {
  for (;;) {
    await refresh();
    await new Promise((resolve) => setTimeout(resolve, REFRESH_MS));
  }
}

main();
