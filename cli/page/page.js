// SPDX-License-Identifier: MIT
//
// The script of evcount-cli serve's page (index.html): it asks for the
// bearer token when the server wants one (kept in sessionStorage: for this
// tab only), fills the customer picker from /customers, and draws what
// /counts answers as an SVG bar chart beside a table. The query lives in
// the page's URL (the parameters of /counts), so that a view can be shared
// and the history walked. Nothing is loaded from anywhere but this server.
'use strict';

const TOKEN_KEY = 'evcount-token';
// Past this many buckets neither bars nor rows help: the page says so.
const MAX_BUCKETS = 5000;
const QUERY_KEYS = ['customer_id', 'start', 'end', 'bucket', 'tz'];
const SVG_NS = 'http://www.w3.org/2000/svg';

const $ = (id) => document.getElementById(id);
const numbers = new Intl.NumberFormat('en');
const compact = new Intl.NumberFormat('en', {
	notation: 'compact',
	maximumFractionDigits: 1,
});

const authMeta = document.querySelector('meta[name="evcount-auth"]');
const tokenWanted = authMeta !== null && authMeta.content === 'bearer';
let token = tokenWanted ? sessionStorage.getItem(TOKEN_KEY) : null;

// What is drawn: the /counts answer, its customer, the bar picked.
let shown = null;
// Answers to older queries are dropped when a newer one was asked.
let asked = 0;
// The range the page filled in itself, which a change of customer replaces.
let rangeIsDefault = false;

class TokenRefused extends Error {}

// GET a JSON endpoint of this server, relative to the page.
async function api(path, params) {
	const url = new URL(path, document.baseURI);
	if (params) url.search = params.toString();
	const headers = { Accept: 'application/json' };
	if (token) headers.Authorization = `Bearer ${token}`;
	const response = await fetch(url, { headers, cache: 'no-store' });
	if (response.status === 401) throw new TokenRefused('token refused');
	let body = null;
	try {
		body = await response.json();
	} catch {
		// Not JSON (a proxy's page, say): the status says enough.
	}
	if (!response.ok) {
		throw new Error(body && body.error ? body.error
			: `${response.status} ${response.statusText}`);
	}
	return body;
}

function setStatus(text, isError = false) {
	const status = $('status');
	status.textContent = text;
	status.classList.toggle('error', isError);
}

function failed(error) {
	if (error instanceof TokenRefused) {
		token = null;
		sessionStorage.removeItem(TOKEN_KEY);
		askToken(true);
		return;
	}
	setStatus(error.message, true);
}

// ---- the token ----------------------------------------------------------

function askToken(refused) {
	$('query').hidden = true;
	$('token-why').textContent = refused
		? 'The server refused that token: enter it again. The page keeps it for this tab only.'
		: 'This server needs its bearer token. The page keeps it for this tab only.';
	setStatus(refused ? 'The server refused the token.' : '', refused);
	$('token-form').hidden = false;
	$('token').value = '';
	$('token').focus();
}

$('token-form').addEventListener('submit', (event) => {
	event.preventDefault();
	token = $('token').value.trim();
	sessionStorage.setItem(TOKEN_KEY, token);
	$('token-form').hidden = true;
	loadCustomers(true);
});

// ---- the form -------------------------------------------------------------

// The option of `select` with `value`, added with `label` if missing (a
// shared URL may name what the lists lack).
function option(select, value, label) {
	for (const o of select.options) {
		if (o.value === value) return o;
	}
	const o = new Option(label, value);
	select.add(o);
	return o;
}

function fillCustomers(customers) {
	const select = $('customer');
	select.replaceChildren();
	for (const c of customers) {
		const o = new Option(`${c.customer_id} (${numbers.format(c.total)} events)`,
			c.customer_id);
		o.dataset.first = c.first_minute || '';
		o.dataset.last = c.last_minute || '';
		select.add(o);
	}
}

function fillZones() {
	const zones = typeof Intl.supportedValuesOf === 'function'
		? Intl.supportedValuesOf('timeZone') : [];
	const list = $('zones');
	list.replaceChildren(new Option('UTC'));
	for (const z of zones) {
		if (z !== 'UTC') list.append(new Option(z));
	}
}

// The days a customer's events span, as the range when none was typed.
function defaultRange() {
	const o = $('customer').selectedOptions[0];
	if (!o || !o.dataset.first) return;
	if (!rangeIsDefault && ($('start').value || $('end').value)) return;
	const end = new Date(o.dataset.last);
	end.setUTCDate(end.getUTCDate() + 1);
	$('start').value = o.dataset.first.slice(0, 10);
	$('end').value = end.toISOString().slice(0, 10);
	rangeIsDefault = true;
}

