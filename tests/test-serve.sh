#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# End-to-end tests of evcount-cli serve, with curl.
#
#   test-serve.sh PATH-TO-evcount-cli [SOURCE-ROOT]
#
# Starts the server on an ephemeral loopback port over a store built from a
# fixture written here, and checks that /hourly, /counts and /customers
# answer exactly what `hourly --format json`, `counts --format json` and
# `customers --format json` print, that / serves the page built into the
# binary (tests/test-browser.sh runs it in a browser), every error status,
# /metrics and a clean shutdown. The last line is "N passed, M failed"; the
# exit status is non-zero on any failure.
#
# With $EVC_TEST_PG set (tests/pg-run.sh), the same cases run on PostgreSQL
# stores, schemas of that database instead of files; then what only
# PostgreSQL has: its server stopped and started under a running serve
# (503 from /healthz and JSON 500s meanwhile, the same answers after), the
# password of the URI in no log line or body, PGPASSFILE, the postgres://
# form, and ingest --follow into the served store.

set -u

if [ $# -lt 1 ]; then
	echo "usage: $0 PATH-TO-evcount-cli [SOURCE-ROOT]" >&2
	exit 2
fi
CLI=$1
ROOT=${2:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=tests/harness.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/harness.sh"
need curl
CLI=$(abspath "$CLI")
CLI=$(memcheck_shim "$CLI") || exit 1

pid=
# Every server still running, not only the last one started: a case that
# failed before its stop_server leaves its server to the next.
cleanup() {
	local p
	for p in $(jobs -p); do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}
harness_start serve-test

# store NAME: a store of the test's own, a file of $T or, on PostgreSQL, a
# schema of the database of $EVC_TEST_PG.
store() {
	if [ -z "${EVC_TEST_PG:-}" ]; then
		printf '%s' "$T/$1.db"
	elif [[ $EVC_TEST_PG == *\?* ]]; then
		printf '%s&evcount_schema=%s' "$EVC_TEST_PG" "serve_$1"
	else
		printf '%s?evcount_schema=%s' "$EVC_TEST_PG" "serve_$1"
	fi
}
DB=$(store main)

# ---- harness ----------------------------------------------------------------

# get PATH [CURL-ARG...]: GET $base/PATH with the token; leaves the status
# in $code, the body in file body and the headers in file hdr.
get() {
	local path=$1
	shift
	code=$(curl -s -o body -D hdr -w '%{http_code}' \
		-H "Authorization: Bearer $TOKEN" "$@" "$base$path")
}

# query ARG...: GET /hourly with each ARG (name=value) URL-encoded.
query() {
	local args=()
	for a in "$@"; do
		args+=(--data-urlencode "$a")
	done
	get /hourly -G "${args[@]}"
}

# expect_status CODE: the last response had status CODE and a JSON error
# body, whose message matches the extended regex $2 if given.
expect_error() {
	[ "$code" = "$1" ] || bad "status $code, expected $1 ($(cat body))"
	grep -Eq '^\{"error":".*"\}$' body || bad "not a JSON error: $(cat body)"
	if [ $# -ge 2 ] && ! grep -Eq "$2" body; then
		bad "error does not match /$2/: $(cat body)"
	fi
	grep -qi '^content-type: application/json' hdr ||
		bad "error without Content-Type: application/json"
}

# same_as_cli ID START END [--sparse]: /hourly equals hourly --format json.
same_as_cli() {
	local id=$1 start=$2 end=$3 sparse=${4:-}
	local extra=()
	[ -n "$sparse" ] && extra=(sparse=1)
	"$CLI" --db "$DB" hourly --customer-id "$id" --start "$start" \
		--end "$end" --format json $sparse >expect 2>err ||
		bad "hourly failed: $(cat err)"
	query "customer_id=$id" "start=$start" "end=$end" "${extra[@]}"
	[ "$code" = 200 ] || bad "status $code ($(cat body))"
	cmp -s expect body || bad "body differs from the CLI's:
      cli:  $(cat expect)
      http: $(cat body)"
}

# counts ARG...: GET /counts with each ARG (name=value) URL-encoded.
counts() {
	local args=()
	for a in "$@"; do
		args+=(--data-urlencode "$a")
	done
	get /counts -G "${args[@]}"
}

# counts_as_cli "CLI-ARG..." ARG...: /counts with the ARGs equals counts
# --format json with the CLI-ARGs (one word-split string).
counts_as_cli() {
	local cli_args=$1
	shift
	# shellcheck disable=SC2086
	"$CLI" --db "$DB" counts $cli_args --format json >expect 2>err ||
		bad "counts failed: $(cat err)"
	counts "$@"
	[ "$code" = 200 ] || bad "status $code ($(cat body))"
	cmp -s expect body || bad "body differs from the CLI's:
      cli:  $(cat expect)
      http: $(cat body)"
}

metric() {
	awk -v k="$1" '$1 == k { print $2 }' metrics
}

# ---- fixture ----------------------------------------------------------------

# Counts by construction: alice 3 in 10:00, 1 in 10:59, 2 in 11:30 (one
# written with a +02:00 offset), 1 on the next day; bob 1 at 10:15;
# a customer with a quote and one with a non-ASCII letter.
cat >events.csv <<'EOF'
customer_id,event_type,transaction_id,timestamp
alice,INGEST,0c6d1a5e-4b2f-4e1a-9f5e-8f3b2a1c0d01,2021-03-01 10:00:00+00
alice,INGEST,0c6d1a5e-4b2f-4e1a-9f5e-8f3b2a1c0d02,2021-03-01 10:00:59.999+00
alice,INGEST,0c6d1a5e-4b2f-4e1a-9f5e-8f3b2a1c0d03,2021-03-01T10:20:00Z
alice,INGEST,0c6d1a5e-4b2f-4e1a-9f5e-8f3b2a1c0d04,2021-03-01T10:59:00Z
alice,INGEST,0c6d1a5e-4b2f-4e1a-9f5e-8f3b2a1c0d05,2021-03-01T13:30:00+02:00
alice,INGEST,0c6d1a5e-4b2f-4e1a-9f5e-8f3b2a1c0d06,2021-03-01T11:30:30Z
alice,INGEST,0c6d1a5e-4b2f-4e1a-9f5e-8f3b2a1c0d07,2021-03-02T00:00:00Z
bob,INGEST,0c6d1a5e-4b2f-4e1a-9f5e-8f3b2a1c0d08,2021-03-01T10:15:00Z
"q""uote",INGEST,0c6d1a5e-4b2f-4e1a-9f5e-8f3b2a1c0d09,2021-03-01T10:15:00Z
zoë,INGEST,0c6d1a5e-4b2f-4e1a-9f5e-8f3b2a1c0d10,2021-03-01T10:15:00Z
EOF

TOKEN=s3cr3t-$RANDOM$RANDOM-token
printf '%s\n' "$TOKEN" >token

# ---- startup ----------------------------------------------------------------

case_ "serve --ingest: starts on an ephemeral port and becomes ready"
if ! start_server log --db "$DB" serve --listen 127.0.0.1:0 \
	--token-file token --threads 2 --ingest events.csv; then
	bad "no 'listening on' line: $(cat log)"
elif ! wait_ready; then
	bad "/healthz never answered 200: $(cat log)"
fi
grep -q '10 rows counted' log || bad "the ingest summary is missing: $(cat log)"
# On PostgreSQL, the counts are in the store's schema, not in a file.
if [ -n "${EVC_TEST_PG:-}" ]; then
	n=$("$EVC_TEST_PG_CTL" psql -At -c 'SELECT sum(total) FROM serve_main.hour_counts')
	[ "$n" = 10 ] || bad "schema serve_main holds ${n:-no} counts, not 10"
fi
done_
if [ -z "$base" ]; then
	echo "$passed passed, $((failed + 1)) failed"
	exit 1
fi

# ---- /hourly equals the CLI ---------------------------------------------------

case_ "/hourly: whole hours equal hourly --format json"
same_as_cli alice 2021-03-01T10:00:00Z 2021-03-01T12:00:00Z
done_

case_ "/hourly: partial buckets at both ends"
same_as_cli alice 2021-03-01T10:00:30Z 2021-03-01T11:45:10Z
grep -q '"partial":true' body || bad "no partial bucket: $(cat body)"
done_

case_ "/hourly: bare dates, a day of zeros included"
same_as_cli alice 2021-03-01 2021-03-03
done_

case_ "/hourly: sparse=1 equals hourly --sparse"
same_as_cli alice 2021-03-01 2021-03-03 --sparse
grep -q '"count":0' body && bad "sparse output has a zero bucket"
done_

case_ "/hourly: a '+' offset sent as %2B"
same_as_cli alice 2021-03-01T12:00:00+02:00 2021-03-01T14:30:00+02:00
grep -q '"total":6' body || bad "expected total 6: $(cat body)"
done_

case_ "/hourly: ids with a quote and non-ASCII, an unknown id"
same_as_cli 'q"uote' 2021-03-01T10:00:00Z 2021-03-01T11:00:00Z
same_as_cli 'zoë' 2021-03-01T10:00:00Z 2021-03-01T11:00:00Z
same_as_cli nobody 2021-03-01T10:00:00Z 2021-03-01T11:00:00Z
done_

case_ "/hourly: sparse=0 is the dense output"
"$CLI" --db "$DB" hourly --customer-id bob --start 2021-03-01 \
	--end 2021-03-01T12:00:00Z --format json >expect
query customer_id=bob start=2021-03-01 end=2021-03-01T12:00:00Z sparse=0
cmp -s expect body || bad "differs: $(cat body)"
done_

# ---- /counts equals the CLI ---------------------------------------------------

case_ "/counts: several customers, day buckets in a zone"
counts_as_cli "--customer-id alice --customer-id bob --customer-id nobody \
--start 2021-03-01 --end 2021-03-03 --bucket day --tz America/New_York" \
	customer_id=alice customer_id=bob customer_id=nobody start=2021-03-01 \
	end=2021-03-03 bucket=day tz=America/New_York
grep -q '"customer_id":"alice","total":7' body || bad "alice: $(cat body)"
done_

case_ "/counts: all customers, top, sparse, a fixed offset"
counts_as_cli "--all-customers --top 2 --start 2021-03-01T10:00:00Z \
--end 2021-03-01T12:00:00Z --bucket 15m --tz +05:30 --sparse" \
	all_customers=1 top=2 start=2021-03-01T10:00:00Z \
	end=2021-03-01T12:00:00Z bucket=15m tz=+05:30 sparse=1
grep -q '"customers":\[{"customer_id":"alice",' body ||
	bad "alice is not first: $(cat body)"
done_

case_ "/counts: a bare all_customers, ids with a quote and non-ASCII"
counts_as_cli "--all-customers --start 2021-03-01T10:00:00Z \
--end 2021-03-01T11:00:00Z" all_customers=true start=2021-03-01T10:00:00Z \
	end=2021-03-01T11:00:00Z
get '/counts?all_customers&start=2021-03-01T10:00:00Z&end=2021-03-01T11:00:00Z'
cmp -s expect body || bad "bare all_customers differs: $(cat body)"
grep -q '"customer_id":"q\\"uote"' body || bad "quote: $(cat body)"
grep -q '"customer_id":"zoë"' body || bad "zoë: $(cat body)"
done_

case_ "/counts: bounds without an offset are the zone's wall clock"
counts_as_cli "--customer-id alice --start 2021-03-01T05:00:00 \
--end 2021-03-01T07:00:00 --tz America/New_York --bucket all" \
	customer_id=alice start=2021-03-01T05:00:00 end=2021-03-01T07:00:00 \
	tz=America/New_York bucket=all
grep -q '"total":6' body || bad "expected total 6: $(cat body)"
done_

# ---- /customers and the page ---------------------------------------------------

case_ "/customers: the JSON of customers --format json, byte for byte"
"$CLI" --db "$DB" customers --format json >expect 2>err ||
	bad "customers failed: $(cat err)"
get /customers
[ "$code" = 200 ] || bad "status $code ($(cat body))"
grep -qi '^content-type: application/json' hdr || bad "content type: $(cat hdr)"
cmp -s expect body || bad "body differs from the CLI's:
      cli:  $(cat expect)
      http: $(cat body)"
grep -q '"customer_id":"q\\"uote"' body || bad "quote: $(cat body)"
done_

case_ "/customers: no parameters, and the token like the data endpoints"
get '/customers?top=1'
expect_error 400 'unknown parameter \\"top\\": /customers takes none'
code=$(curl -s -o body -D hdr -w '%{http_code}' "$base/customers")
expect_error 401
done_

# page_is FILE PATH TYPE: GET PATH without a token answers FILE's bytes
# (index.html with its auth mark as $auth) with Content-Type TYPE and the
# page's Content-Security-Policy.
page_is() {
	local file=$1 path=$2 type=$3
	code=$(curl -s -o body -D hdr -w '%{http_code}' "$base$path")
	[ "$code" = 200 ] || bad "$path: status $code"
	grep -qi "^content-type: $type"$'\r$' hdr ||
		bad "$path: $(grep -i '^content-type' hdr)"
	grep -qi "^content-security-policy: default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"$'\r$' hdr ||
		bad "$path: $(grep -i '^content-security-policy' hdr || echo no CSP)"
	grep -qi '^x-content-type-options: nosniff' hdr || bad "$path: no nosniff"
	sed "s/@AUTH@/$auth/" "$ROOT/cli/page/$file" | cmp -s - body ||
		bad "$path is not cli/page/$file"
}

case_ "/ and its assets: the page built in, without a token, saying it needs one"
auth=bearer
page_is index.html / 'text/html; charset=utf-8'
grep -q '<meta name="evcount-auth" content="bearer">' body ||
	bad "the page does not ask for a token: $(grep evcount-auth body)"
page_is page.js /assets/page.js 'text/javascript; charset=utf-8'
page_is page.css /assets/page.css 'text/css; charset=utf-8'
code=$(curl -s -I -o hdr -w '%{http_code}' "$base/")
[ "$code" = 200 ] || bad "HEAD /: status $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/")
[ "$code" = 405 ] || bad "POST /: status $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/assets/none.js")
[ "$code" = 401 ] || bad "another path is no page: status $code without a token"
get /assets/none.js
expect_error 404
done_

# ---- errors -------------------------------------------------------------------

case_ "400: missing parameter, named"
query customer_id=alice start=2021-03-01
expect_error 400 'missing parameter \\"end\\"'
query start=2021-03-01 end=2021-03-02
expect_error 400 'customer_id'
done_

case_ "400: malformed timestamp, named"
query customer_id=alice start=2021-02-30 end=2021-03-02
expect_error 400 '^\{"error":"start: '
query customer_id=alice start=2021-03-01 end=yesterday
expect_error 400 '^\{"error":"end: '
# An unencoded '+' is a space once decoded.
get '/hourly?customer_id=alice&start=2021-03-01T12:00:00+02:00&end=2021-03-02'
expect_error 400 'start'
done_

case_ "400: start not before end"
query customer_id=alice start=2021-03-02 end=2021-03-01
expect_error 400 'start is not before end'
query customer_id=alice start=2021-03-01T10:00:10Z end=2021-03-01T10:00:50Z
expect_error 400 'floored to the minute'
done_

case_ "400: duplicated parameter, named"
get '/hourly?customer_id=alice&start=2021-03-01&end=2021-03-02&start=2021-03-01'
expect_error 400 '\\"start\\" given more than once'
get '/hourly?customer_id=alice&customer_id=bob&start=2021-03-01&end=2021-03-02'
expect_error 400 'customer_id'
done_

case_ "400: unknown parameter, empty id, bad sparse, NUL, too wide"
query customer_id=alice start=2021-03-01 end=2021-03-02 customer-id=x
expect_error 400 'unknown parameter'
query customer_id= start=2021-03-01 end=2021-03-02
expect_error 400 'customer_id: empty'
query customer_id=alice start=2021-03-01 end=2021-03-02 sparse=maybe
expect_error 400 'sparse'
get '/hourly?customer_id=al%00ice&start=2021-03-01&end=2021-03-02'
expect_error 400 'NUL'
get '/hourly?customer_id=%ff&start=2021-03-01&end=2021-03-02'
expect_error 400 'UTF-8'
query customer_id=alice start=0000-01-01 end=2099-01-01
expect_error 400 'too wide: [0-9]+ hours, at most 1000000 per query'
done_

case_ "/counts 400: the query's faults, named"
counts start=2021-03-01 end=2021-03-02
expect_error 400 'customer_id'
counts customer_id=alice all_customers=1 start=2021-03-01 end=2021-03-02
expect_error 400 'one or the other'
counts customer_id=alice start=2021-03-01 end=2021-03-02 bucket=7m
expect_error 400 'does not divide a day'
counts customer_id=alice start=2021-03-01 end=2021-03-02 tz=Mars/Base
expect_error 400 'unknown time zone'
counts all_customers=1 top=0 start=2021-03-01 end=2021-03-02
expect_error 400 'top'
counts all_customers=maybe start=2021-03-01 end=2021-03-02
expect_error 400 'all_customers'
counts customer_id=alice start=2021-03-01 end=2021-03-02 bucket=day bucket=day
expect_error 400 '\\"bucket\\" given more than once'
counts all_customers=1 start=0001-01-01 end=9999-01-01 bucket=minute
expect_error 400 'range too wide'
get '/counts?customer_id=alice&customer_id=b%00b&start=2021-03-01&end=2021-03-02'
expect_error 400 'NUL'
query customer_id=alice start=2021-03-01 end=2021-03-02 bucket=day
expect_error 400 'unknown parameter \\"bucket\\"'
done_

case_ "404: unknown path"
get /nowhere
expect_error 404
get /hourly/
expect_error 404
done_

case_ "405: other methods, with Allow"
get /hourly -X POST -d 'customer_id=alice'
expect_error 405
grep -qi '^allow: GET, HEAD' hdr || bad "no Allow header: $(cat hdr)"
get /metrics -X DELETE
expect_error 405
done_

case_ "HEAD /healthz: 200 without a body"
code=$(curl -s -I -o hdr -w '%{http_code}' "$base/healthz")
[ "$code" = 200 ] || bad "status $code"
done_

case_ "414: oversized URL, 431: oversized header; the server goes on"
long=$(printf '%*s' 20000 '' | tr ' ' a)
get "/hourly?customer_id=$long&start=2021-03-01&end=2021-03-02"
[ "$code" = 414 ] || bad "long URL: status $code, expected 414"
get /healthz -H "X-Filler: $long"
[ "$code" = 431 ] || bad "long header: status $code, expected 431"
get /healthz
[ "$code" = 200 ] || bad "not up after them: $code"
done_

case_ "401: no token, wrong token, wrong scheme; WWW-Authenticate"
code=$(curl -s -o body -D hdr -w '%{http_code}' \
	"$base/hourly?customer_id=alice&start=2021-03-01&end=2021-03-02")
expect_error 401
grep -qi '^www-authenticate: Bearer' hdr || bad "no WWW-Authenticate: $(cat hdr)"
for auth in "Bearer ${TOKEN}x" "Bearer ${TOKEN%?}" "Bearer " "Basic $TOKEN" \
	"Bearer x$TOKEN"; do
	code=$(curl -s -o body -D hdr -w '%{http_code}' -H "Authorization: $auth" \
		"$base/metrics")
	[ "$code" = 401 ] || bad "'$auth': status $code"
	grep -qi '^www-authenticate: Bearer' hdr || bad "'$auth': no WWW-Authenticate"
done
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/nowhere")
[ "$code" = 401 ] || bad "unknown path without token: $code, expected 401"
code=$(curl -s -o /dev/null -w '%{http_code}' \
	-H "Authorization: bearer $TOKEN" "$base/metrics")
[ "$code" = 200 ] || bad "scheme is case-insensitive: $code"
done_

case_ "/healthz needs no token"
code=$(curl -s -o body -w '%{http_code}' "$base/healthz")
[ "$code" = 200 ] || bad "status $code"
[ "$(cat body)" = '{"status":"ok"}' ] || bad "body $(cat body)"
done_

# ---- /metrics -----------------------------------------------------------------

case_ "/metrics: Prometheus text format, counters move"
get /metrics
cp body metrics
[ "$code" = 200 ] || bad "status $code"
grep -qi '^content-type: text/plain; version=0.0.4' hdr ||
	bad "content type: $(grep -i content-type hdr)"
bad_lines=$(grep -v '^#' metrics |
	grep -Evc '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [0-9.eE+-]+$')
[ "$bad_lines" = 0 ] || bad "$bad_lines malformed lines"
grep -Eq '^# TYPE evcount_http_request_duration_seconds histogram$' metrics ||
	bad "no histogram TYPE"
[ "$(metric evcount_store_rows_counted)" = 10 ] ||
	bad "rows counted: $(metric evcount_store_rows_counted)"
[ "$(metric evcount_store_sources)" = 1 ] || bad "sources"
[ "$(metric evcount_store_customers)" = 4 ] ||
	bad "customers: $(metric evcount_store_customers)"
key='evcount_http_requests_total{endpoint="/hourly",status="200"}'
before=$(metric "$key")
k400='evcount_http_requests_total{endpoint="/hourly",status="400"}'
b400=$(metric "$k400")
n_before=$(metric evcount_http_request_duration_seconds_count)
query customer_id=alice start=2021-03-01 end=2021-03-02
query customer_id=alice start=2021-03-01
get /metrics
cp body metrics
[ "$(metric "$key")" = $((before + 1)) ] ||
	bad "$key: $before then $(metric "$key")"
[ "$(metric "$k400")" = $((b400 + 1)) ] || bad "$k400 did not move"
[ "$(metric evcount_http_request_duration_seconds_count)" -ge $((n_before + 3)) ] ||
	bad "histogram count did not move"
for key in 'endpoint="/customers",status="200"' 'endpoint="/customers",status="401"' \
	'endpoint="/",status="200"' 'endpoint="/assets",status="200"'; do
	[ "$(metric "evcount_http_requests_total{$key}")" -ge 1 ] 2>/dev/null ||
		bad "$key not counted"
done
inf=$(metric 'evcount_http_request_duration_seconds_bucket{le="+Inf"}')
[ "$inf" = "$(metric evcount_http_request_duration_seconds_count)" ] ||
	bad "+Inf bucket $inf differs from _count"
done_

case_ "/metrics: the store's figures are those of stats, streams included"
# Two rows more through stdin, a stream: no new source, but counted.
printf 'carol,INGEST,0c6d1a5e-4b2f-4e1a-9f5e-8f3b2a1c0d11,2021-03-01T10:00:00Z\ncarol,INGEST,0c6d1a5e-4b2f-4e1a-9f5e-8f3b2a1c0d12,2021-03-01T10:01:00Z\n' |
	"$CLI" --db "$DB" ingest - 2>err || bad "stdin ingest failed: $(cat err)"
"$CLI" --db "$DB" stats --format csv >stats || bad "stats failed"
IFS=, read -r s_customers s_sources s_counted s_rejected _ < <(sed -n 2p stats)
get /metrics
cp body metrics
[ "$s_counted" = 12 ] || bad "stats counts $s_counted rows, not 12"
[ "$(metric evcount_store_rows_counted)" = "$s_counted" ] ||
	bad "rows counted: $(metric evcount_store_rows_counted), stats $s_counted"
[ "$(metric evcount_store_rows_rejected)" = "$s_rejected" ] ||
	bad "rows rejected: $(metric evcount_store_rows_rejected), stats $s_rejected"
[ "$(metric evcount_store_sources)" = "$s_sources" ] || bad "sources"
[ "$(metric evcount_store_customers)" = "$s_customers" ] || bad "customers"
# The gauge is the time in /hourly's as_of.
query customer_id=carol start=2021-03-01 end=2021-03-02
as_of=$(sed -En 's/.*"as_of":"([^"]+)"\}$/\1/p' body)
[ "$(metric evcount_store_last_ingest_timestamp_seconds)" = \
	"$(date -u -d "$as_of" +%s 2>/dev/null)" ] ||
	bad "last ingest $(metric evcount_store_last_ingest_timestamp_seconds), as_of $as_of"
done_

# ---- log ----------------------------------------------------------------------

case_ "log: one line per request, never the token"
grep -Eq '^GET /hourly 200 [0-9.]+ms$' log || bad "no /hourly line"
grep -Eq '^POST /hourly 405 [0-9.]+ms$' log || bad "no 405 line"
grep -Fq "$TOKEN" log && bad "the token is in the log"
grep -q 'customer_id=' log && bad "the query string is in the log"
done_

# ---- shutdown -----------------------------------------------------------------

case_ "SIGTERM: exit 0 within 5 s, with a keep-alive connection open"
# An idle keep-alive connection must not hold the shutdown up.
exec 3<>"/dev/tcp/127.0.0.1/${base##*:}"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' >&3
stop_server TERM
exec 3>&-
[ "$stop_rc" = 0 ] || bad "exit status $stop_rc"
done_

# ---- other start-ups ----------------------------------------------------------

case_ "no token: every endpoint open"
start_server log2 --db "$DB" serve --listen 127.0.0.1:0 --quiet \
	--threads 1 --max-response-memory 64K || bad "no start: $(cat log2)"
wait_ready || bad "not ready"
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/metrics")
[ "$code" = 200 ] || bad "/metrics: $code"
done_

case_ "/counts: a result past --max-response-memory is a 400, smaller ones pass"
counts all_customers=1 start=2021-03-01 end=2021-03-02 bucket=minute
expect_error 400 'result too large: more than --max-response-memory'
counts all_customers=1 start=2021-03-01 end=2021-03-02 bucket=day
[ "$code" = 200 ] || bad "a day: status $code ($(cat body))"
done_

case_ "without a token the page does not ask for one"
auth=none
page_is index.html / 'text/html; charset=utf-8'
done_

case_ "SIGINT, and --quiet logs nothing"
stop_server INT
[ "$stop_rc" = 0 ] || bad "SIGINT: exit status $stop_rc"
grep -v '^listening on ' log2 | grep -q . && bad "--quiet still logs: $(cat log2)"
done_

case_ "/customers: a list past --max-response-memory is a 400"
start_server log5 --db "$DB" serve --listen 127.0.0.1:0 --quiet \
	--max-response-memory 200 || bad "no start: $(cat log5)"
wait_ready || bad "not ready"
get /customers
expect_error 400 'result too large: more than --max-response-memory \(200 bytes\)'
stop_server TERM
[ "$stop_rc" = 0 ] || bad "exit status $stop_rc"
done_

case_ "EVCOUNT_TOKEN"
EVCOUNT_TOKEN=envtok start_server log3 --db "$DB" serve \
	--listen 127.0.0.1:0 || bad "no start: $(cat log3)"
wait_ready || bad "not ready"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer envtok' \
	"$base/metrics")
[ "$code" = 200 ] || bad "with the token: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/metrics")
[ "$code" = 401 ] || bad "without: $code"
stop_server TERM
[ "$stop_rc" = 0 ] || bad "exit status $stop_rc"
done_

