#!/usr/bin/env bash
# Crawl bench: luutru against Scrapy on one synthetic provincial site served by nginx on
# loopback. See benches/README.md, section "Crawl".
#
#   bash benches/crawl/run.sh                    # 20,000 articles, luutru then Scrapy
#   bash benches/crawl/run.sh --pages 2000       # a quick smoke run
#   bash benches/crawl/run.sh --pages 100000 --no-scrapy   # memory at scale
#
# Steps: build luutru (release); generate the site (cached under target/bench-crawl/); start
# nginx on 127.0.0.1:PORT (installed from Debian packages with apt-get when missing); time a
# first crawl into a fresh store, `compact-db`, and a recrawl with --revisit-all under
# /usr/bin/time -v;
# then Scrapy (pip, in a venv under target/bench-crawl/) over the same site; print the
# figures and the ratios. Everything it writes stays under target/bench-crawl/.
set -euo pipefail

PAGES=20000
PORT=18089
SCRAPY=1
SCRAPY_VERSION=2.19.0
while [ $# -gt 0 ]; do
    case "$1" in
        --pages) PAGES="$2"; shift 2 ;;
        --port) PORT="$2"; shift 2 ;;
        --no-scrapy) SCRAPY=0; shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/benches/crawl"
WORK="$ROOT/target/bench-crawl"
SITE="$WORK/site-$PAGES"
RUN="$WORK/run-$PAGES"
BASE="http://127.0.0.1:$PORT/"
mkdir -p "$WORK"

say() { printf '\n== %s\n' "$*" >&2; }

# ---- tools ---------------------------------------------------------------------------------
if [ ! -x /usr/bin/time ] || ! command -v nginx >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        echo "needs /usr/bin/time and nginx: apt-get install time nginx-light (as root)" >&2
        exit 2
    fi
    say "installing time and nginx-light from Debian packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time nginx-light >/dev/null
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

say "building luutru (release)"
(cd "$ROOT" && cargo build --release --bin luutru 2>&1 | tail -1)
LUUTRU="$ROOT/target/release/luutru"

# ---- site ----------------------------------------------------------------------------------
STAMP="$(sha1sum "$HERE/gen_site.py" | cut -c1-16)"
if [ ! -f "$SITE/.stamp" ] || [ "$(cat "$SITE/.stamp")" != "$STAMP" ]; then
    say "generating the site: $PAGES articles into $SITE"
    rm -rf "$SITE"
    python3 "$HERE/gen_site.py" "$SITE" "$PAGES"
    echo "$STAMP" > "$SITE/.stamp"
fi
SITE_BYTES=$(du -sb --exclude=.stamp "$SITE" | cut -f1)

