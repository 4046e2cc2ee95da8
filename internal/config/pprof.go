package config

import (
	"net"
	"net/netip"
)

// loopbackAddr accepts "" (off) or ip:port with a loopback IP (127.0.0.0/8 or ::1). The profiler
// shows stacks and timings and can be made to burn CPU, so it must never be reachable from the
// network; an operator who needs it remotely tunnels to it. A host name is refused too, even
// "localhost": what it resolves to is up to the host's resolver, not to this check.
func loopbackAddr(dst *string, v string) error {
	if v == "" {
		*dst = ""
		return nil
	}
	host, port, err := net.SplitHostPort(v)
	if err == nil && validPort(port) {
		if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
			*dst = v
			return nil
		}
	}
	return accepts("a loopback ip:port such as 127.0.0.1:6060 or [::1]:6060 (the profiler is never served on other interfaces)")
}
