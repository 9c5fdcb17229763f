#!/usr/bin/env bash
# The machine's prerequisites: checks what the project needs, installs what is missing (Debian, apt-get).
#   scripts/prereqs.sh [run|test|bench]   check (and install) what `make run` / `make test` / `make bench` need
#   scripts/prereqs.sh packages [MODE]     print the Debian packages of MODE (default: every mode), one line
# Quiet and quick (well under a second) when everything is there. Installs with `apt-get` as root, with
# `sudo -n apt-get` when passwordless sudo works; otherwise stops with one line naming the command to run.
# PORTAL_SKIP_BROWSER=1 leaves Chromium out (the browser tests are then skipped, with a warning).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# THE list. One row per need: when it is needed (all = run, test and bench; test; bench), the Debian package,
# the check that says it is present (a function below and its argument), what it is for.
# To add a need, add a row (and a check function if none of these fits); no apostrophes (single-quoted string).
PREREQS='
all    openjdk-17-jre-headless  java_17 17                                         the Kafka broker (Java 17+)
all    maven                    has mvn                                            resolves the broker jars from Maven Central
all    postgresql               postgres_server -                                  the PostgreSQL cluster (server binaries)
all    curl                     has curl                                           the scripts wait for HTTP health checks
all    openssl                  has openssl                                        the CA and the TLS certificate of the Kafka broker
all    make                     has make                                           the make targets
all    python3-venv             python_venv 3.11                                   the virtualenv .venv (Python 3.11+)
all    fonts-dejavu-core        exists /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf   fonts of the PDF statements
test   chromium                 browser /usr/bin/chromium                          the portal browser tests (playwright)
test   libatomic1               library libatomic.so.1                             the node driver that playwright ships needs it
all    prometheus               has promtool                                       the monitoring server of make run; promtool checks the alert rules
test   poppler-utils            has pdftotext                                      the tests read the PDF statements
test   zbar-tools               has zbarimg                                        the tests decode QR codes
test   nodejs                   has node                                           make lint runs spectral on the OpenAPI document
test   npm                      has npm                                            installs spectral into .run/node
bench  wrk                      has wrk                                            HTTP load of the benchmarks
'

has() { command -v "$1" >/dev/null 2>&1; }
exists() { [ -e "$1" ]; }
library() { compgen -G "/usr/lib/*/$1" >/dev/null || compgen -G "/lib/*/$1" >/dev/null; }
browser() { [ "${PORTAL_SKIP_BROWSER:-}" = 1 ] || [ -x "$1" ]; }
postgres_server() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || [ -x "$(pg_config --bindir 2>/dev/null)/initdb" ]; }
python_venv() {  # minimum version; venv and ensurepip (Debian splits them off into python3-venv)
  [ -x "$PY" ] && return  # the virtualenv exists: nothing more to create it with
  has python3 && python3 -c "import sys, venv, ensurepip; sys.exit(sys.version_info < tuple(map(int, '$1'.split('.'))))" 2>/dev/null
}
java_17() {  # minimum major version; read from the runtime's release file (starting a JVM takes too long)
  has java || return 1
  local home version
  home="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
  if [ -f "$home/release" ]; then
    version="$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")"
  else
    version="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/ *java.specification.version = //p')"
  fi
  [ "${version%%.*}" -ge "$1" ] 2>/dev/null
}

rows() {  # mode -> the rows that mode needs
  local mode="$1" scope pkg check arg rest
  while read -r scope pkg check arg rest; do
    [ -n "$scope" ] || continue
    case "$mode:$scope" in
      *:all | test:test | bench:bench | every:*) echo "$scope $pkg $check $arg" ;;
    esac
  done <<< "$PREREQS"
}

missing() {  # mode -> the packages whose check fails
  local scope pkg check arg
  while read -r scope pkg check arg; do
    "$check" "$arg" || echo "$pkg"
  done < <(rows "$1")
}

apt_install() {  # packages...
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300) log="$RUN_DIR/logs/prereqs.log"
  if ! has apt-get; then
    die "missing system packages (Debian names): $*; install them with your system's package manager"
  elif [ "$(id -u)" != 0 ]; then
    has sudo && sudo -n true 2>/dev/null || die "missing system packages; run: sudo apt-get install -y $*"
    apt=(sudo -n "${apt[@]}")
  fi
  mkdir -p "$(dirname "$log")"
  say "Installing the system packages this machine lacks: $* (log: $log)"
  { apt_update && "${apt[@]}" install -y -q --no-install-recommends "$@" >> "$log" 2>&1; } \
    || { tail -n 15 "$log" >&2; die "apt-get could not install $*; see $log"; }
}

apt_update() {  # DPkg::Lock::Timeout does not cover the package lists' lock: wait for that here (5 minutes at most)
  local tries=0
  until "${apt[@]}" update -q >> "$log" 2>&1; do
    tail -n 3 "$log" | grep -q "Could not get lock" && [ $((tries += 1)) -lt 60 ] || return 1
    sleep 5
  done
}

mode="${1:-test}"
case "$mode" in
  run | test | bench) ;;
  packages) mapfile -t all < <(rows "${2:-every}" | cut -d' ' -f2); echo "${all[*]}"; exit 0 ;;
  *) echo "usage: $0 run|test|bench|packages [MODE]" >&2; exit 2 ;;
esac

[ "${PORTAL_SKIP_BROWSER:-}" = 1 ] && [ "$mode" = test ] \
  && printf '\033[1;33mwarning: PORTAL_SKIP_BROWSER=1: Chromium is not required; the browser tests will be skipped\033[0m\n' >&2
mapfile -t need < <(missing "$mode")
[ ${#need[@]} -eq 0 ] && exit 0
apt_install "${need[@]}"
mapfile -t still < <(missing "$mode")
[ ${#still[@]} -eq 0 ] || die "still missing after apt-get install: ${still[*]} (see $RUN_DIR/logs/prereqs.log)"
say "System packages installed: ${need[*]}"
