#!/bin/sh
# Install what the build and the tests need from Debian's packages, only if
# something is missing (a quick no-op otherwise).
#   sh tests/deps.sh [EXTRA-PACKAGE...]
set -eu

PACKAGES="gcc make clang libc6-dev libfcgi-dev libsqlite3-dev libcmocka-dev
libjansson-dev lighttpd lighttpd-mod-openssl spawn-fcgi curl python3 apache2
libapache2-mod-fcgid
openssl $*"

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

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