$('customer').addEventListener('change', defaultRange);
for (const id of ['start', 'end']) {
	$(id).addEventListener('input', () => { rangeIsDefault = false; });
}

function queryFromForm() {
	const q = new URLSearchParams();
	q.set('customer_id', $('customer').value);
	q.set('start', $('start').value.trim());
	q.set('end', $('end').value.trim());
	q.set('bucket', $('bucket').value);
	q.set('tz', $('tz').value.trim());
	return q;
}

function formFromQuery(q) {
	const id = q.get('customer_id');
	option($('customer'), id, `${id} (not in the store)`).selected = true;
	$('start').value = q.get('start') || '';
	$('end').value = q.get('end') || '';
	const bucket = q.get('bucket') || 'hour';
	option($('bucket'), bucket, bucket).selected = true;
	$('tz').value = q.get('tz') || 'UTC';
	rangeIsDefault = false;
}

// The query of the page's URL, if it holds one.
function urlQuery() {
	const url = new URLSearchParams(location.search);
	if (!url.get('customer_id')) return null;
	const q = new URLSearchParams();
	for (const key of QUERY_KEYS) {
		if (url.has(key)) q.set(key, url.get(key));
	}
	return q;
}

$('query').addEventListener('submit', (event) => {
	event.preventDefault();
	const q = queryFromForm();
	if (location.search !== `?${q}`) history.pushState(null, '', `?${q}`);
	run(q);
});

window.addEventListener('popstate', () => {
	const q = urlQuery();
	if (q) {
		formFromQuery(q);
		run(q);
	} else {
		$('result').hidden = true;
		shown = null;
	}
});

async function loadCustomers(afterToken) {
	setStatus('Loading the customers…');
	let data;
	try {
		data = await api('customers');
	} catch (error) {
		failed(error);
		return;
	}
	fillCustomers(data.customers);
	$('query').hidden = false;
	const q = urlQuery();
	if (q) {
		formFromQuery(q);
		run(q);
	} else {
		defaultRange();
		setStatus(data.customers.length === 1 ? '1 customer.'
			: `${numbers.format(data.customers.length)} customers.`);
	}
	if (afterToken) $('customer').focus();
}

// ---- the answer -----------------------------------------------------------

const idleDetails = $('details').textContent.trim().replace(/\s+/g, ' ');

async function run(q) {
	const mine = ++asked;
	setStatus('Counting…');
	let data;
	try {
		data = await api('counts', q);
	} catch (error) {
		if (mine === asked) failed(error);
		return;
	}
	if (mine !== asked) return;
	const customer = data.customers[0];
	shown = { data, customer, picked: -1 };
	render();
	const n = customer.buckets.length;
	setStatus(`${customer.customer_id}: ${numbers.format(customer.total)} events`
		+ ` in ${numbers.format(n)} bucket${n === 1 ? '' : 's'}.`);
}

function maxCount(buckets) {
	let max = 0;
	for (const b of buckets) max = Math.max(max, b.count);
	return max;
}

function describe(b) {
	return `${b.start} to ${b.end}: ${numbers.format(b.count)} `
		+ `event${b.count === 1 ? '' : 's'}${b.partial ? ' (partial bucket)' : ''}`;
}

function render() {
	const { data, customer } = shown;
	const n = customer.buckets.length;
	const tooMany = n > MAX_BUCKETS;
	$('result').hidden = false;
	$('result-title').textContent = `Customer ${customer.customer_id}`;
	document.title = `${customer.customer_id} - evcount`;
	$('result-summary').textContent = `${numbers.format(customer.total)} events`
		+ ` from ${data.start} to ${data.end} in ${numbers.format(n)}`
		+ ` bucket${n === 1 ? '' : 's'} (width ${data.bucket}, zone ${data.tz})`
		+ (tooMany ? `: too many to draw (at most ${numbers.format(MAX_BUCKETS)});`
			+ ' choose a wider bucket or a shorter range.' : '.')
		// A quiet hour and a late pipeline look alike but for this.
		+ (data.as_of ? ` Counts as of ${data.as_of} (the store's last ingest).`
			: ' Nothing ingested yet.');
	document.querySelector('.result').hidden = tooMany;
	if (tooMany) return;
	drawChart();
	fillTable();
}

function svg(name, attributes, parent) {
	const node = document.createElementNS(SVG_NS, name);
	for (const [key, value] of Object.entries(attributes)) {
		node.setAttribute(key, String(value));
	}
	if (parent) parent.append(node);
	return node;
}

function svgText(parent, x, y, text, className) {
	const node = svg('text', { x, y, class: className }, parent);
	node.textContent = text;
	return node;
}

