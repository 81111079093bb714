//! Who is on the other end of fd 0: a socket peer from inetd, or a local user,
//! and, behind a trusted proxy, the client that proxy speaks for.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::RawFd;
use std::str::FromStr;

use crate::service::Service;

/// The two ends of the connection, as far as they are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// The client's address; `None` when fd 0 is a pipe or a terminal (run by hand).
    pub remote: Option<SocketAddr>,
    /// Our own address; its port chooses implicit TLS like UW did.
    pub local: Option<SocketAddr>,
    /// The socket's own peer when it is a trusted proxy that named the client
    /// (`remote`) in a PROXY protocol header; `None` for a direct connection.
    pub proxy: Option<SocketAddr>,
}

impl Peer {
    /// Asks the kernel about `fd` (normally 0) with getpeername/getsockname.
    pub fn of_fd(fd: RawFd) -> Peer {
        Peer {
            remote: crate::sys::peer_addr(fd).map(unmapped),
            local: crate::sys::local_addr(fd).map(unmapped),
            proxy: None,
        }
    }

    /// A peer that is not a socket (tests, a shell).
    pub fn local_process() -> Peer {
        Peer {
            remote: None,
            local: None,
            proxy: None,
        }
    }

    /// This connection as the proxy at its other end described it: `client` is
    /// who connected to the proxy, and from now on the address in logs, in
    /// PAM_RHOST and so in fail2ban's counting of failed logins. Our own
    /// address stays the socket's (the port we were reached on picks implicit
    /// TLS), and the proxy is kept for [`Peer::is_local`].
    pub fn behind_proxy(self, client: SocketAddr) -> Peer {
        Peer {
            remote: Some(unmapped(client)),
            local: self.local,
            proxy: self.remote,
        }
    }

    /// True for a loopback address (127/8, ::1, ::ffff:127/104) or no socket at
    /// all: such a client is on this host, so plaintext passwords do not cross a
    /// network. Behind a proxy it is the proxy's address that counts: the
    /// password crosses the hop from the proxy to us, whatever the client's
    /// own hop was (that one is the proxy's to protect).
    pub fn is_local(&self) -> bool {
        match self.proxy.or(self.remote).map(|a| a.ip()) {
            None => true,
            Some(IpAddr::V4(ip)) => ip.is_loopback(),
            Some(IpAddr::V6(ip)) => {
                ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
        }
    }

    /// Whether a connection to this local port starts with TLS (993, 995).
    pub fn is_implicit_tls_port(&self, service: Service) -> bool {
        match (self.local, service.implicit_tls_port()) {
            (Some(addr), Some(port)) => addr.port() == port,
            _ => false,
        }
    }

    /// The address as PAM's `PAM_RHOST` wants it, if there is one.
    pub fn host(&self) -> Option<String> {
        self.remote.map(|a| a.ip().to_string())
    }
}

/// An address or a network (`192.0.2.0/24`, `2001:db8::/32`), as
/// `trusted_proxies` lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    /// Whether `ip` is inside; an IPv4 client of a dual-stack socket
    /// (`::ffff:192.0.2.1`) is the IPv4 address here too.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Network {
    type Err = String;

