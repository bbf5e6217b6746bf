// The dashboard's one page, rendered on the server: plain HTML tables that read without
// JavaScript, plus a small inline script that takes fresh `<main>` content from `/events` and
// counts claims' time left down. Pure: data in, text out. Every value from git (task ids,
// subjects, ERROR lines: pushed content) goes through `esc`.
import { createHash } from 'node:crypto';
import type { ActivityRow, DashboardJson } from '../core/dashboard.js';

const esc = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const short = (oid: string) => oid.slice(0, 10);
const shortRef = (ref: string) => ref.replace(/^refs\/heads\//, '');

/** A duration in seconds as `1h02m` or `4m05s`. */
export function formatLeft(seconds: number): string {
  if (seconds <= 0) return 'expired';
  return seconds >= 3600 ? `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m` : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

const time = (iso: string) => `<time datetime="${esc(iso)}">${esc(iso.replace('T', ' ').replace('Z', ' UTC'))}</time>`;

function table(id: string, caption: string, headers: string[], rows: string[], empty: string): string {
  const head = `<tr>${headers.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr>`;
  const body = rows.length > 0 ? rows.join('') : `<tr><td colspan="${headers.length}">${esc(empty)}</td></tr>`;
  return `<table id="${id}"><caption>${esc(caption)}</caption><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

const errorList = (errors: readonly string[]) => (errors.length > 0 ? `<ul class="errors">${errors.map((e) => `<li><code>${esc(e)}</code></li>`).join('')}</ul>` : '');

function activityRow(r: ActivityRow): string {
  const label = { push: 'push', landed: 'landed', ejected: 'ejected', rejected: 'rejected' }[r.kind];
  return `<tr class="ev-${r.kind}"><td class="nw">${time(r.time)}</td><th scope="row" class="nw"><span class="tag tag-${r.kind}">${label}</span></th><td class="nw">${esc(r.agent)}</td><td class="nw"><code>${esc(shortRef(r.ref))}</code></td><td>${esc(r.detail)}${errorList(r.errors)}</td></tr>`;
}

/** The content of `<main>`: every section of the dashboard. Also what `/events` sends. */
export function formatDashboardMain(d: DashboardJson): string {
  const h = d.health;
  const redTest = (t: DashboardJson['health']['tests'][number]) =>
    `<li><code>${esc(t.test)}</code> red since ${time(t.seen)}: ${
      t.culprit ? `turned red by <strong>${esc(t.culprit.agent)}</strong> in <code>${esc(short(t.culprit.oid))}</code> (${esc(t.culprit.subject)})` : t.state === 'bisecting' ? 'looking for the commit that turned it red' : 'red as far back as the search went'
    }</li>`;
  const health =
    h.state === 'red'
      ? `<div id="health" class="health red"><p><strong>Main is red</strong> (tests failing) since ${h.since ? time(h.since) : 'an unknown time'}.</p><ul>${h.tests.map(redTest).join('')}</ul></div>`
      : h.state === 'green'
        ? `<div id="health" class="health green"><p><strong>Main is green</strong> (tests pass) since ${h.since ? time(h.since) : 'an unknown time'}.</p></div>`
        : `<div id="health" class="health unknown"><p><strong>Main: unknown</strong> (${esc(h.source)}).</p></div>`;

  const active = d.claims.filter((c) => c.active);
  const expired = d.claims.filter((c) => !c.active);
  const claimRow = (c: DashboardJson['claims'][number]) =>
    `<tr data-task="${esc(c.task)}"><th scope="row">${esc(c.task)}</th><td class="nw">${esc(c.agent)}</td><td>${c.files.length > 0 ? c.files.map((f) => `<code>${esc(f)}</code>`).join(', ') : 'none'}</td><td class="left nw" data-expires="${esc(c.expires)}">${esc(formatLeft(c.left))}</td><td class="nw">${time(c.expires)}</td><td>${esc(c.description ?? '')}</td></tr>`;
  const claims = table('claims', `Claims and leases on ${shortRef(d.ref)}: ${active.length} active${expired.length ? `, ${expired.length} expired` : ''}`, ['Task', 'Holder', 'Leased files', 'Time left', 'Expires', 'Description'], [...active, ...expired].map(claimRow), 'No claims.');

  const batch = d.batch
    ? `<p id="batch"><strong>Batch under test:</strong> ${d.batch.entries.length} ${d.batch.entries.length === 1 ? 'entry' : 'entries'} merged onto <code>${esc(short(d.batch.onto))}</code>, testing since ${time(d.batch.since)}.</p>`
    : '<p id="batch">No batch under test.</p>';
  const queue = table(
    'queue',
    `Landing queue: ${d.queue.length} ${d.queue.length === 1 ? 'entry' : 'entries'}, in landing order`,
    ['Position', 'State', 'Agent', 'Topic', 'Commit', 'Subject', 'Committed'],
    d.queue.map((q, i) => `<tr data-ref="${esc(q.ref)}"><th scope="row">${i + 1}</th><td class="nw">${q.testing ? '<strong>testing</strong>' : 'waiting'}</td><td class="nw">${esc(q.agent)}</td><td>${esc(q.topic)}</td><td><code>${esc(short(q.oid))}</code></td><td>${esc(q.subject)}</td><td class="nw">${time(q.time)}</td></tr>`),
    'The queue is empty.',
  );

  const activity = table('activity', 'Recent pushes, landings, ejections and rejections (newest first)', ['Time', 'Event', 'Agent', 'Ref', 'Detail'], d.activity.map(activityRow), 'Nothing yet.');

  const agents = table('agents', 'Agents by last activity', ['Agent', 'Last active', 'What'], d.agents.map((a) => `<tr><th scope="row" class="nw">${esc(a.agent)}</th><td class="nw">${time(a.last)}</td><td>${esc(a.what)}</td></tr>`), 'No agent has been seen yet.');

  return [
    `<p id="where">Claims ref <code>${esc(d.ref)}</code> at <code>${d.oid ? esc(short(d.oid)) : 'none yet'}</code>; read at ${time(d.now)}.</p>`,
    `<section aria-labelledby="h-health"><h2 id="h-health">Tests on main</h2>${health}</section>`,
    `<section aria-labelledby="h-claims"><h2 id="h-claims">Claims and leases</h2>${claims}</section>`,
    `<section aria-labelledby="h-queue"><h2 id="h-queue">Landing queue</h2>${batch}${queue}</section>`,
    `<section aria-labelledby="h-activity"><h2 id="h-activity">Recent activity</h2>${activity}</section>`,
    `<section aria-labelledby="h-agents"><h2 id="h-agents">Agents</h2>${agents}</section>`,
  ].join('\n');
}

const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:76rem;padding:0 1rem 2rem;color:#1b1b1b;background:#fff}
h1{font-size:1.4rem;margin:1rem 0 .2rem}h2{font-size:1.1rem;margin:1.4rem 0 .4rem}
table{border-collapse:collapse;width:100%}caption{text-align:left;font-weight:600;padding:.2rem 0}
th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}thead th{background:#f3f3f3}
code{font:13px ui-monospace,monospace}.errors{margin:.3rem 0 0;padding-left:1.1rem;color:#7a0000}
.health{padding:.1rem .8rem;border-left:.4rem solid #888}.health ul{margin-top:0}.health.green{border-color:#17803d;background:#eefaf1}
.health.red{border-color:#b00020;background:#fdeeee}.tag{font-weight:600}.tag-rejected,.tag-ejected{color:#9b0000}.tag-landed{color:#17603d}
#live{color:#555;font-size:.9rem}.nw{white-space:nowrap}
`;

const SCRIPT = `
(function(){
  var live=document.getElementById('live');
  function tick(){
    var now=Date.now();
    document.querySelectorAll('td.left[data-expires]').forEach(function(td){
      var s=Math.floor((Date.parse(td.getAttribute('data-expires'))-now)/1000);
      td.textContent=s<=0?'expired':s>=3600?Math.floor(s/3600)+'h'+String(Math.floor(s%3600/60)).padStart(2,'0')+'m':Math.floor(s/60)+'m'+String(s%60).padStart(2,'0')+'s';
    });
  }
  setInterval(tick,1000);
  if(!window.EventSource)return;
  var es=new EventSource('events?since='+document.querySelector('main').getAttribute('data-event'));
  es.addEventListener('refresh',function(e){
    document.querySelector('main').innerHTML=e.data;tick();
    live.textContent='Live: watching for ref changes; updated '+new Date().toISOString().slice(11,19)+' UTC.';
  });
  es.onopen=function(){live.textContent='Live: watching for ref changes.';};
  es.onerror=function(){live.textContent='Live updates interrupted; retrying.';};
})();
`;

/** The SHA-256 of the inline script and style, for the page's Content-Security-Policy. */
export const PAGE_CSP = `default-src 'none'; script-src 'sha256-${createHash('sha256').update(SCRIPT).digest('base64')}'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/** The whole page; `eventId` is the last refresh sent on `/events`, so the page's stream starts after it. */
export function formatDashboardPage(d: DashboardJson, eventId: number): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>agent-hooks: ${esc(d.repo)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>agent-hooks dashboard: ${esc(d.repo)}</h1><p id="live" role="status" aria-live="polite">Static view; live updates need JavaScript.</p></header>
<main data-event="${eventId}">
${formatDashboardMain(d)}
</main>
<footer><p>Read-only. JSON: <a href="api/status">api/status</a>. Live updates: <code>events</code> (server-sent events, sent on every ref change).</p></footer>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
