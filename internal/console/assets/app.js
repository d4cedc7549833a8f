// Parley console. Plain JavaScript, no dependencies, no build step.
//
// Security rules of this file: everything shown is built with createElement/textContent
// (never innerHTML); credentials live in sessionStorage and memory only and go out as an
// Authorization header with credentials: 'omit' (no cookies, no browser auth prompt).
'use strict';

(function () {
  const KEY = 'parley.console.credentials';
  const state = {
    user: '', pass: '', account: '',
    stream: null,       // AbortController of the event stream
    retry: null,        // reconnect timer
    view: null,         // the mounted view: {refresh, onChange}
    pending: null,      // debounce timer of a refresh
  };

  // ---- DOM helpers -------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  // h builds an element: h('a', {href: '#'}, 'text', child, ...). Strings become text nodes.
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k in el && typeof v !== 'string') el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    append(el, children);
    return el;
  }

  function append(el, ...children) {
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function fill(el, ...children) {
    el.replaceChildren();
    return append(el, ...children);
  }

  let uid = 0;
  // field returns a label and a control tied together.
  function field(labelText, control) {
    if (!control.id) control.id = 'f' + (++uid);
    return [h('label', {for: control.id}, labelText), control];
  }

  function badge(text) {
    return h('span', {class: 'badge ' + String(text || '').toLowerCase()}, text || '—');
  }

  function when(s) {
    if (!s) return '—';
    const d = new Date(s);
    return isNaN(d) ? String(s) : d.toISOString().replace('T', ' ').replace('.000Z', 'Z');
  }

  function table(headers, rows, empty) {
    if (!rows.length) return h('p', {class: 'note'}, empty || 'Nothing yet.');
    return h('table', {},
      h('thead', {}, h('tr', {}, headers.map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', {}, rows));
  }

  function flash(el, text, bad) {
    fill(el, text ? h('div', {class: bad ? 'flash bad' : 'flash', role: 'status'}, text) : null);
  }

  function pretty(s) {
    if (s === null || s === undefined) return '';
    if (typeof s !== 'string') return JSON.stringify(s, null, 2);
    try { return JSON.stringify(JSON.parse(s), null, 2); } catch (e) { return s; }
  }

  // ---- the API ---------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || ('HTTP ' + status));
      this.status = status;
      this.code = body && body.code;
    }
  }

  function authHeader() {
    const bytes = new TextEncoder().encode(state.user + ':' + state.pass);
    let bin = '';
    for (const b of bytes) bin += String.fromCharCode(b);
    return 'Basic ' + btoa(bin);
  }

  // api sends one request. opts: form (object: form-encoded body), json (raw JSON text),
  // headers, blob (return the response as a Blob).
  async function api(method, path, opts) {
    opts = opts || {};
    const headers = {Authorization: authHeader(), Accept: 'application/json'};
    let body;
    if (opts.form) {
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(opts.form)) {
        if (v === undefined || v === null || v === '') continue;
        for (const x of [].concat(v)) p.append(k, x);
      }
      body = p;
    } else if (opts.json !== undefined) {
      body = opts.json;
      headers['Content-Type'] = 'application/json';
    }
    Object.assign(headers, opts.headers || {});
    const res = await fetch(path, {method, headers, body, credentials: 'omit', cache: 'no-store', redirect: 'error'});
    if (res.status === 401 && state.account) {
      signOut('Your credentials were refused: ' + (await errorText(res)));
      throw new ApiError(401, {message: 'signed out'});
    }
    if (!res.ok) {
      let b = null;
      try { b = await res.json(); } catch (e) { /* not JSON */ }
      throw new ApiError(res.status, b);
    }
    if (opts.blob) return res.blob();
    if (res.status === 204) return null;
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  }

  async function errorText(res) {
    try { const b = await res.json(); return b.message || ('HTTP ' + res.status); } catch (e) { return 'HTTP ' + res.status; }
  }

  // list reads up to max items of a paged list (following meta.next_page_url).
  async function list(path, key, max) {
    max = max || 500;
    let out = [];
    let next = path;
    while (next && out.length < max) {
      const page = await api('GET', next);
      out = out.concat(page[key] || []);
      const u = page.meta && page.meta.next_page_url;
      next = u ? (new URL(u, location.href).pathname + new URL(u, location.href).search) : null;
    }
    return out;
  }

  // missing reports whether e says that the endpoint itself does not exist (an older server).
  function missing(e) { return e instanceof ApiError && (e.status === 404 || e.status === 405); }

  // ---- sign in and out -------------------------------------------------------------

  async function signIn(user, pass) {
    state.user = user; state.pass = pass;
    const res = await fetch('/v1/Services?PageSize=1', {headers: {Authorization: authHeader(), Accept: 'application/json'},
      credentials: 'omit', cache: 'no-store'});
    if (!res.ok) {
      state.user = state.pass = '';
      throw new Error(await errorText(res));
    }
    state.account = user;
    sessionStorage.setItem(KEY, JSON.stringify({user, pass}));
    $('signin').hidden = true;
    $('nav').hidden = false;
    $('session').hidden = false;
    $('view').hidden = false;
    $('who').textContent = user;
    connect();
    if (!location.hash || location.hash === '#') location.hash = '#/conversations';
    else route();
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY);
    state.user = state.pass = state.account = '';
    if (state.stream) state.stream.abort();
    state.stream = null;
    clearTimeout(state.retry);
    state.view = null;
    fill($('view'));
    fill($('feed'));
    $('view').hidden = true;
    $('nav').hidden = true;
    $('session').hidden = true;
    $('signin').hidden = false;
    $('signin-pass').value = '';
    $('signin-error').textContent = message || '';
    $('signin-user').focus();
  }

  // ---- the live event stream -------------------------------------------------------

  function setLive(on, text) {
    const el = $('live');
    el.textContent = text;
    el.className = 'live ' + (on ? 'on' : 'off');
  }

  // connect reads GET /parley/v1/Events with fetch (EventSource cannot send the
  // Authorization header) and reconnects when it ends.
  async function connect() {
    if (state.stream) state.stream.abort();
    const ctl = new AbortController();
    state.stream = ctl;
    try {
      const res = await fetch('/parley/v1/Events', {headers: {Authorization: authHeader(), Accept: 'text/event-stream'},
        credentials: 'omit', cache: 'no-store', signal: ctl.signal});
      if (res.status === 401) { signOut('Your credentials were refused: ' + await errorText(res)); return; }
      if (!res.ok || !res.body) throw new Error('HTTP ' + res.status);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        buf += value.replace(/\r\n?/g, '\n');
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          dispatch(buf.slice(0, i));
          buf = buf.slice(i + 2);
        }
      }
    } catch (e) {
      if (ctl.signal.aborted) return;
    }
    if (state.stream !== ctl || !state.account) return;
    setLive(false, 'reconnecting…');
    state.retry = setTimeout(connect, 2000);
  }

  function dispatch(block) {
    let event = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const j = line.indexOf(':');
      const k = j < 0 ? line : line.slice(0, j);
      const v = j < 0 ? '' : line.slice(j + 1).replace(/^ /, '');
      if (k === 'event') event = v;
      else if (k === 'data') data.push(v);
    }
    if (event === 'ready') {
      setLive(true, 'live');
      scheduleRefresh(); // catch up on what changed while disconnected
    } else if (event === 'change') {
      let c;
      try { c = JSON.parse(data.join('\n')); } catch (e) { return; }
      addFeed(c);
      if (state.view && state.view.onChange(c)) scheduleRefresh();
    } else if (event === 'dropped') {
      setLive(false, 'fell behind, reconnecting…');
    }
  }

  // short abbreviates a SID for the narrow event feed (the full one is in the title).
  function short(sid) { return sid && sid.length > 12 ? sid.slice(0, 2) + '…' + sid.slice(-6) : sid; }

  function addFeed(c) {
    const feed = $('feed');
    const sids = [c.conversation_sid, c.message_sid || c.participant_sid].filter(Boolean);
    feed.prepend(h('li', {title: sids.join(' ')}, h('time', {}, when(c.time).slice(11)), h('strong', {}, c.type.replace(/^parley\./, '')),
      ' ', sids.map(short).join(' '), c.identity ? ' ' + c.identity : '', c.state && c.state !== 'active' ? ' → ' + c.state : ''));
    while (feed.children.length > 50) feed.lastChild.remove();
  }

  function scheduleRefresh() {
    clearTimeout(state.pending);
    state.pending = setTimeout(() => { if (state.view) state.view.refresh(); }, 120);
  }

  // ---- routing ---------------------------------------------------------------------

  function route() {
    if (!state.account) return;
    const hash = location.hash.replace(/^#/, '') || '/conversations';
    const [path, query] = hash.split('?');
    const q = new URLSearchParams(query || '');
    const parts = path.split('/').filter(Boolean);
    const views = {conversations: conversationsView, deliveries: deliveriesView, outbox: outboxView,
      requests: requestsView, faults: faultsView, clock: clockView, admin: adminView};
    let make = views[parts[0]] || conversationsView;
    if (parts[0] === 'conversations' && parts[1]) make = (root) => conversationView(parts[1], q.get('service') || '')(root);
    for (const a of document.querySelectorAll('nav a')) {
      if (a.getAttribute('href') === '#/' + (parts[0] || 'conversations')) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    const root = $('view');
    fill(root);
    state.view = make(root, q);
    state.view.refresh();
    const heading = root.querySelector('h2');
    if (heading) { heading.tabIndex = -1; heading.focus({preventScroll: true}); }
  }

  function base(service) { return service ? '/v1/Services/' + encodeURIComponent(service) : '/v1'; }

  function guard(el, fn) {
    return async function (ev) {
      if (ev) ev.preventDefault();
      const btn = ev && ev.submitter;
      if (btn) btn.disabled = true;
      try { await fn(ev); } catch (e) { if (el) flash(el, e.message, true); } finally { if (btn) btn.disabled = false; }
    };
  }

  function notAvailable(el, what) {
    fill(el, h('p', {class: 'note'}, 'This Parley server has no ' + what + ' endpoint.'));
  }

  // ---- conversations ---------------------------------------------------------------

  function conversationsView(root) {
    const msg = h('div');
    const serviceSel = h('select', {name: 'service'}, h('option', {value: ''}, 'Default service'));
    const search = h('input', {type: 'search', name: 'q', placeholder: 'SID, unique or friendly name, identity, address', size: 40});
    const out = h('div', {'aria-live': 'polite'});
    const fname = h('input', {name: 'FriendlyName'});
    const uname = h('input', {name: 'UniqueName'});
    let conversations = [];
    let byParticipant = [];
    let services = null;

    const create = h('form', {class: 'row', 'aria-label': 'Create a conversation', onsubmit: guard(msg, async () => {
      const c = await api('POST', base(serviceSel.value) + '/Conversations', {form: {FriendlyName: fname.value, UniqueName: uname.value}});
      fname.value = uname.value = '';
      flash(msg, 'Created ' + c.sid);
    })}, h('div', {}, field('Friendly name', fname)), h('div', {}, field('Unique name', uname)), h('button', {type: 'submit'}, 'Create conversation'));

    append(root,
      h('div', {class: 'toolbar'}, h('h2', {}, 'Conversations'),
        h('div', {class: 'row'}, h('div', {}, field('Service', serviceSel)), h('div', {class: 'grow'}, field('Search', search)))),
      msg,
      h('section', {class: 'card', 'aria-label': 'Conversation list'}, out),
      h('section', {class: 'card'}, h('h3', {}, 'New conversation'), create));

    serviceSel.addEventListener('change', () => refresh());
    let searchTimer = null;
    search.addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(searchParticipants, 200); });

    async function searchParticipants() {
      const q = search.value.trim();
      byParticipant = [];
      if (q) {
        const key = /^(\+|whatsapp:|messenger:)/i.test(q) ? 'Address' : 'Identity';
        try {
          byParticipant = await list(base(serviceSel.value) + '/ParticipantConversations?' + key + '=' + encodeURIComponent(q), 'conversations', 200);
        } catch (e) { byParticipant = []; }
      }
      draw();
    }

    function draw() {
      const q = search.value.trim().toLowerCase();
      const hit = new Set(byParticipant.map((p) => p.conversation_sid));
      const rows = conversations.filter((c) => !q || hit.has(c.sid) || [c.sid, c.unique_name, c.friendly_name].some((s) => s && s.toLowerCase().includes(q)));
      fill(out, table(['Conversation', 'Friendly name', 'Unique name', 'State', 'Created'], rows.map((c) =>
        h('tr', {'data-sid': c.sid},
          h('td', {}, h('a', {href: '#/conversations/' + c.sid + (serviceSel.value ? '?service=' + serviceSel.value : ''), class: 'mono'}, c.sid)),
          h('td', {}, c.friendly_name || '—'), h('td', {}, c.unique_name || '—'), h('td', {}, badge(c.state)), h('td', {}, when(c.date_created)))),
      q ? 'No conversation matches “' + search.value + '”.' : 'No conversations yet.'));
    }

    async function refresh() {
      if (!services) {
        try {
          services = await list('/v1/Services?PageSize=50', 'services', 200);
          for (const s of services) serviceSel.append(h('option', {value: s.sid}, s.friendly_name + ' (' + s.sid + ')'));
        } catch (e) { services = []; }
      }
      try {
        conversations = (await list(base(serviceSel.value) + '/Conversations?PageSize=100', 'conversations', 1000)).reverse();
        if (search.value.trim()) await searchParticipants(); else draw();
      } catch (e) { flash(msg, e.message, true); }
    }

    return {refresh, onChange: (c) => /^onConversation|^onParticipant|reset|snapshot/.test(c.type)};
  }

  // ---- one conversation ------------------------------------------------------------

  function conversationView(sid, service) {
    return (root) => {
      const path = base(service) + '/Conversations/' + encodeURIComponent(sid);
      const msg = h('div');
      const info = h('div');
      const people = h('div');
      const timeline = h('ol', {class: 'timeline', 'aria-label': 'Messages'});
      const author = h('select', {name: 'Author'});
      const body = h('textarea', {name: 'Body', rows: 3});
      const hooks = h('input', {type: 'checkbox', name: 'webhooks'});
      let participants = [];

      const send = h('form', {class: 'stack', 'aria-label': 'Send a message', onsubmit: guard(msg, async () => {
        const m = await api('POST', path + '/Messages', {form: {Author: author.value, Body: body.value},
          headers: hooks.checked ? {'X-Twilio-Webhook-Enabled': 'true'} : {}});
        body.value = '';
        flash(msg, 'Sent message ' + m.sid + ' (index ' + m.index + ')');
      })}, field('Send as', author), field('Message', body),
      h('label', {class: 'inline'}, hooks, ' Fire webhooks (X-Twilio-Webhook-Enabled)'),
      h('p', {}, h('button', {type: 'submit'}, 'Send')));

      const pid = h('input', {name: 'Identity'});
      const paddr = h('input', {name: 'MessagingBinding.Address', placeholder: '+15551230000'});
      const pproxy = h('input', {name: 'MessagingBinding.ProxyAddress', placeholder: '+15559870000'});
      const add = h('form', {class: 'row', 'aria-label': 'Add a participant', onsubmit: guard(msg, async () => {
        const p = await api('POST', path + '/Participants', {form: {Identity: pid.value,
          'MessagingBinding.Address': paddr.value, 'MessagingBinding.ProxyAddress': pproxy.value}});
        pid.value = paddr.value = pproxy.value = '';
        flash(msg, 'Added participant ' + p.sid);
      })}, h('div', {}, field('Chat identity', pid)), h('div', {}, field('or SMS/WhatsApp address', paddr)),
      h('div', {}, field('Proxy address', pproxy)), h('button', {type: 'submit'}, 'Add participant'));

      const from = h('input', {name: 'From', placeholder: '+15551230000'});
      const to = h('input', {name: 'To', placeholder: '+15559870000'});
      const inBody = h('input', {name: 'Body', size: 30});
      const inbound = h('form', {class: 'row', 'aria-label': 'Simulate an inbound SMS', onsubmit: guard(msg, async () => {
        try {
          const r = await api('POST', '/parley/v1/Inbound', {form: {From: from.value, To: to.value, Body: inBody.value}});
          inBody.value = '';
          flash(msg, 'Inbound message ' + (r.message_sid || '') + ' in ' + (r.conversation_sid || ''));
        } catch (e) {
          if (missing(e)) throw new Error(e.message + ' (does this Parley server have /parley/v1/Inbound?)');
          throw e;
        }
      })}, h('div', {}, field('From', from)), h('div', {}, field('To', to)), h('div', {}, field('Body', inBody)),
      h('button', {type: 'submit'}, 'Simulate inbound SMS'));

      append(root,
        h('p', {}, h('a', {href: '#/conversations'}, '← All conversations')),
        h('h2', {}, 'Conversation ', h('span', {class: 'mono'}, sid)),
        msg,
        h('div', {class: 'cols'},
          h('div', {},
            h('section', {class: 'card', 'aria-label': 'Details'}, info),
            h('section', {class: 'card', 'aria-labelledby': 'parts-h'}, h('h3', {id: 'parts-h'}, 'Participants'), people,
              h('h3', {}, 'Add a participant'), add),
            h('section', {class: 'card', 'aria-labelledby': 'in-h'}, h('h3', {id: 'in-h'}, 'Simulate an inbound SMS/WhatsApp message'), inbound)),
          h('div', {},
            h('section', {class: 'card', 'aria-labelledby': 'msgs-h'}, h('h3', {id: 'msgs-h'}, 'Messages'), timeline),
            h('section', {class: 'card', 'aria-labelledby': 'send-h'}, h('h3', {id: 'send-h'}, 'Send a message'), send))));

      function name(p) {
        if (!p) return '?';
        return p.identity || (p.messaging_binding && p.messaging_binding.address) || p.sid;
      }

      async function refresh() {
        let c;
        try { c = await api('GET', path); } catch (e) {
          flash(msg, e.status === 404 ? 'Conversation ' + sid + ' does not exist (any more).' : e.message, true);
          return;
        }
        const timers = c.timers || {};
        fill(info, h('dl', {class: 'kv'},
          h('dt', {}, 'Friendly name'), h('dd', {}, c.friendly_name || '—'),
          h('dt', {}, 'Unique name'), h('dd', {}, c.unique_name || '—'),
          h('dt', {}, 'State'), h('dd', {id: 'conversation-state'}, badge(c.state)),
          h('dt', {}, 'Service'), h('dd', {class: 'mono'}, c.chat_service_sid),
          h('dt', {}, 'Created'), h('dd', {}, when(c.date_created)),
          h('dt', {}, 'Updated'), h('dd', {}, when(c.date_updated)),
          h('dt', {}, 'Timers'), h('dd', {}, 'inactive at ' + when(timers.date_inactive) + ', closed at ' + when(timers.date_closed)),
          h('dt', {}, 'Attributes'), h('dd', {}, h('pre', {}, pretty(c.attributes)))));

        participants = await list(path + '/Participants?PageSize=100', 'participants', 1000);
        const byId = new Map(participants.map((p) => [p.sid, p]));
        const keep = author.value;
        fill(author, participants.map((p) => h('option', {value: name(p)}, name(p) + ' (' + p.sid + ')')), h('option', {value: 'system'}, 'system (no participant)'));
        if (keep) author.value = keep;
        const sms = participants.find((p) => p.messaging_binding && p.messaging_binding.address);
        if (sms && !from.value) { from.value = sms.messaging_binding.address; to.value = sms.messaging_binding.proxy_address || ''; }
        fill(people, table(['Participant', 'Binding', 'Role', 'Read horizon', 'Attributes', ''], participants.map((p) => {
          const b = p.messaging_binding;
          return h('tr', {},
            h('td', {}, h('strong', {}, name(p)), h('br'), h('span', {class: 'mono small'}, p.sid)),
            h('td', {}, b ? [b.type, ' ', b.address || '', b.proxy_address ? ' via ' + b.proxy_address : '', b.projected_address ? ' as ' + b.projected_address : ''] : 'chat'),
            h('td', {class: 'mono small'}, p.role_sid || '—'),
            h('td', {}, p.last_read_message_index === null ? '—' : ['#' + p.last_read_message_index, h('br'), when(p.last_read_timestamp)]),
            h('td', {}, p.attributes && p.attributes !== '{}' ? h('code', {class: 'small'}, p.attributes) : '—'),
            h('td', {}, h('button', {type: 'button', class: 'danger', 'aria-label': 'Remove ' + name(p), onclick: guard(msg, async () => {
              await api('DELETE', path + '/Participants/' + encodeURIComponent(p.sid));
              flash(msg, 'Removed ' + name(p));
            })}, 'Remove')));
        }), 'No participants.'));

        const page = await api('GET', path + '/Messages?Order=desc&PageSize=50');
        const messages = (page.messages || []).reverse();
        const receipts = await Promise.all(messages.map((m) =>
          list(path + '/Messages/' + encodeURIComponent(m.sid) + '/Receipts?PageSize=100', 'delivery_receipts', 200).catch(() => [])));
        const atBottom = timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 40;
        fill(timeline, messages.length ? messages.map((m, i) => h('li', {class: 'msg', 'data-sid': m.sid},
          h('header', {}, h('span', {class: 'author'}, m.author || '—'), h('span', {}, '#' + m.index), h('time', {}, when(m.date_created)),
            h('span', {class: 'mono'}, m.sid), m.delivery ? h('span', {}, 'delivery to ' + m.delivery.total + ': sent ' + m.delivery.sent + ', delivered ' + m.delivery.delivered + ', read ' + m.delivery.read + ', failed ' + m.delivery.failed) : null),
          h('div', {class: 'body'}, m.body === null ? h('em', {}, '(no body)') : m.body),
          m.attributes && m.attributes !== '{}' ? h('details', {}, h('summary', {}, 'Attributes'), h('pre', {}, pretty(m.attributes))) : null,
          receipts[i].length ? h('div', {class: 'receipts', 'aria-label': 'Delivery receipts'}, 'Receipts: ',
            receipts[i].map((r) => h('span', {}, name(byId.get(r.participant_sid)) + ' ', badge(r.status), r.error_code ? ' error ' + r.error_code : ''))) : null))
          : h('li', {class: 'note'}, 'No messages yet.'));
        if (atBottom) timeline.scrollTop = timeline.scrollHeight;
      }

      return {refresh, onChange: (c) => c.conversation_sid === sid || /clock|reset|snapshot/.test(c.type)};
    };
  }

  // ---- webhook deliveries ----------------------------------------------------------

  function deliveriesView(root) {
    const msg = h('div');
    const out = h('div');
    const open = new Set(); // the deliveries whose details are open (kept across refreshes)
    const status = h('select', {name: 'Status'}, ['', 'pending', 'delivered', 'failed'].map((s) => h('option', {value: s}, s || 'any')));
    status.addEventListener('change', () => refresh());
    append(root, h('div', {class: 'toolbar'}, h('h2', {}, 'Webhook deliveries'),
      h('div', {class: 'row'}, h('div', {}, field('Status', status)), h('button', {type: 'button', class: 'secondary', onclick: () => refresh()}, 'Refresh'))),
    h('p', {class: 'note'}, 'Every post-event webhook Parley sent or will send, newest first: the signed form parameters, each attempt with the request as sent and the application\'s answer, and a Resend button for finished deliveries. Open a row for details.'),
    msg, h('section', {class: 'card'}, out));

    const base = (sid) => '/parley/v1/Webhooks/Deliveries/' + encodeURIComponent(sid);

    // attemptView shows one attempt: when, outcome, duration, the request as sent and the answer.
    function attemptView(a) {
      const req = a.request || {};
      const headers = req.headers || {};
      return h('section', {class: 'attempt', 'data-attempt': String(a.attempt)},
        h('h4', {}, 'Attempt ' + a.attempt + ' · ' + when(a.date_created) + ' · ',
          a.response_code ? badge(String(a.response_code)) : badge('no answer'), ' · ' + a.duration_ms + ' ms'),
        h('dl', {class: 'kv'},
          h('dt', {}, 'Error'), h('dd', {class: 'attempt-error'}, a.error || '—'),
          h('dt', {}, 'Request'), h('dd', {class: 'mono'}, (req.method || '') + ' ' + (req.url || '')),
          h('dt', {}, 'Headers'), h('dd', {}, table(['Header', 'Value'], Object.keys(headers).sort().map((k) =>
            h('tr', {}, h('td', {class: 'mono'}, k), h('td', {class: 'mono'}, headers[k]))), 'None.')),
          h('dt', {}, 'Form body'), h('dd', {}, h('pre', {class: 'attempt-body'}, req.body || '(none)')),
          h('dt', {}, 'Answer'), h('dd', {}, a.response_code === null ? 'none' : h('pre', {class: 'attempt-response'}, a.response_body || '(empty)'))));
    }

    // loadAttempts fills box with the delivery's attempt history.
    async function loadAttempts(box, sid) {
      try {
        const d = await api('GET', base(sid));
        const xs = d.attempt_history || [];
        fill(box, xs.length ? xs.map(attemptView) : h('p', {class: 'note'}, 'No attempt has finished yet.'));
      } catch (e) { fill(box, h('p', {class: 'note'}, 'Attempts unavailable: ' + e.message)); }
    }

    async function resend(sid, button) {
      button.disabled = true;
      try {
        const d = await api('POST', base(sid) + '/Resend');
        open.add(d.sid);
        flash(msg, 'Resent ' + sid + ' as ' + d.sid + '.');
        await refresh();
      } catch (e) { flash(msg, e.message, true); button.disabled = false; }
    }

    function deliveryView(d) {
      const box = h('div', {class: 'attempts', 'aria-label': 'Attempts'});
      const finished = d.status === 'delivered' || d.status === 'failed';
      const button = h('button', {type: 'button', class: 'secondary', 'aria-label': 'Resend ' + d.sid}, 'Resend');
      button.addEventListener('click', () => resend(d.sid, button));
      const el = h('details', {class: 'msg', 'data-sid': d.sid},
        h('summary', {}, when(d.date_created), ' ', h('strong', {}, d.event_type), ' → ', d.method, ' ', d.webhook_url, ' ', badge(d.status),
          ' ', d.attempts + ' attempt' + (d.attempts === 1 ? '' : 's'), d.last_response_code ? ', last answer ' + d.last_response_code : '',
          d.resent_from ? ', resent from ' + d.resent_from : ''),
        h('dl', {class: 'kv'},
          h('dt', {}, 'Delivery'), h('dd', {class: 'mono'}, d.sid),
          d.resent_from ? [h('dt', {}, 'Resent from'), h('dd', {class: 'mono'}, d.resent_from)] : null,
          h('dt', {}, 'Scope'), h('dd', {}, d.scope + (d.webhook_sid ? ' ' + d.webhook_sid : '')),
          h('dt', {}, 'Conversation'), h('dd', {class: 'mono'}, d.conversation_sid || '—'),
          h('dt', {}, 'Last answer'), h('dd', {}, d.last_response_code ? String(d.last_response_code) : 'none yet'),
          h('dt', {}, 'Last error'), h('dd', {}, d.last_error || '—'),
          h('dt', {}, 'Next attempt'), h('dd', {}, when(d.next_attempt_at)),
          h('dt', {}, 'Delivered'), h('dd', {}, when(d.date_delivered)),
          h('dt', {}, 'Parameters'), h('dd', {}, h('p', {class: 'note'}, 'Signed with X-Twilio-Signature (HMAC-SHA1 of the URL and these parameters with the account\'s auth token); each attempt adds RetryCount.'),
            table(['Parameter', 'Value'], Object.keys(d.parameters || {}).sort().map((k) => h('tr', {}, h('td', {class: 'mono'}, k), h('td', {}, d.parameters[k])))))),
        finished ? h('div', {class: 'row'}, button, h('span', {class: 'note'}, 'Sends the same event again as a new delivery (new SID and idempotency token), with retries.')) : null,
        h('h3', {}, 'Attempts'), box);
      el.addEventListener('toggle', () => {
        if (el.open) { open.add(d.sid); loadAttempts(box, d.sid); } else open.delete(d.sid);
      });
      if (open.has(d.sid)) el.open = true; // fires toggle, which loads the attempts
      return el;
    }

    async function refresh() {
      let items;
      try {
        items = await list('/parley/v1/Webhooks/Deliveries?PageSize=100' + (status.value ? '&Status=' + status.value : ''), 'deliveries', 500);
      } catch (e) { if (missing(e)) notAvailable(out, 'webhook delivery log'); else flash(msg, e.message, true); return; }
      items.reverse();
      fill(out, items.length ? items.map(deliveryView)
        : h('p', {class: 'note'}, 'No webhook deliveries. Configure a post-event webhook URL and make a change with X-Twilio-Webhook-Enabled: true (or from an SDK or SMS).'));
    }
    return {refresh, onChange: (c) => c.fires_webhooks || /webhook|reset|snapshot/.test(c.type)};
  }

  // ---- outbox ----------------------------------------------------------------------

  function outboxView(root) {
    const msg = h('div');
    const out = h('div');
    const to = h('input', {name: 'To', type: 'search', placeholder: '+15551230000'});
    to.addEventListener('change', () => refresh());
    append(root, h('div', {class: 'toolbar'}, h('h2', {}, 'SMS/WhatsApp outbox'), h('div', {class: 'row'}, h('div', {}, field('To', to)))),
      h('p', {class: 'note'}, 'What the log carrier “sent” to SMS and WhatsApp participants, newest first.'),
      msg, h('section', {class: 'card'}, out));
    async function refresh() {
      let items;
      try { items = await list('/parley/v1/Outbox?PageSize=100' + (to.value ? '&To=' + encodeURIComponent(to.value) : ''), 'messages', 500); } catch (e) {
        if (missing(e)) notAvailable(out, 'outbox'); else flash(msg, e.message, true); return;
      }
      items.reverse();
      fill(out, table(['Time', 'Channel', 'From', 'To', 'Author', 'Body', 'Conversation'], items.map((e) => h('tr', {},
        h('td', {}, when(e.date_created)), h('td', {}, e.channel), h('td', {}, e.from), h('td', {}, e.to), h('td', {}, e.author),
        h('td', {}, e.body === null ? '' : e.body),
        h('td', {}, h('a', {class: 'mono', href: '#/conversations/' + e.conversation_sid + '?service=' + e.chat_service_sid}, e.conversation_sid)))),
      'The outbox is empty.'));
    }
    return {refresh, onChange: (c) => /^onMessage|deliverySettled|outbox|reset|snapshot/.test(c.type)};
  }

  // ---- request log -----------------------------------------------------------------

  function requestsView(root) {
    const msg = h('div');
    const out = h('div');
    const method = h('select', {name: 'Method'}, ['', 'GET', 'POST', 'DELETE'].map((m) => h('option', {value: m}, m || 'any')));
    const status = h('input', {name: 'Status', size: 5, inputmode: 'numeric'});
    const prefix = h('input', {name: 'PathPrefix', size: 30, placeholder: '/v1/Conversations'});
    const filters = h('form', {class: 'row', 'aria-label': 'Filter requests', onsubmit: (ev) => { ev.preventDefault(); refresh(); }},
      h('div', {}, field('Method', method)), h('div', {}, field('Status', status)), h('div', {}, field('Path prefix', prefix)),
      h('button', {type: 'submit'}, 'Filter'));
    append(root, h('div', {class: 'toolbar'}, h('h2', {}, 'Request log')), h('section', {class: 'card'}, filters), msg, h('section', {class: 'card'}, out));
    async function refresh() {
      const q = new URLSearchParams({PageSize: '100'});
      if (method.value) q.set('Method', method.value);
      if (status.value) q.set('Status', status.value);
      if (prefix.value) q.set('PathPrefix', prefix.value);
      let items;
      try { items = await list('/parley/v1/Requests?' + q, 'requests', 300); } catch (e) {
        if (missing(e)) notAvailable(out, 'request log (/parley/v1/Requests)'); else flash(msg, e.message, true); return;
      }
      fill(out, table(['Time', 'Method', 'Path', 'Status', 'Error', 'ms', 'Parameters'], items.map((r) => { const ps = r.parameters || {}; return h('tr', {},
        h('td', {}, when(r.time)), h('td', {}, r.method), h('td', {class: 'mono'}, r.path),
        h('td', {}, h('span', {class: 'badge ' + (r.status < 400 ? 'ok' : 'bad')}, String(r.status))), h('td', {}, r.error_code ? String(r.error_code) : ''), h('td', {}, String(r.duration_ms === undefined ? '' : r.duration_ms)),
        h('td', {}, Object.keys(ps).length ? h('details', {}, h('summary', {}, Object.keys(ps).length + (Object.keys(ps).length === 1 ? ' parameter' : ' parameters')), h('pre', {}, pretty(ps))) : '')); }),
      'No requests match.'));
    }
    return {refresh, onChange: () => true};
  }

  // ---- faults ----------------------------------------------------------------------

  function faultsView(root) {
    const msg = h('div');
    const out = h('div');
    const f = {};
    const input = (name, attrs) => (f[name] = h('input', Object.assign({name}, attrs || {})));
    const apiForm = h('form', {class: 'row', 'aria-label': 'Fail API requests', onsubmit: guard(msg, async () => {
      const r = await api('POST', '/parley/v1/Faults', {form: {Method: f.Method.value, Path: f.Path.value, Status: f.Status.value,
        Code: f.Code.value, Message: f.Message.value, Delay: f.Delay.value, Count: f.Count.value}});
      flash(msg, 'Fault ' + r.sid + ' armed');
      refresh();
    })}, h('div', {}, field('Method', input('Method', {size: 6, placeholder: 'POST'}))),
    h('div', {}, field('Path', input('Path', {size: 28, placeholder: '/v1/Conversations'}))),
    h('div', {}, field('Status', input('Status', {size: 4, placeholder: '503'}))),
    h('div', {}, field('Code', input('Code', {size: 6, placeholder: '20503'}))),
    h('div', {}, field('Message', input('Message', {size: 18}))),
    h('div', {}, field('or Delay', input('Delay', {size: 6, placeholder: 'PT2S'}))),
    h('div', {}, field('Count', input('Count', {size: 3, placeholder: '1'}))),
    h('button', {type: 'submit'}, 'Add API fault'));
    const target = h('select', {name: 'Target'}, h('option', {value: 'webhook'}, 'webhook'), h('option', {value: 'carrier'}, 'carrier'));
    const tUrl = h('input', {name: 'Url', size: 28});
    const tStatus = h('input', {name: 'Status', size: 4, placeholder: '500'});
    const tTimeout = h('input', {type: 'checkbox', name: 'Timeout'});
    const tCount = h('input', {name: 'Count', size: 3, placeholder: '1'});
    const outForm = h('form', {class: 'row', 'aria-label': 'Fail outgoing calls', onsubmit: guard(msg, async () => {
      const r = await api('POST', '/parley/v1/Faults', {form: {Target: target.value, Url: tUrl.value, Status: tStatus.value,
        Timeout: tTimeout.checked ? 'true' : '', Count: tCount.value}});
      flash(msg, 'Fault ' + r.sid + ' armed');
      refresh();
    })}, h('div', {}, field('Target', target)), h('div', {}, field('URL (optional)', tUrl)), h('div', {}, field('Status', tStatus)),
    h('div', {}, h('label', {class: 'inline'}, tTimeout, ' time out')), h('div', {}, field('Count', tCount)), h('button', {type: 'submit'}, 'Add outgoing fault'));
    append(root, h('div', {class: 'toolbar'}, h('h2', {}, 'Faults')),
      h('p', {class: 'note'}, 'Make the next matching requests fail, so that you can test how your application copes.'),
      msg, h('section', {class: 'card'}, h('h3', {}, 'Armed faults'), out),
      h('section', {class: 'card'}, h('h3', {}, 'Fail API requests'), apiForm),
      h('section', {class: 'card'}, h('h3', {}, 'Fail webhooks or the SMS carrier'), outForm));
    async function refresh() {
      let items;
      try { items = await list('/parley/v1/Faults?PageSize=100', 'faults', 300); } catch (e) {
        if (missing(e)) notAvailable(out, 'faults (/parley/v1/Faults)'); else flash(msg, e.message, true); return;
      }
      fill(out, table(['Fault', 'Matches', 'Effect', 'Remaining', ''], items.map((x) => h('tr', {},
        h('td', {class: 'mono'}, x.sid),
        h('td', {}, x.target && x.target !== 'api' ? x.target + (x.target_url ? ' ' + x.target_url : '') : (x.method || '*') + ' ' + (x.path || '*')),
        h('td', {}, x.delay ? 'delay ' + x.delay : x.timeout ? 'timeout' : [x.status, x.code ? ' / ' + x.code : '', x.message ? ' ' + x.message : ''].join('')),
        h('td', {}, x.remaining === undefined || x.remaining === null ? '' : String(x.remaining) + (x.count ? ' of ' + x.count : '')),
        h('td', {}, h('button', {type: 'button', class: 'danger', 'aria-label': 'Delete fault ' + x.sid, onclick: guard(msg, async () => {
          await api('DELETE', '/parley/v1/Faults/' + encodeURIComponent(x.sid));
          refresh();
        })}, 'Delete')))), 'No faults armed.'));
    }
    return {refresh, onChange: (c) => /fault|reset|snapshot/.test(c.type)};
  }

  // ---- clock -----------------------------------------------------------------------

  function clockView(root) {
    const msg = h('div');
    const now = h('div', {class: 'clock-now', 'aria-live': 'polite', id: 'clock-now'});
    const offset = h('div', {class: 'note'});
    const adv = h('select', {name: 'Advance'}, ['PT1M', 'PT10M', 'PT1H', 'PT2H', 'P1D', 'P7D'].map((d) => h('option', {value: d}, d)));
    adv.value = 'PT1H';
    const custom = h('input', {name: 'custom', size: 10, placeholder: 'PT90M'});
    const setNow = h('input', {name: 'Now', size: 24, placeholder: '2030-01-01T00:00:00Z'});
    const timers = h('div');
    const advance = h('form', {class: 'row', 'aria-label': 'Advance the clock', onsubmit: guard(msg, async () => {
      show(await api('POST', '/parley/v1/Clock', {form: {Advance: custom.value || adv.value}}));
      custom.value = '';
    })}, h('div', {}, field('Advance by', adv)), h('div', {}, field('or by (ISO 8601)', custom)), h('button', {type: 'submit'}, 'Advance'));
    const set = h('form', {class: 'row', 'aria-label': 'Set the clock', onsubmit: guard(msg, async () => {
      show(await api('POST', '/parley/v1/Clock', {form: {Now: setNow.value}}));
    })}, h('div', {}, field('Set to (RFC 3339)', setNow)), h('button', {type: 'submit'}, 'Set'));
    append(root, h('div', {class: 'toolbar'}, h('h2', {}, 'Clock')),
      h('p', {class: 'note'}, 'Parley\'s clock drives conversation timers (inactive, closed) and retries. Move it forward and watch the timers fire in the live events and in the table below.'),
      msg, h('section', {class: 'card'}, now, offset, h('h3', {}, 'Advance'), advance, h('h3', {}, 'Set'), set),
      h('section', {class: 'card'}, h('h3', {}, 'Conversations with timers (default service)'), timers));
    function show(c) {
      now.textContent = when(c.now);
      offset.textContent = 'offset from real time: ' + (c.offset || 'none');
    }
    async function refresh() {
      try { show(await api('GET', '/parley/v1/Clock')); } catch (e) {
        if (missing(e)) { fill(now); notAvailable(offset, 'clock (/parley/v1/Clock)'); advance.hidden = set.hidden = true; } else flash(msg, e.message, true);
      }
      try {
        const cs = (await list('/v1/Conversations?PageSize=100', 'conversations', 500)).filter((c) => c.timers && (c.timers.date_inactive || c.timers.date_closed) || c.state !== 'active');
        fill(timers, table(['Conversation', 'State', 'Inactive at', 'Closed at'], cs.map((c) => h('tr', {},
          h('td', {}, h('a', {class: 'mono', href: '#/conversations/' + c.sid}, c.sid), ' ', c.friendly_name || ''), h('td', {}, badge(c.state)),
          h('td', {}, when(c.timers.date_inactive)), h('td', {}, when(c.timers.date_closed)))), 'No conversation has a timer.'));
      } catch (e) { flash(msg, e.message, true); }
    }
    return {refresh, onChange: (c) => /clock|StateUpdated|^onConversation|reset|snapshot/.test(c.type)};
  }

  // ---- reset and snapshots ---------------------------------------------------------

  function adminView(root) {
    const msg = h('div');
    const sure = h('input', {type: 'checkbox', name: 'sure'});
    const file = h('input', {type: 'file', name: 'snapshot', accept: 'application/json,.json'});
    const reset = h('form', {'aria-label': 'Reset', onsubmit: guard(msg, async () => {
      if (!sure.checked) throw new Error('Tick the box to confirm the reset.');
      await api('POST', '/parley/v1/Reset');
      sure.checked = false;
      flash(msg, 'The account was reset.');
    })}, h('p', {}, 'Delete the state of this account (conversations, messages and the rest) and start afresh.'),
    h('p', {}, h('label', {class: 'inline'}, sure, ' I understand that this cannot be undone')), h('button', {type: 'submit', class: 'danger'}, 'Reset account'));
    const download = h('button', {type: 'button', id: 'snapshot-download', onclick: guard(msg, async () => {
      const blob = await api('GET', '/parley/v1/Snapshot', {blob: true});
      const a = h('a', {href: URL.createObjectURL(blob), download: 'parley-snapshot-' + new Date().toISOString().replace(/[:.]/g, '-') + '.json'});
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
      flash(msg, 'Snapshot downloaded (' + blob.size + ' bytes).');
    })}, 'Download snapshot');
    const restore = h('form', {'aria-label': 'Restore a snapshot', onsubmit: guard(msg, async () => {
      if (!file.files.length) throw new Error('Choose a snapshot file first.');
      await api('POST', '/parley/v1/Snapshot', {json: await file.files[0].text()});
      flash(msg, 'Snapshot restored.');
    })}, field('Snapshot file', file), h('p', {}, h('button', {type: 'submit'}, 'Restore snapshot')));
    append(root, h('div', {class: 'toolbar'}, h('h2', {}, 'Reset & snapshots')), msg,
      h('section', {class: 'card'}, h('h3', {}, 'Snapshot'), h('p', {}, 'Save the whole state of this account as a JSON document, or put a saved one back.'), h('p', {}, download), restore),
      h('section', {class: 'card'}, h('h3', {}, 'Reset'), reset));
    return {refresh: () => {}, onChange: () => false};
  }

  // ---- start -----------------------------------------------------------------------

  function start() {
    $('signin-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      $('signin-error').textContent = '';
      const btn = ev.submitter;
      if (btn) btn.disabled = true;
      try {
        await signIn($('signin-user').value.trim(), $('signin-pass').value);
      } catch (e) {
        $('signin-error').textContent = e.message;
      } finally { if (btn) btn.disabled = false; }
    });
    $('signout').addEventListener('click', () => signOut(''));
    window.addEventListener('hashchange', route);
    const saved = sessionStorage.getItem(KEY);
    if (saved) {
      try {
        const c = JSON.parse(saved);
        signIn(c.user, c.pass).catch((e) => signOut(e.message));
        return;
      } catch (e) { sessionStorage.removeItem(KEY); }
    }
    $('signin-user').focus();
  }

  start();
})();
