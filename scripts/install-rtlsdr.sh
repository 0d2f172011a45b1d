#!/usr/bin/env bash
# Dongle access on Debian/Ubuntu/Raspberry Pi OS, as root: librtlsdr and the rtl-sdr tools,
# udev rules so a normal user can open the dongle, and the kernel DVB driver kept off it.
#
#   sudo bash scripts/install-rtlsdr.sh [USER]
#
# pyrtlsdr 0.5 (what spectrum depends on) needs a librtlsdr with rtlsdr_set_dithering. On
# x86-64 and 64-bit ARM the pip package pyrtlsdrlib bundles one and is installed with spectrum,
# so this script is only needed for udev and the DVB driver there. Where the system librtlsdr
# is 0.6.0 (Debian 12 ships 0.6.0-4) and pyrtlsdrlib has no wheel (32-bit ARM), use
# `pip install 'pyrtlsdr<0.4'` with it, or build librtlsdr 2.x (osmocom) from source.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
    echo "install-rtlsdr.sh: run as root (sudo bash $0)" >&2
    exit 2
fi
user=${1:-${SUDO_USER:-}}

apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends librtlsdr0 rtl-sdr

# The rtl-sdr package ships /lib/udev/rules.d/60-librtlsdr0.rules (uaccess/plugdev); add a
# plain rule too, for systems where that file is missing.
rules=/etc/udev/rules.d/20-rtlsdr.rules
if ! ls /lib/udev/rules.d/*rtl*sdr*.rules >/dev/null 2>&1 && [ ! -e "$rules" ]; then
    cat > "$rules" <<'RULES'
# Realtek RTL2832U / RTL2838 DVB-T dongles (RTL-SDR): readable by the plugdev group
SUBSYSTEM=="usb", ATTRS{idVendor}=="0bda", ATTRS{idProduct}=="2832", MODE="0660", GROUP="plugdev", TAG+="uaccess"
SUBSYSTEM=="usb", ATTRS{idVendor}=="0bda", ATTRS{idProduct}=="2838", MODE="0660", GROUP="plugdev", TAG+="uaccess"
RULES
fi

# Keep the kernel's DVB-T driver from claiming the dongle (it makes librtlsdr fail with
# "usb_claim_interface error -6").
blacklist=/etc/modprobe.d/blacklist-rtlsdr.conf
if [ ! -e "$blacklist" ]; then
    printf 'blacklist dvb_usb_rtl28xxu\nblacklist rtl2832\nblacklist rtl2830\n' > "$blacklist"
fi
if lsmod | grep -q '^dvb_usb_rtl28xxu'; then
    modprobe -r dvb_usb_rtl28xxu || echo "install-rtlsdr.sh: unplug the dongle and run 'modprobe -r dvb_usb_rtl28xxu'" >&2
fi

if [ -n "$user" ] && getent group plugdev >/dev/null; then
    usermod -aG plugdev "$user"
    echo "install-rtlsdr.sh: added $user to plugdev (log out and in again)"
fi
udevadm control --reload-rules && udevadm trigger || true

dpkg-query -W -f='librtlsdr0 ${Version}\n' librtlsdr0
echo "install-rtlsdr.sh: done; unplug and replug the dongle, then check with 'rtl_test -t'"
