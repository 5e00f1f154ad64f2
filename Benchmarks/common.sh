# Shared by the benchmark scripts: sourced, not run. Expects $WORK (a temp folder) to exist.

# Blocks until `url` answers, or stops the script.
wait_for() { for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }

# Installs the named Debian packages that are missing (wrk, nginx-light, sqlite3, …).
need_packages() {
  local missing=() pkg
  for pkg in "$@"; do dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg"); done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# The reference: one nginx worker answering `return 204` on 127.0.0.1:$1, no access log.
# Stopped by the caller's cleanup through $WORK/nginx.pid.
start_nginx() {
  cat >"$WORK/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server { listen 127.0.0.1:$1; location / { return 204; } }
}
CONF
  /usr/sbin/nginx -c "$WORK/nginx.conf"
  wait_for "http://127.0.0.1:$1/"
}

# `swift build` with $FRONTDESK_BENCH_BUILD_FLAGS in front: a benchmark can measure the build the
# test command made instead of compiling its own, e.g.
#   FRONTDESK_BENCH_BUILD_FLAGS="--scratch-path $HOME/.cache/frontdesk/test-build -Xswiftc -enable-testing" Benchmarks/faq.sh
# (the tested modules with testing enabled: figures within a few per cent of the plain release build).
swift_build() {
  local flags=()
  read -r -a flags <<<"${FRONTDESK_BENCH_BUILD_FLAGS:-}"
  swift build "${flags[@]}" "$@"
}
