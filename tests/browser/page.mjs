// SPDX-License-Identifier: MIT
//
// serve's page (GET /) in a real browser: headless Chromium, driven with
// playwright-core over the DevTools protocol. Run by tests/test-browser.sh,
// which starts the server with a token over a store it knows.
//
//   node page.mjs
//
// Environment: EVC_BASE (the server, http://127.0.0.1:PORT), EVC_TOKEN,
// EVC_QUERY (the query to make, as URL parameters of /counts), EVC_OUT (a
// directory for the screenshots and Chromium's profile), EVC_PLAYWRIGHT (a
// directory holding node_modules/playwright-core), CHROMIUM (the browser,
// default /usr/bin/chromium).
//
// Prints a line per check, "ok - ..." or "not ok - ..." with the reason,
// and exits 1 if any failed. Chromium is started here, with the flags a
// machine without a display or a sandbox needs, and playwright-core only
// connects to it: it never downloads a browser of its own.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(`${process.env.EVC_PLAYWRIGHT ?? process.cwd()}/`);
const { chromium } = require('playwright-core');

const base = process.env.EVC_BASE;
const token = process.env.EVC_TOKEN;
const query = new URLSearchParams(process.env.EVC_QUERY);
const out = process.env.EVC_OUT;
const browserPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!base || !token || !query.get('customer_id') || !out) {
	console.error('page.mjs: set EVC_BASE, EVC_TOKEN, EVC_QUERY and EVC_OUT');
	process.exit(2);
}

let failures = 0;
function check(name, ok, detail) {
	console.log(`${ok ? 'ok' : 'not ok'} - ${name}`);
	if (!ok) {
		failures++;
		if (detail !== undefined) console.log(`    ${detail}`);
	}
	return ok;
}

// The server's own answer, with the token, to compare the page with.
async function api(path, params) {
	const url = new URL(path, base);
	if (params) url.search = params.toString();
	const r = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
	if (!r.ok) throw new Error(`${url.pathname}: ${r.status} ${await r.text()}`);
	return r.json();
}

// Chromium with a DevTools endpoint on a port of its choosing, which it
// prints on stderr. A first start on a loaded machine (fonts, profile)
// has taken over 30 s: it is given two minutes.
function startChromium(profile) {
	const child = spawn(browserPath, [
		'--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
		'--disable-background-networking', `--user-data-dir=${profile}`,
		'--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0',
		'about:blank',
	], { stdio: ['ignore', 'ignore', 'pipe'] });
	return new Promise((resolve, reject) => {
		let seen = '';
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			reject(new Error(`no DevTools endpoint after 120 s:\n${seen.slice(-2000)}`));
		}, 120000);
		child.stderr.on('data', (chunk) => {
			seen += chunk;
			const m = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
			if (m) {
				clearTimeout(timer);
				// Keep reading, so that a full pipe never blocks it.
				child.stderr.removeAllListeners('data');
				child.stderr.resume();
				resolve({ child, endpoint: m[1] });
			}
		});
		child.on('exit', (code, signal) => {
			clearTimeout(timer);
			reject(new Error(`chromium exited (${code ?? signal}):\n${seen.slice(-2000)}`));
		});
	});
}

// Every problem the page reports about itself, and where it goes.
const requests = [];
function watch(page, errors) {
	page.on('request', (r) => requests.push(r.url()));
	page.on('console', (m) => {
		if (m.type() === 'error') errors.push(`console: ${m.text()}`);
	});
	page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
}

// The bars as drawn: their heights in CSS pixels, and their hover text.
function readChart(page) {
	return page.evaluate(() => [...document.querySelectorAll('#chart rect.bar')]
		.map((r) => ({
			height: r.getBoundingClientRect().height,
			title: r.querySelector('title')?.textContent ?? '',
			label: r.getAttribute('aria-label') ?? '',
		})));
}

function readTable(page) {
	return page.evaluate(() => [...document.querySelectorAll('#table tbody tr')]
		.map((tr) => [...tr.cells].map((td) => td.textContent)));
}