case_ "one-shot FILE --server: ingests, serves on 127.0.0.1:8000"
# The one-shot form has no --listen: skipped when that port is taken, by
# another run of this script too (tests serve and pg-serve run at once).
if (exec 3<>/dev/tcp/127.0.0.1/8000) 2>/dev/null; then
	skip "$name" "port 8000 is in use"
elif ! start_server log4 --db "$(store oneshot)" events.csv --server &&
	grep -q 'Address already in use' log4; then
	skip "$name" "port 8000 was taken meanwhile"
else
	[ -n "$base" ] || bad "no start: $(cat log4)"
	[ "$base" = http://127.0.0.1:8000 ] || bad "address $base"
	wait_ready || bad "not ready"
	query customer_id=alice start=2021-03-01 end=2021-03-02
	grep -q '"total":6' body || bad "expected total 6: $(cat body)"
	stop_server TERM
	[ "$stop_rc" = 0 ] || bad "exit status $stop_rc"
	"$CLI" --db "$(store oneshot)" events.csv --server --customer-id x 2>err
	rc=$?
	[ $rc = 2 ] || bad "--server with a query option: exit $rc"
	done_
fi

case_ "startup errors: empty token file, no store, bad --listen"
: >empty
"$CLI" --db "$DB" serve --listen 127.0.0.1:0 --token-file empty 2>err
rc=$?
[ $rc = 1 ] || bad "empty token file: exit $rc"
"$CLI" --db "$(store none)" serve --listen 127.0.0.1:0 2>err
rc=$?
[ $rc = 1 ] || bad "no store: exit $rc"
"$CLI" --db "$DB" serve --listen localhost 2>err
rc=$?
[ $rc = 2 ] || bad "bad --listen: exit $rc"
"$CLI" --db "$DB" serve --threads 0 2>err
rc=$?
[ $rc = 2 ] || bad "--threads 0: exit $rc"
done_

# ---- PostgreSQL only ------------------------------------------------------------

if [ -z "${EVC_TEST_PG:-}" ]; then
	harness_finish
	exit
fi

# From here the password is in the store's URI, not in $PGPASSWORD: were
# it ever shown, it would show as it is.
pw=${PGPASSWORD:?tests/pg-run.sh sets it}
unset PGPASSWORD
NOPW=$DB
DB=${NOPW/:\/\/evcount@/:\/\/evcount:$pw@}

# pg_ctl stop|start: stop (as by a crash) or start the server, from a
# directory its user may enter.
pg_ctl() {
	(cd / && "$EVC_TEST_PG_CTL" "$1") >/dev/null
}

# wait_status CODE PATH: poll PATH (with the token) until it answers CODE,
# at most 10 s.
wait_status() {
	local i
	for ((i = 0; i < 100; i++)); do
		get "$2" -m 2
		[ "$code" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

case_ "PostgreSQL stopped: /healthz 503, the queries a JSON 500, serve goes on"
[ "$DB" != "$NOPW" ] || bad "no user in $EVC_TEST_PG to put the password to"
start_server log6 --db "$DB" serve --listen 127.0.0.1:0 --token-file token \
	--threads 2 || bad "no start: $(cat log6)"
wait_ready || bad "not ready: $(cat log6)"
query customer_id=alice start=2021-03-01 end=2021-03-03
[ "$code" = 200 ] || bad "status $code ($(cat body))"
cp body hourly.up
# Several requests, so that each worker holds a connection.
for _ in 1 2 3 4 5 6; do
	query customer_id=alice start=2021-03-01 end=2021-03-03
	cmp -s hourly.up body || bad "not the same JSON: $(cat body)"
done
pg_ctl stop || bad "the server did not stop"
# /healthz's probe of the store stands for a second.
wait_status 503 /healthz || bad "/healthz still $code: $(cat body)"
expect_error 503 '^\{"error":"store unavailable: postgresql://evcount:\*\*\*@'
cp body down.healthz
query customer_id=alice start=2021-03-01 end=2021-03-03
expect_error 500 '^\{"error":"store (failure|unavailable)"\}$'
cp body down.hourly
counts customer_id=alice start=2021-03-01 end=2021-03-03
expect_error 500
cp body down.counts
get /customers
expect_error 500
cp body down.customers
get /metrics
expect_error 500
cp body down.metrics
kill -0 "$pid" 2>/dev/null || bad "serve is gone: $(tail -3 log6)"
done_

case_ "PostgreSQL back: /healthz 200, /hourly the same JSON as before"
pg_ctl start || bad "the server did not start"
wait_ready || bad "/healthz never answered 200 again: $(cat body)"
for _ in 1 2 3 4 5 6; do
	query customer_id=alice start=2021-03-01 end=2021-03-03
	[ "$code" = 200 ] || bad "status $code ($(cat body))"
	cmp -s hourly.up body || bad "not the JSON of before: $(cat body)"
done
get /customers
[ "$code" = 200 ] || bad "/customers: status $code ($(cat body))"
get /metrics
[ "$code" = 200 ] || bad "/metrics: status $code ($(cat body))"
cp body up.metrics
[ "$(awk '$1 == "evcount_store_rows_counted" { print $2 }' up.metrics)" = 12 ] ||
	bad "rows counted: $(grep rows_counted up.metrics)"
done_

# As in test-cli.sh, on the store the server answers from: the held back
# line is cut inside its timestamp, so that read early it would be
# rejected, not counted.
follow_row() {
	printf 'x3,click,00000000-0000-4000-8000-%012d,2021-03-02T00:%02d:00Z\n' "$1" "$1"
}
SUMMARY='in [0-9]+\.[0-9]{2} s \([0-9]+\.[0-9] MB/s\)$'

# x3_total N: /hourly counts N events of x3 on 2021-03-02, all in hour 00.
x3_total() {
	query customer_id=x3 start=2021-03-02 end=2021-03-02T02:00:00Z
	[ "$code" = 200 ] || bad "/hourly x3: status $code ($(cat body))"
	grep -q "^{\"customer_id\":\"x3\",.*\"total\":$1,\"buckets\":\\[{\"hour\":\"2021-03-02T00:00:00Z\",\"count\":$1," body ||
		bad "x3 has not $1 events: $(cat body)"
}

case_ "ingest --follow: an unterminated last line held back, counted once complete"
{
	follow_row 1
	printf 'x3,click,00000000-0000-4000-8000-%012d,2021-03-02T00:0' 2
} >grow.csv
first=$(follow_row 1 | wc -c)
"$CLI" --db "$DB" ingest --follow grow.csv >out 2>err
rc=$?
[ $rc = 0 ] || bad "exit $rc"
grep -Eq "^grow\\.csv: 1 row counted, 0 rejected, 0 warned, 1 unterminated last line held back \\(--follow\\) $SUMMARY" err ||
	bad "first: $(cat err)"
[ "$(wc -l <err)" = 1 ] || bad "first: $(cat err)"
x3_total 1
"$CLI" --db "$DB" ingest --follow grow.csv >out 2>err
grep -Eq '^grow\.csv: already ingested: 0 new rows, 1 unterminated last line held back \(--follow\) \(checked in ' err ||
	bad "again: $(cat err)"
x3_total 1
printf '2:00Z\n' >>grow.csv
"$CLI" --db "$DB" ingest --follow grow.csv >out 2>err
rc=$?
[ $rc = 0 ] || bad "completed: exit $rc"
grep -Eq "^grow\\.csv: 1 row counted, 0 rejected, 0 warned, 1 skipped \\(already ingested: resumed at byte $first\\) $SUMMARY" err ||
	bad "completed: $(cat err)"
grep -q 'held back' err && bad "completed, still held back: $(cat err)"
x3_total 2
"$CLI" --db "$DB" ingest grow.csv >out 2>err
grep -q '^grow\.csv: already ingested: 0 new rows ' err || bad "last: $(cat err)"
x3_total 2
grep -lF -- "$pw" out err && bad "the password shows"
done_

case_ "the password never shows: serve's log, /metrics, error bodies"
stop_server TERM
[ "$stop_rc" = 0 ] || bad "exit status $stop_rc"
grep -lF -- "$pw" log6 down.* up.metrics && bad "the password shows"
# Yet the failures named the store, masked.
grep -q '^evcount-cli: serve: postgresql://evcount:\*\*\*@127\.0\.0\.1:[0-9]*/evcount_test?evcount_schema=serve_main: ' log6 ||
	bad "no masked failure in the log: $(grep -v '^GET' log6 | head -3)"
done_

# Each worker's connection of before a restart is stale: with one
# worker, the first request after it lands on one for sure.
case_ "a restart between two requests: the next one answers"
start_server log7 --db "$DB" serve --listen 127.0.0.1:0 --token-file token \
	--threads 1 || bad "no start: $(cat log7)"
wait_ready || bad "not ready: $(cat log7)"
query customer_id=alice start=2021-03-01 end=2021-03-03
[ "$code" = 200 ] || bad "before: status $code ($(cat body))"
cp body hourly.before
{ pg_ctl stop && pg_ctl start; } || bad "the server did not restart"
query customer_id=alice start=2021-03-01 end=2021-03-03
[ "$code" = 200 ] || bad "status $code ($(cat body))"
cmp -s hourly.before body || bad "not the JSON of before: $(cat body)"
stop_server TERM
[ "$stop_rc" = 0 ] || bad "exit status $stop_rc"
grep -lF -- "$pw" log7 && bad "the password shows"
done_

# libpq's own settings, on the URI without a password.
hostport=${NOPW#*@}
pgport=${hostport#*:}
pgport=${pgport%%/*}

# hourly_ok WHAT DB [VAR=VALUE...]: hourly --format json on DB (empty: no
# --db), with each VAR=VALUE in its environment, prints what it does with
# the password in the URI (hourly.pw). WHAT names the case (the values may
# hold the password).
hourly_ok() {
	local what=$1 db=()
	[ -z "$2" ] || db=(--db "$2")
	shift 2
	env "$@" "$CLI" "${db[@]}" hourly --customer-id alice \
		--start 2021-03-01 --end 2021-03-03 --format json >out 2>err
	rc=$?
	[ $rc = 0 ] || bad "hourly, $what: exit $rc: $(cat err)"
	cmp -s hourly.pw out || bad "hourly, $what: $(cat out)"
}
"$CLI" --db "$DB" hourly --customer-id alice --start 2021-03-01 \
	--end 2021-03-03 --format json >hourly.pw

case_ "PGPASSFILE: the password from a file of mode 0600, for hourly and serve"
printf '127.0.0.1:%s:evcount_test:evcount:%s\n' "$pgport" "$pw" >pgpass
chmod 600 pgpass
hourly_ok PGPASSFILE "$NOPW" PGPASSFILE="$T/pgpass"
PGPASSFILE=$T/pgpass start_server log8 --db "$NOPW" serve \
	--listen 127.0.0.1:0 --token-file token || bad "no start: $(cat log8)"
wait_ready || bad "not ready: $(cat log8)"
query customer_id=alice start=2021-03-01 end=2021-03-03
cmp -s hourly.pw body || bad "/hourly: $code $(cat body)"
stop_server TERM
[ "$stop_rc" = 0 ] || bad "exit status $stop_rc"
done_

case_ "PGPASSFILE: a wrong password, a clear error that shows none"
wrong=Wrong$RANDOM$RANDOM
printf '127.0.0.1:%s:evcount_test:evcount:%s\n' "$pgport" "$wrong" >pgpass
PGPASSFILE=$T/pgpass "$CLI" --db "$NOPW" hourly --customer-id alice \
	--start 2021-03-01 --end 2021-03-03 >out 2>err
rc=$?
[ $rc = 1 ] || bad "hourly: exit $rc"
grep -q '^evcount-cli: postgresql://evcount@127\.0\.0\.1:[0-9]*/evcount_test?evcount_schema=serve_main: cannot connect: .*password authentication failed for user "evcount"' err ||
	bad "hourly: $(cat err)"
PGPASSFILE=$T/pgpass "$CLI" --db "$NOPW" serve --listen 127.0.0.1:0 \
	>>out 2>>err
rc=$?
[ $rc = 1 ] || bad "serve: exit $rc"
[ "$(grep -c 'cannot connect: .*password authentication failed for user "evcount"' err)" = 2 ] ||
	bad "serve: $(tail -1 err)"
grep -lF -e "$wrong" -e "$pw" out err && bad "a password shows"
# A file others may read is ignored, as libpq documents.
printf '127.0.0.1:%s:evcount_test:evcount:%s\n' "$pgport" "$pw" >pgpass
chmod 644 pgpass
PGPASSFILE=$T/pgpass "$CLI" --db "$NOPW" hourly --customer-id alice \
	--start 2021-03-01 --end 2021-03-03 >out 2>err
rc=$?
[ $rc = 1 ] || bad "a pgpass file of mode 0644: exit $rc"
grep -q 'cannot connect: .*no password supplied' err ||
	bad "mode 0644: $(cat err)"
done_

case_ "postgres:// names the store postgresql:// does, in --db and EVCOUNT_DB"
alt=${DB/#postgresql:/postgres:}
[ "$alt" != "$DB" ] || bad "no postgresql:// to change"
hourly_ok --db "$alt"
hourly_ok EVCOUNT_DB "" EVCOUNT_DB="$alt"
start_server log9 --db "$alt" serve --listen 127.0.0.1:0 --token-file token ||
	bad "no start: $(cat log9)"
wait_ready || bad "not ready: $(cat log9)"
query customer_id=alice start=2021-03-01 end=2021-03-03
cmp -s hourly.pw body || bad "/hourly: $code $(cat body)"
stop_server TERM
[ "$stop_rc" = 0 ] || bad "exit status $stop_rc"
grep -lF -- "$pw" log9 out err && bad "the password shows"
done_

harness_finish
