//! Small libc calls that have no safe std equivalent.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;

/// The system's host name, or `localhost` if it cannot be had.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: buf is writable for its whole length; gethostname NUL-terminates on
    // success when the name fits, and we stop at the first NUL or the end anyway.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    match std::str::from_utf8(&buf[..end]) {
        Ok(s) if !s.is_empty() => s.to_string(),
        _ => "localhost".into(),
    }
}

/// Fills `buf` from the kernel's random source (getrandom(2)).
pub fn random_bytes(buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    // getrandom returns at most 32 MiB per call and can be interrupted; our buffers
    // are a few bytes, so a handful of rounds always suffices.
    for _ in 0..16 {
        if filled == buf.len() {
            return Ok(());
        }
        let rest = &mut buf[filled..];
        // SAFETY: rest is a valid writable buffer of rest.len() bytes.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        } else {
            filled += n as usize;
        }
    }
    if filled == buf.len() {
        Ok(())
    } else {
        Err(io::Error::other("getrandom returned too little"))
    }
}

/// True when the effective user is root.
pub fn is_root() -> bool {
    // SAFETY: geteuid cannot fail and has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The remote address of a socket, `None` if `fd` is not a connected socket.
pub fn peer_addr(fd: RawFd) -> Option<SocketAddr> {
    sock_addr(fd, true)
}

/// The local address of a socket, `None` if `fd` is not a socket.
pub fn local_addr(fd: RawFd) -> Option<SocketAddr> {
    sock_addr(fd, false)
}

fn sock_addr(fd: RawFd, peer: bool) -> Option<SocketAddr> {
    // SAFETY: storage is a zeroed sockaddr_storage, large enough for any address;
    // len tells the kernel its size and comes back as the filled length.
    unsafe {
        let mut storage: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let ptr = (&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr>();
        let rc = if peer {
            libc::getpeername(fd, ptr, &mut len)
        } else {
            libc::getsockname(fd, ptr, &mut len)
        };
        if rc != 0 {
            return None;
        }
        match storage.ss_family as libc::c_int {
            libc::AF_INET if len as usize >= std::mem::size_of::<libc::sockaddr_in>() => {
                let sin = &*(ptr as *const libc::sockaddr_in);
                let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
                Some(SocketAddr::V4(SocketAddrV4::new(
                    ip,
                    u16::from_be(sin.sin_port),
                )))
            }
            libc::AF_INET6 if len as usize >= std::mem::size_of::<libc::sockaddr_in6>() => {
                let sin6 = &*(ptr as *const libc::sockaddr_in6);
                let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
                Some(SocketAddr::V6(SocketAddrV6::new(
                    ip,
                    u16::from_be(sin6.sin6_port),
                    sin6.sin6_flowinfo,
                    sin6.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }
}

/// Waits until `fd` is ready for `events` (POLLIN/POLLOUT), up to `timeout_ms`
/// (-1: forever). Also wakes when `wake` (the signal self-pipe) is readable, and
/// when `also` is ([`Ready::Also`]; a watch on files, such as IMAP NOTIFY's
/// inotify descriptor). `fd` readable wins over `also`, the wake descriptor
/// over both. Returns Ok(Ready::Fd), Ok(Ready::Wake), Ok(Ready::Also) or
/// Ok(Ready::Timeout).
pub(crate) fn poll_also(
    fd: RawFd,
    events: libc::c_short,
    wake: Option<RawFd>,
    also: Option<RawFd>,
    timeout_ms: i32,
) -> io::Result<Ready> {
    // A negative descriptor is ignored by poll(2).
    let mut fds = [
        libc::pollfd {
            fd,
            events,
            revents: 0,
        },
        libc::pollfd {
            fd: wake.unwrap_or(-1),
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: also.unwrap_or(-1),
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    // SAFETY: fds is a valid array of 3 pollfd structs.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 3, timeout_ms) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    if wake.is_some() && fds[1].revents != 0 {
        return Ok(Ready::Wake);
    }
    if n == 0 {
        return Ok(Ready::Timeout);
    }
    if fds[0].revents == 0 && also.is_some() && fds[2].revents != 0 {
        return Ok(Ready::Also);
    }
    Ok(Ready::Fd)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ready {
    Fd,
    Wake,
    Timeout,
    /// The extra descriptor of [`poll_also`].
    Also,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;

    #[test]
    fn socket_addresses_of_a_loopback_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        assert_eq!(
            peer_addr(server.as_raw_fd()),
            Some(client.local_addr().unwrap())
        );
        assert_eq!(
            local_addr(server.as_raw_fd()),
            Some(listener.local_addr().unwrap())
        );
    }

    #[test]
    fn a_pipe_has_no_peer() {
        let file = tempfile::tempfile().unwrap();
        assert_eq!(peer_addr(file.as_raw_fd()), None);
    }

    #[test]
    fn random_bytes_differ() {
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        random_bytes(&mut a).unwrap();
        random_bytes(&mut b).unwrap();
        assert_ne!(a, b);
    }
}