// The chart and the table say what /counts says: one bar and one row per
// bucket, in order, bars in proportion to the counts within a pixel.
async function checkView(page, want, when) {
	const buckets = want.customers[0].buckets;
	const bars = await readChart(page);
	check(`${when}: one bar per bucket (${buckets.length})`,
		bars.length === buckets.length, `${bars.length} bars`);
	const max = Math.max(...buckets.map((b) => b.count));
	const tallest = Math.max(...bars.map((b) => b.height));
	const off = bars.map((b, i) => ({
		i, h: b.height, want: max ? (buckets[i].count / max) * tallest : 0,
	})).filter((x) => Math.abs(x.h - x.want) > 1);
	check(`${when}: bar heights in proportion to the counts, within a pixel`,
		bars.length === buckets.length && tallest > 0 && off.length === 0,
		JSON.stringify(off.slice(0, 5)));
	const untitled = bars.filter((b, i) => !b.title.includes(buckets[i].start)
		|| !b.title.replaceAll(',', '').includes(`: ${buckets[i].count} event`)
		|| b.label !== b.title);
	check(`${when}: every bar has hover details (title, aria-label)`,
		bars.length > 0 && untitled.length === 0,
		JSON.stringify(untitled.slice(0, 3)));
	const rows = await readTable(page);
	const wrong = rows.filter((r, i) => !buckets[i] || r[0] !== buckets[i].start
		|| r[1] !== buckets[i].end
		|| Number(r[2].replaceAll(',', '')) !== buckets[i].count
		|| (r[3] === 'partial') !== buckets[i].partial);
	check(`${when}: the table holds the same buckets`,
		rows.length === buckets.length && wrong.length === 0,
		`${rows.length} rows; ${JSON.stringify(wrong.slice(0, 3))}`);
	const summary = await page.evaluate(
		() => document.getElementById('result-summary').textContent);
	check(`${when}: the summary says how fresh the counts are`,
		want.as_of && summary.includes(`as of ${want.as_of}`), summary);
}

// Nothing sticks out of the window, whatever its width (a scroll bar
// included: the layout must fit beside it too).
async function checkWidth(page, width, want) {
	await page.setViewportSize({ width, height: 900 });
	// The chart is redrawn on the next frame after a resize.
	await page.waitForFunction((w) => {
		const svg = document.getElementById('chart');
		return window.innerWidth === w
			&& Number(svg.getAttribute('width')) <= svg.parentElement.clientWidth;
	}, width);
	const { scroll, client, inner } = await page.evaluate(() => ({
		scroll: document.scrollingElement.scrollWidth,
		client: document.documentElement.clientWidth,
		inner: window.innerWidth,
	}));
	check(`${width} px: no horizontal overflow`,
		scroll <= inner && scroll <= client,
		`scrollWidth ${scroll}, clientWidth ${client}, innerWidth ${inner}`);
	await checkView(page, want, `${width} px`);
	await screenshot(page, width);
}

// The whole page at `width`: as tall a window as the page, since a full-page
// capture would crop a scroll bar's width off a layout made without one.
async function screenshot(page, width) {
	// A taller window can reflow the page (no scroll bar): measure again.
	for (let i = 0; i < 3; i++) {
		const height = await page.evaluate(() => document.documentElement.scrollHeight);
		await page.setViewportSize({ width, height });
		await page.waitForFunction((h) => window.innerHeight === h, height);
	}
	await page.screenshot({ path: join(out, `page-${width}.png`) });
	await page.setViewportSize({ width, height: 900 });
}

