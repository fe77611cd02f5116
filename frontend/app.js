// Minimal demo page: one EventSource pane and a publish form. Server text is
// only ever inserted with textContent.
const $ = (id) => document.getElementById(id);
const topic = 'demo';
let count = 0, reconnects = 0, gaps = 0, opened = false;

function setState(s) {
  $('state').textContent = s;
  $('state').dataset.state = s;
}

function addLine(text) {
  const li = document.createElement('li');
  li.textContent = text;
  const list = $('events');
  list.append(li);
  while (list.children.length > 200) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
}

// Resume from the start the first time, so the page shows the history.
const es = new EventSource(`events?topic=${topic}&lastEventId=0`);
es.onopen = () => {
  if (opened) reconnects++;
  opened = true;
  $('reconnects').textContent = reconnects;
  setState('open');
};
es.onerror = () => {
  setState(es.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
};
function onEvent(e) {
  count++;
  $('count').textContent = count;
  $('lastid').textContent = e.lastEventId || '(none)';
  addLine(`${e.lastEventId}  ${e.type === 'message' ? '' : e.type + ': '}${e.data}`);
}
es.onmessage = onEvent;
es.addEventListener('gap', (e) => {
  gaps++;
  $('gaps').textContent = gaps;
  addLine(`gap: ${e.data}`);
});

$('publish').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const body = new URLSearchParams({ topic, data: $('data').value });
  if ($('event').value) body.set('event', $('event').value);
  $('status').textContent = 'publishing...';
  try {
    const r = await fetch('publish', {
      method: 'POST',
      headers: { Authorization: `Bearer ${$('token').value}` },
      body,
    });
    const text = await r.text();
    $('status').textContent = r.ok ? `published ${JSON.parse(text).id}` : `${r.status}: ${text}`;
  } catch (e) {
    $('status').textContent = `the backend is not reachable (${e.message})`;
  }
});