// The plot's geometry at the figure's width: bars sit on the baseline,
// the largest reaching the top.
function geometry(n) {
	const width = Math.max(160, Math.floor($('chart').parentElement.clientWidth));
	const height = Math.round(Math.min(420, Math.max(200, width * 0.4)));
	const left = 44, right = 8, top = 12, bottom = 28;
	const plotWidth = width - left - right;
	return {
		width, height, left, top,
		plotWidth,
		plotHeight: height - top - bottom,
		step: plotWidth / n,
	};
}

function drawChart() {
	const { customer } = shown;
	const buckets = customer.buckets;
	const n = buckets.length;
	const max = maxCount(buckets);
	const chart = $('chart');
	const g = geometry(Math.max(n, 1));
	chart.replaceChildren();
	chart.setAttribute('width', g.width);
	chart.setAttribute('height', g.height);
	chart.setAttribute('viewBox', `0 0 ${g.width} ${g.height}`);
	svg('title', { id: 'chart-title' }, chart).textContent =
		`Events of ${customer.customer_id} by bucket`;
	svg('desc', { id: 'chart-desc' }, chart).textContent =
		`${n} bars, the largest ${numbers.format(max)} events; `
		+ 'the table beside it holds the same counts.';

	const baseline = g.top + g.plotHeight;
	for (const fraction of [0, 0.5, 1]) {
		const y = baseline - fraction * g.plotHeight;
		svg('line', {
			x1: g.left, x2: g.left + g.plotWidth, y1: y, y2: y,
			class: fraction === 0 ? 'axis' : 'grid',
		}, chart);
		if (max > 0 || fraction === 0) {
			svgText(chart, g.left - 6, y + 4, compact.format(max * fraction),
				'tick tick-y');
		}
	}
	if (n > 0) {
		svgText(chart, g.left, g.height - 8, buckets[0].start.slice(0, 16),
			'tick tick-first');
		if (n > 1) {
			svgText(chart, g.left + g.plotWidth, g.height - 8,
				buckets[n - 1].start.slice(0, 16), 'tick tick-last');
		}
	}

	const bars = svg('g', { class: 'bars' }, chart);
	const gap = g.step >= 4 ? 1 : 0;
	buckets.forEach((b, i) => {
		const height = max > 0 ? (b.count / max) * g.plotHeight : 0;
		const bar = svg('rect', {
			x: g.left + i * g.step,
			y: baseline - height,
			width: Math.max(g.step - gap, 0.5),
			height,
			class: b.partial ? 'bar partial' : 'bar',
			'data-index': i,
			'aria-label': describe(b),
		}, bars);
		svg('title', {}, bar).textContent = describe(b);
	});
	if (shown.picked >= 0) pick(shown.picked);
}

function fillTable() {
	const body = $('table').tBodies[0];
	const rows = shown.customer.buckets.map((b, i) => {
		const row = document.createElement('tr');
		row.dataset.index = i;
		if (b.partial) row.className = 'partial';
		for (const [text, className] of [[b.start, ''], [b.end, 'col-end'],
			[numbers.format(b.count), 'num'],
			[b.partial ? 'partial' : '', 'col-partial']]) {
			const cell = document.createElement('td');
			cell.textContent = text;
			if (className) cell.className = className;
			row.append(cell);
		}
		return row;
	});
	body.replaceChildren(...rows);
	$('table-caption').firstChild.textContent =
		`Counts of ${shown.customer.customer_id} by bucket`;
}

// Pick bar i (-1: none): its details under the chart, it and its row
// highlighted.
function pick(i) {
	const buckets = shown.customer.buckets;
	for (const node of document.querySelectorAll('.active')) {
		node.classList.remove('active');
	}
	shown.picked = i;
	if (i < 0 || i >= buckets.length) {
		$('details').textContent = idleDetails;
		return;
	}
	$('details').textContent = describe(buckets[i]);
	const bar = $('chart').querySelector(`rect[data-index="${i}"]`);
	const row = $('table').querySelector(`tr[data-index="${i}"]`);
	if (bar) bar.classList.add('active');
	if (row) row.classList.add('active');
}

// A bar is picked by where the pointer is, above its bar or not, so that
// a zero or a thin bar is as easy to reach as a tall one.
$('chart').addEventListener('pointermove', (event) => {
	if (!shown) return;
	const n = shown.customer.buckets.length;
	const g = geometry(Math.max(n, 1));
	const box = $('chart').getBoundingClientRect();
	const i = Math.floor((event.clientX - box.left - g.left) / g.step);
	if (i >= 0 && i < n && i !== shown.picked) pick(i);
});

let redraw = 0;
window.addEventListener('resize', () => {
	cancelAnimationFrame(redraw);
	redraw = requestAnimationFrame(() => {
		if (shown && !document.querySelector('.result').hidden) drawChart();
	});
});

// ---- start ----------------------------------------------------------------

fillZones();
if (tokenWanted && !token) {
	askToken(false);
} else {
	loadCustomers(false);
}