async function main() {
	mkdirSync(out, { recursive: true });
	const profile = mkdtempSync(join(out, 'profile-'));
	const { child, endpoint } = await startChromium(profile);
	const errors = [];
	let browser = null;
	try {
		browser = await chromium.connectOverCDP(endpoint);
		const want = await api('counts', query);
		const customers = (await api('customers')).customers;
		const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
		const page = await context.newPage();
		watch(page, errors);

		// The page itself needs no token.
		const pageRequests = [];
		page.on('request', (r) => pageRequests.push(r));
		const response = await page.goto(`${base}/`);
		check('GET / answers 200 without a token',
			response.status() === 200
				&& response.request().headers().authorization === undefined,
			`status ${response.status()}`);
		const csp = (await response.allHeaders())['content-security-policy'] ?? '';
		check('GET / has a Content-Security-Policy allowing this server only',
			/default-src 'none'/.test(csp) && /script-src 'self'/.test(csp), csp);
		// It asks for the token, once, with the focus in its field.
		await page.locator('#token-form').waitFor({ state: 'visible' });
		check('the page asks for the token, focus in its field',
			await page.evaluate(() => document.activeElement.id === 'token'));
		await page.keyboard.type(token);
		await page.keyboard.press('Enter');
		await page.locator('#query').waitFor({ state: 'visible' });
		await page.waitForFunction((n) =>
			document.getElementById('customer').options.length === n, customers.length);
		const offered = await page.$$eval('#customer option', (os) => os.map((o) => o.value));
		check('the picker offers the customers of /customers, in order',
			JSON.stringify(offered) === JSON.stringify(customers.map((c) => c.customer_id)),
			offered.join(' '));
		const sent = pageRequests.filter((r) => new URL(r.url()).pathname === '/customers');
		check('/customers is asked with the token as a bearer',
			sent.length > 0 && sent.every((r) =>
				r.headers().authorization === `Bearer ${token}`));

		// Every control has a label; Tab goes through them in reading order.
		const unlabelled = await page.$$eval('input, select, textarea', (els) =>
			els.filter((el) => !el.labels || el.labels.length === 0
				|| !el.labels[0].textContent.trim()).map((el) => el.id));
		check('every form control has a label', unlabelled.length === 0,
			unlabelled.join(' '));
		const order = [await page.evaluate(() => document.activeElement.id)];
		for (let i = 0; i < 5; i++) {
			await page.keyboard.press('Tab');
			order.push(await page.evaluate(() => document.activeElement.id
				|| document.activeElement.textContent.trim()));
		}
		check('Tab goes through the query in order',
			order.join(',') === 'customer,start,end,bucket,tz,Show the counts',
			order.join(','));

		// Pick, fill in, submit.
		await page.selectOption('#customer', query.get('customer_id'));
		await page.fill('#start', query.get('start'));
		await page.fill('#end', query.get('end'));
		await page.selectOption('#bucket', query.get('bucket'));
		await page.fill('#tz', query.get('tz'));
		await page.click('button[type="submit"]:visible');
		const n = want.customers[0].buckets.length;
		await page.waitForFunction((k) =>
			document.querySelectorAll('#chart rect.bar').length === k
			&& document.querySelectorAll('#table tbody tr').length === k, n);
		await checkView(page, want, '1280 px');

		// Hovering a bar tells about its bucket, zeros included.
		const buckets = want.customers[0].buckets;
		const peak = buckets.reduce((best, b, i) => (b.count > buckets[best].count ? i : best), 0);
		await page.hover(`#chart rect.bar[data-index="${peak}"]`);
		const details = await page.textContent('#details');
		check('hovering the tallest bar shows its bucket and count',
			details.includes(buckets[peak].start)
				&& details.replaceAll(',', '').includes(`: ${buckets[peak].count} event`),
			details);

		// The URL holds the query: reloading shows the same view, and so
		// does opening it in a new tab (which asks for the token again).
		const url = new URL(page.url());
		const held = [...query.keys()].filter((k) => url.searchParams.get(k) !== query.get(k));
		check('the URL holds the query', url.pathname === '/' && held.length === 0,
			page.url());
		await page.reload();
		await page.waitForFunction((k) =>
			document.querySelectorAll('#chart rect.bar').length === k, n);
		check('a reload keeps the token for the tab',
			await page.locator('#token-form').isHidden());
		await checkView(page, want, 'reloaded');
		const shared = await (await browser.newContext()).newPage();
		watch(shared, errors);
		await shared.goto(url.href);
		await shared.locator('#token-form').waitFor({ state: 'visible' });
		await shared.fill('#token', token);
		await shared.keyboard.press('Enter');
		await shared.waitForFunction((k) =>
			document.querySelectorAll('#chart rect.bar').length === k, n);
		check('the URL in a new tab, once the token given, shows the view',
			await shared.inputValue('#customer') === query.get('customer_id'));
		await checkView(shared, want, 'shared URL');

		// A wrong token is refused and asked for again. Not watched: the
		// browser reports the 401 on its console, as it should.
		const wrong = await (await browser.newContext()).newPage();
		await wrong.goto(`${base}/`);
		await wrong.fill('#token', `${token}x`);
		await wrong.keyboard.press('Enter');
		await wrong.locator('#token-why', { hasText: 'refused' }).waitFor();
		check('a wrong token is refused, and asked for again',
			await wrong.locator('#query').isHidden()
				&& await wrong.evaluate(() => document.activeElement.id === 'token'
					&& !sessionStorage.getItem('evcount-token')));
		await screenshot(page, 1280);

		// Narrow and wide: nothing overflows, chart and table beside each
		// other when there is room.
		await checkWidth(page, 320, want);
		await checkWidth(page, 1920, want);
		const side = await page.evaluate(() => {
			const chart = document.querySelector('.chart').getBoundingClientRect();
			const table = document.querySelector('.table-wrap').getBoundingClientRect();
			return table.left >= chart.right && table.top < chart.bottom;
		});
		check('1920 px: the table is beside the chart', side);

		const away = requests.filter((u) => !u.startsWith(`${base}/`));
		check('no request leaves the server', requests.length > 0 && away.length === 0,
			away.join(' '));
		check('no console errors', errors.length === 0, errors.join('\n    '));
	} finally {
		// Browser.close shuts Chromium down with its helper processes,
		// which a signal to the main one would leave writing the profile.
		const exited = new Promise((resolve) => {
			if (child.exitCode !== null || child.signalCode !== null) resolve();
			else child.on('exit', resolve);
		});
		if (browser) {
			await browser.newBrowserCDPSession()
				.then((cdp) => cdp.send('Browser.close'))
				.catch(() => child.kill('SIGTERM'));
		} else {
			child.kill('SIGTERM');
		}
		const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
		await exited;
		clearTimeout(timer);
		rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
	}
}

try {
	await main();
} catch (e) {
	check('the page test ran to its end', false, e.stack ?? String(e));
}
process.exit(failures ? 1 : 0);
