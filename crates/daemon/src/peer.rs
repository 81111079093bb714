//! Who is on the other end of fd 0: a socket peer from inetd, or a local user.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::RawFd;

use crate::service::Service;

/// The two ends of the connection, as far as they are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// The client's address; `None` when fd 0 is a pipe or a terminal (run by hand).
    pub remote: Option<SocketAddr>,
    /// Our own address; its port chooses implicit TLS like UW did.
    pub local: Option<SocketAddr>,
}

impl Peer {
    /// Asks the kernel about `fd` (normally 0) with getpeername/getsockname.
    pub fn of_fd(fd: RawFd) -> Peer {
        Peer {
            remote: crate::sys::peer_addr(fd).map(unmapped),
            local: crate::sys::local_addr(fd).map(unmapped),
        }
    }

    /// A peer that is not a socket (tests, a shell).
    pub fn local_process() -> Peer {
        Peer {
            remote: None,
            local: None,
        }
    }

    /// True for a loopback address (127/8, ::1, ::ffff:127/104) or no socket at
    /// all: such a client is on this host, so plaintext passwords do not cross a
    /// network.
    pub fn is_local(&self) -> bool {
        match self.remote.map(|a| a.ip()) {
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
}