    fn from_str(s: &str) -> Result<Network, String> {
        let (address, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let address = IpAddr::from_str(address)
            .map_err(|_| format!("`{s}` is not an IP address or network"))?
            .to_canonical();
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max && p.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => return Err(format!("`{s}`: the prefix length must be 0 to {max}")),
            },
        };
        Ok(Network { address, prefix })
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

/// An IPv4 client of a dual-stack socket (systemd's `ListenStream=143`, xinetd's
/// `flags = IPv6`) arrives as `::ffff:192.0.2.1`; it is the IPv4 address, and
/// logs and PAM_RHOST must say so, or fail2ban's `uw-imapd` filter bans an IPv6
/// address that never matches the client's IPv4 packets.
fn unmapped(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

/// For logs: `[192.0.2.1]`, as UW wrote the address part, or `local`.
impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.remote {
            Some(addr) => write!(f, "[{}]", addr.ip()),
            None => f.write_str("local"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(remote: &str, local: &str) -> Peer {
        Peer {
            remote: Some(remote.parse().unwrap()),
            local: Some(local.parse().unwrap()),
            proxy: None,
        }
    }

    #[test]
    fn loopback_and_unknown_peers_are_local() {
        assert!(peer("127.0.0.1:5000", "127.0.0.1:143").is_local());
        assert!(peer("127.3.4.5:5000", "127.0.0.1:143").is_local());
        assert!(peer("[::1]:5000", "[::1]:143").is_local());
        assert!(peer("[::ffff:127.0.0.1]:5000", "[::1]:143").is_local());
        assert!(Peer::local_process().is_local());
        assert!(!peer("192.0.2.7:5000", "192.0.2.1:143").is_local());
        assert!(!peer("[2001:db8::1]:5000", "[2001:db8::2]:143").is_local());
    }

    #[test]
    fn ipv4_clients_of_dual_stack_sockets_are_ipv4() {
        let mapped: SocketAddr = "[::ffff:192.0.2.7]:5000".parse().unwrap();
        assert_eq!(unmapped(mapped), "192.0.2.7:5000".parse().unwrap());
        let v6: SocketAddr = "[2001:db8::1]:5000".parse().unwrap();
        assert_eq!(unmapped(v6), v6);
        let p = Peer {
            remote: Some(unmapped(mapped)),
            local: None,
            proxy: None,
        };
        assert_eq!(p.to_string(), "[192.0.2.7]");
        assert_eq!(p.host().as_deref(), Some("192.0.2.7"));
    }

    #[test]
    fn implicit_tls_follows_the_local_port() {
        assert!(peer("192.0.2.7:5000", "192.0.2.1:993").is_implicit_tls_port(Service::Imap));
        assert!(!peer("192.0.2.7:5000", "192.0.2.1:143").is_implicit_tls_port(Service::Imap));
        assert!(peer("192.0.2.7:5000", "192.0.2.1:995").is_implicit_tls_port(Service::Pop3));
        assert!(!peer("192.0.2.7:5000", "192.0.2.1:995").is_implicit_tls_port(Service::Pop2));
        assert_eq!(
            peer("192.0.2.7:5000", "192.0.2.1:993").to_string(),
            "[192.0.2.7]"
        );
    }

    #[test]
    fn behind_a_proxy_the_client_is_logged_and_the_proxy_hop_decides_locality() {
        let socket = peer("127.0.0.1:40000", "127.0.0.2:143");
        let p = socket.behind_proxy("[::ffff:198.51.100.7]:5555".parse().unwrap());
        assert_eq!(p.to_string(), "[198.51.100.7]");
        assert_eq!(p.host().as_deref(), Some("198.51.100.7"));
        assert_eq!(p.proxy, socket.remote);
        assert_eq!(p.local, socket.local);
        // The password came over loopback from the proxy: no network crossed here.
        assert!(p.is_local());
        let far = peer("192.0.2.20:40000", "192.0.2.1:143")
            .behind_proxy("127.0.0.1:5555".parse().unwrap());
        // A client claiming loopback behind a remote proxy is not local.
        assert!(!far.is_local());
    }

    #[test]
    fn networks_match_their_addresses_only() {
        let net: Network = "192.0.2.0/24".parse().unwrap();
        assert!(net.contains("192.0.2.200".parse().unwrap()));
        assert!(net.contains("::ffff:192.0.2.1".parse().unwrap()));
        assert!(!net.contains("192.0.3.1".parse().unwrap()));
        assert!(!net.contains("2001:db8::1".parse().unwrap()));
        let one: Network = "127.0.0.1".parse().unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        let v6: Network = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains("2001:db8:ffff::9".parse().unwrap()));
        assert!(!v6.contains("2001:db9::1".parse().unwrap()));
        let all: Network = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("203.0.113.5".parse().unwrap()));
        assert_eq!(one.to_string(), "127.0.0.1/32");
        for bad in [
            "",
            "host.example",
            "192.0.2.0/33",
            "192.0.2.0/",
            "::/129",
            "1.2.3.4/+8",
        ] {
            assert!(bad.parse::<Network>().is_err(), "{bad}");
        }
    }
}
