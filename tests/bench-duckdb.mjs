// SPDX-License-Identifier: MIT
//
// The peer that bench-counts is measured against: DuckDB answering the
// same questions from its own per-minute table of the same data.
//
//   node bench-duckdb.mjs MINUTES_CSV FROM [RUNS]
//
// MINUTES_CSV is `evcount-cli export --format csv --epoch` of the store
// (customer_id,minute,count); FROM the first day of the 30 (YYYY-MM-DD).
// The table is loaded once, then each query runs twice to warm up and
// RUNS times (default 10), with two threads; the median is printed with
// the rows returned and their total, which must match evcount's. Two
// forms of the table are timed, minutes as TIMESTAMP (date_trunc) and as
// epoch seconds (integer division), and the faster is the baseline.
// Needs @duckdb/node-api under $DUCKDB_NODE_MODULES/node_modules (npm
// install --prefix DIR @duckdb/node-api), else where node resolves it.
import { createRequire } from 'node:module';

const require = createRequire(
	`${process.env.DUCKDB_NODE_MODULES ?? process.cwd()}/`);
const { DuckDBInstance } = require('@duckdb/node-api');

const [csv, from, runsArg] = process.argv.slice(2);
if (!csv || !/^\d{4}-\d{2}-\d{2}$/.test(from ?? '')) {
	console.error('usage: node bench-duckdb.mjs MINUTES_CSV FROM [RUNS]');
	process.exit(2);
}
const runs = Number(runsArg ?? 10);
const start = Date.parse(`${from}T00:00:00Z`) / 1000;
const end = start + 30 * 86400;

const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await db.connect();
await con.run("SET TimeZone = 'UTC'");
const path = csv.replaceAll("'", "''");
await con.run(`CREATE TABLE m_epoch AS SELECT customer_id, minute, count
	FROM read_csv('${path}', header = true, columns = {
		'customer_id': 'VARCHAR', 'minute': 'BIGINT', 'count': 'UBIGINT'})`);
await con.run(`CREATE TABLE m_ts AS SELECT customer_id,
	make_timestamp(minute * 1000000) AS minute, count FROM m_epoch`);

const forms = {
	timestamp: {
		table: 'm_ts',
		day: "date_trunc('day', minute)",
		where: `minute >= make_timestamp(${start}::BIGINT * 1000000) AND
			minute < make_timestamp(${end}::BIGINT * 1000000)`,
	},
	epoch: {
		table: 'm_epoch',
		day: 'minute // 86400',
		where: `minute >= ${start} AND minute < ${end}`,
	},
};

const queries = {
	'all-30d-day': (f) => `SELECT customer_id, ${f.day} AS day,
		sum(count) AS n FROM ${f.table} WHERE ${f.where}
		GROUP BY ALL ORDER BY customer_id, day`,
	'top10-30d-day': (f) => `WITH top AS (
			SELECT customer_id, sum(count) AS t FROM ${f.table}
			WHERE ${f.where} GROUP BY customer_id
			ORDER BY t DESC, customer_id LIMIT 10)
		SELECT customer_id, ${f.day} AS day, sum(count) AS n
		FROM ${f.table} JOIN top USING (customer_id) WHERE ${f.where}
		GROUP BY ALL ORDER BY any_value(t) DESC, customer_id, day`,
};

async function once(sql) {
	const t0 = process.hrtime.bigint();
	const reader = await con.runAndReadAll(sql);
	const rows = reader.getRows();
	let total = 0n;
	const customers = new Set();
	for (const r of rows) {
		customers.add(r[0]);
		total += BigInt(r[2]);
	}
	const ms = Number(process.hrtime.bigint() - t0) / 1e6;
	return { ms, rows: rows.length, customers: customers.size, total };
}

for (const [name, q] of Object.entries(queries)) {
	let best = null;
	for (const [form, f] of Object.entries(forms)) {
		const sql = q(f);
		await once(sql);
		await once(sql);
		const times = [];
		let last;
		for (let i = 0; i < runs; i++) {
			last = await once(sql);
			times.push(last.ms);
		}
		times.sort((a, b) => a - b);
		const p50 = times[Math.floor(runs / 2)];
		console.log(`duckdb ${name} (${form}): ${last.customers} ` +
			`customers, ${last.rows} rows, total ${last.total}: ` +
			`p50 ${p50.toFixed(2)} ms over ${runs} runs`);
		if (!best || p50 < best.p50)
			best = { p50, form };
	}
	console.log(`duckdb ${name}: baseline p50 ${best.p50.toFixed(2)} ms ` +
		`(${best.form})`);
}
