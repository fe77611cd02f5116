#!/bin/sh
# Install what the build and the tests need from Debian's packages, only if
# something is missing (a quick no-op otherwise).
#   sh tests/deps.sh [EXTRA-PACKAGE...]
set -eu

# libclang-rt-14-dev: clang's sanitizer and libFuzzer runtimes (make asan,
# make fuzz), only recommended by clang-14, and we install no recommends.
PACKAGES="gcc make clang libc6-dev libfcgi-dev libsqlite3-dev libcmocka-dev
libjansson-dev lighttpd lighttpd-mod-openssl spawn-fcgi curl python3 apache2
libapache2-mod-fcgid libwslay-dev libssl-dev libseccomp-dev chromium
libnats-dev nats-server
openssl libclang-rt-14-dev $*"
# Node.js runs the WebSocket client tests (npm `ws`) and drives chromium
# (npm `playwright-core`): Debian's packages unless a node is already there.
command -v node >/dev/null 2>&1 || PACKAGES="$PACKAGES nodejs"
command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES npm"

# The npm packages the tests use, from the lock file in tests/, installed
# only when missing or when the lock changed; never a browser download.
npm_packages() {
	dir=$(cd "$(dirname "$0")" && pwd)
	stamp=$dir/node_modules/.package-lock.json
	if [ -f "$stamp" ] && [ ! "$dir/package-lock.json" -nt "$stamp" ]; then
		return 0
	fi
	echo "deps: npm ci in tests/"
	(cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit \
	    --no-fund --loglevel=error >/dev/null) || {
		echo "deps: npm ci failed in $dir" >&2
		exit 1
	}
}

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && { npm_packages; exit 0; }

echo "deps: installing$missing"
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
# Servers are started by the tests and the demo on loopback high ports,
# never as system services: keep the packages' postinst from starting them.
guard=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod 755 /usr/sbin/policy-rc.d
	guard=1
fi
rc=0
$SUDO apt-get update -qq || rc=$?
if [ $rc -eq 0 ]; then
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
	    --no-install-recommends $missing >/dev/null || rc=$?
fi
[ -n "$guard" ] && $SUDO rm -f /usr/sbin/policy-rc.d
if [ $rc -ne 0 ]; then
	echo "deps: apt-get failed ($rc) installing:$missing" >&2
	exit $rc
fi
npm_packages