# ---- server --------------------------------------------------------------------------------
# nginx: one worker, sendfile, keep-alive without limit, no access log. No ETag and no
# If-Modified-Since handling: like the PHP-generated pages of a real NukeViet portal, every
# revisit downloads the full page, so the recrawl measures the content-hash path.
NGX="$WORK/nginx-$PORT"
mkdir -p "$NGX"
USER_LINE=""
[ "$(id -u)" = 0 ] && USER_LINE="user root;"
cat > "$NGX/nginx.conf" <<EOF
$USER_LINE
worker_processes 1;
daemon off;
error_log $NGX/error.log warn;
pid $NGX/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on; tcp_nopush on; tcp_nodelay on;
    keepalive_timeout 120s; keepalive_requests 10000000;
    types { text/html html; text/plain txt; }
    default_type text/html;
    charset utf-8;
    etag off; if_modified_since off;
    server_tokens off;
    client_body_temp_path $NGX/tmp-body; proxy_temp_path $NGX/tmp-proxy;
    fastcgi_temp_path $NGX/tmp-fcgi; uwsgi_temp_path $NGX/tmp-uwsgi; scgi_temp_path $NGX/tmp-scgi;
    server {
        listen 127.0.0.1:$PORT;
        root $SITE;
        index index.html;
        location / { try_files \$uri \$uri/ =404; }
    }
}
EOF
"$NGINX" -c "$NGX/nginx.conf" -p "$NGX" &
NGINX_PID=$!
cleanup() { kill "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 50); do
    curl -fsS -o /dev/null "$BASE" 2>/dev/null && break
    sleep 0.1
done
curl -fsS -o /dev/null "$BASE" || { echo "nginx did not start: $(cat "$NGX/error.log")" >&2; exit 1; }

# ---- luutru --------------------------------------------------------------------------------
rm -rf "$RUN"
mkdir -p "$RUN"
P="127\\.0\\.0\\.1:$PORT"
cat > "$RUN/crawl.toml" <<EOF
[crawl]
store = "store"
user_agent = "luutru-bench/0.1"
concurrency = 64
rate = 0
respect_robots = false
revisit = "24h"

[[site]]
name = "bench-nukeviet"
seeds = ["$BASE"]
allow = ['^http://$P/']
article = ['/news/[a-z0-9-]+/[a-z0-9-]+-\\d+\\.html\$']
follow = ['/news/[a-z0-9-]+/(page-\\d+)?\$', '^http://$P/\$']
max_depth = 100

[site.selectors]
title = "h1.title"
date = "span.h5"
body = "#news-bodyhtml"
author = "p.h5.text-right"
summary = ".hometext"
EOF

# field NAME FILE: a value from `/usr/bin/time -v` output.
field() { grep -F "$1" "$2" | head -1 | sed 's/.*: //'; }
# seconds H:MM:SS.ss | M:SS.ss
secs() { echo "$1" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }'; }
json() { python3 -c "import json,sys; d=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print(d$2)" "$1"; }

crawl() { # crawl NAME [ARGS]
    local name="$1"; shift
    (cd "$RUN" && /usr/bin/time -v -o "$RUN/$name.time" "$LUUTRU" --config crawl.toml \
        --log-format json crawl --json "$@" > "$RUN/$name.json" 2> "$RUN/$name.log") || {
        local rc=$?
        [ "$rc" = 1 ] || { echo "luutru $name exited $rc; see $RUN/$name.log" >&2; exit 1; }
    }
}

report() { # report NAME: one line of figures, and shell variables NAME_PPS etc.
    local name="$1" t="$RUN/$1.time"
    local wall user sys rss fetched
    wall=$(secs "$(field 'Elapsed (wall clock)' "$t")")
    user=$(field 'User time' "$t"); sys=$(field 'System time' "$t")
    rss=$(field 'Maximum resident set size' "$t")
    fetched=$(json "$RUN/$name.json" "['fetched']")
    python3 - "$name" "$wall" "$user" "$sys" "$rss" "$fetched" <<'PY'
import sys
name, wall, user, sys_, rss, fetched = sys.argv[1], *map(float, sys.argv[2:])
print(f"{name:<10} {fetched:>8.0f} pages  {wall:>7.1f} s  {fetched / wall:>7.0f} pages/s  "
      f"{(user + sys_) / fetched * 1000:>6.2f} CPU s/1000 pages  peak RSS {rss / 1024:>5.0f} MB")
PY
    eval "${name}_PPS=$(python3 -c "print($fetched / $wall)")"
}

say "luutru: first crawl of $BASE ($PAGES articles) into a fresh store"
crawl first
FIRST_LINE=$(report first)
mb() { du -sb "$1" 2>/dev/null | awk '{ printf "%.0f", $1 / 1e6 }'; }
bytes() { du -sb "$1" | cut -f1; }
STORE1="$(bytes "$RUN/store") $(mb "$RUN/store/warc") $(mb "$RUN/store/db") $(mb "$RUN/store/index")"
say "luutru: compact-db (maintenance, not part of the crawl: sled's live records into a fresh database)"
(cd "$RUN" && /usr/bin/time -v -o "$RUN/compact.time" "$LUUTRU" --config crawl.toml compact-db \
    > "$RUN/compact.out" 2> "$RUN/compact.log") || { echo "compact-db failed; see $RUN/compact.log" >&2; exit 1; }
COMPACT_LINE="compact-db: $(sed -e ':a;N;$!ba;s/\n/; /g' "$RUN/compact.out"), peak RSS $(( $(field 'Maximum resident set size' "$RUN/compact.time") / 1024 )) MB"
STORE_C=$(bytes "$RUN/store")
WARC1=$(bytes "$RUN/store/warc"); DB1=$(bytes "$RUN/store/db")
say "luutru: recrawl, every article revisited (--revisit-all), all unchanged"
crawl recrawl --revisit-all
RECRAWL_LINE=$(report recrawl)
report first >/dev/null; report recrawl >/dev/null

STORE="$RUN/store"
STORE_BYTES=$(du -sb "$STORE" | cut -f1)
ARTICLES=$(json "$RUN/first.json" "['new_articles']")
DOWNLOADED=$(json "$RUN/first.json" "['bytes_downloaded']")
UNCHANGED=$(json "$RUN/recrawl.json" "['unchanged']")
DOWNLOADED2=$(json "$RUN/recrawl.json" "['bytes_downloaded']")

# ---- Scrapy --------------------------------------------------------------------------------
SCRAPY_LINE="Scrapy: skipped (--no-scrapy)"
if [ "$SCRAPY" = 1 ]; then
    VENV="$WORK/venv"
    if [ "$("$VENV/bin/python" -c "import scrapy; print(scrapy.__version__)" 2>/dev/null)" != "$SCRAPY_VERSION" ]; then
        say "installing Scrapy $SCRAPY_VERSION into $VENV"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q "scrapy==$SCRAPY_VERSION"
    fi
    say "Scrapy $("$VENV/bin/scrapy" version | tail -1) over the same site"
    rm -f "$RUN/scrapy-items.jsonl"
    (cd "$RUN" && /usr/bin/time -v -o "$RUN/scrapy.time" "$VENV/bin/scrapy" runspider \
        "$HERE/scrapy_spider.py" -a start="$BASE" -a stats="$RUN/scrapy-stats.json" \
        -O "$RUN/scrapy-items.jsonl:jsonlines" \
        -s CONCURRENT_REQUESTS=64 -s CONCURRENT_REQUESTS_PER_DOMAIN=64 \
        -s DOWNLOAD_DELAY=0 -s AUTOTHROTTLE_ENABLED=False -s ROBOTSTXT_OBEY=False \
        -s DEPTH_LIMIT=100 -s LOG_LEVEL=INFO -s TELNETCONSOLE_ENABLED=False \
        -s USER_AGENT=scrapy-bench > "$RUN/scrapy.out" 2> "$RUN/scrapy.log")
    t="$RUN/scrapy.time"
    SCRAPY_LINE=$(python3 - "$RUN/scrapy-stats.json" "$(secs "$(field 'Elapsed (wall clock)' "$t")")" \
        "$(field 'User time' "$t")" "$(field 'System time' "$t")" \
        "$(field 'Maximum resident set size' "$t")" "$RUN/scrapy-items.jsonl" <<'PY'
import json, sys
stats = json.load(open(sys.argv[1]))
wall, user, sys_, rss = map(float, sys.argv[2:6])
pages = stats.get("response_received_count", 0)
items = sum(1 for _ in open(sys.argv[6]))
print(f"{'scrapy':<10} {pages:>8} pages  {wall:>7.1f} s  {pages / wall:>7.0f} pages/s  "
      f"{(user + sys_) / pages * 1000:>6.2f} CPU s/1000 pages  peak RSS {rss / 1024:>5.0f} MB  ({items} items)")
print(pages / wall)
PY
)
    SCRAPY_PPS=$(echo "$SCRAPY_LINE" | tail -1)
    SCRAPY_LINE=$(echo "$SCRAPY_LINE" | head -1)
fi

# ---- report --------------------------------------------------------------------------------
say "results"
python3 - <<PY
first, recrawl = $first_PPS, $recrawl_PPS
store, downloaded, articles = $STORE_BYTES, $DOWNLOADED, $ARTICLES
print("site:       $PAGES articles, $((SITE_BYTES / 1000000)) MB of HTML, nginx on $BASE")
print("machine:    $(nproc) cores, $(uptime | sed 's/.*load/load/')")
print("$FIRST_LINE")
print("$RECRAWL_LINE   ($UNCHANGED unchanged)")
print("$SCRAPY_LINE")
s1, w1, d1, i1 = "$STORE1".split()
s1 = int(s1)
print(f"store:      after the first crawl {s1 / 1e6:.0f} MB (warc {w1} MB, db {d1} MB, index {i1} MB): "
      f"{s1 / articles / 1000:.1f} kB per article, {s1 / downloaded * 100:.1f}% of the {downloaded / 1e6:.0f} MB fetched")
print("$COMPACT_LINE")
print(f"            after compact-db {$STORE_C / 1e6:.0f} MB: {$STORE_C / downloaded * 100:.1f}% of the HTML fetched")
print(f"            after the recrawl {store / 1e6:.0f} MB (warc $(mb "$STORE/warc") MB, db $(mb "$STORE/db") MB, index $(mb "$STORE/index") MB)")
warc_added, db_added = $(bytes "$STORE/warc") - $WARC1, $(bytes "$STORE/db") - $DB1
print(f"recrawl:    added {warc_added / articles:.0f} WARC + {db_added / articles:.0f} db bytes per unchanged article "
      f"({(warc_added + db_added) / articles:.0f} in all)")
print(f"ratios:     recrawl/first {recrawl / first:.2f}x", end="")
scrapy = "${SCRAPY_PPS:-}"
print(f", first crawl/Scrapy {first / float(scrapy):.2f}x" if scrapy else "")
PY
