//! The PROXY protocol header (HAProxy's "PROXY protocol", versions 1 and 2) with
//! which a proxy in front of us names the client it connected for: nginx's mail
//! proxy sends version 1 (`proxy_protocol on;`), HAProxy either (`send-proxy`,
//! `send-proxy-v2`). It comes first on the connection, before our greeting.
//!
//! Only connections from `trusted_proxies` are read for one ([`crate::Daemon`]);
//! anyone else's `PROXY ...` line is just a bad command. A pure parser over the
//! octets read so far: it says how many more it needs, or what the header said
//! and how long it was, so the caller reads exactly the header and not one
//! octet of what follows (a TLS ClientHello, a pipelined command).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// A version 1 header is at most this long, CRLF included (the specification's
/// `PROXY UNKNOWN` with two full IPv6 addresses and ports).
const V1_MAX: usize = 107;
/// The twelve octets that start a version 2 header.
const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";
const V1_SIGNATURE: &[u8; 6] = b"PROXY ";

/// What the header said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    /// The proxy relays a client from `source` that connected to `destination`.
    Proxied {
        version: u8,
        source: SocketAddr,
        destination: SocketAddr,
    },
    /// The proxy speaks for itself (version 2 `LOCAL`, a health check) or for a
    /// client it cannot describe (version 1 `UNKNOWN`, version 2 `UNSPEC` or a
    /// UNIX socket): the connection's own addresses stand.
    Unknown { version: u8 },
}

impl Header {
    pub fn version(&self) -> u8 {
        match *self {
            Header::Proxied { version, .. } | Header::Unknown { version } => version,
        }
    }
}

/// One step of [`parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Not enough yet: read until there are this many octets in all.
    Need(usize),
    /// The header, and how many of the octets it took.
    Done(Header, usize),
}

/// Why a header was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub &'static str);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Invalid {}

/// Parses the start of a connection. Give it what has been read so far (from
/// nothing): a wrong first octet is refused at once, so a client that is not a
/// proxy costs one read.
pub fn parse(input: &[u8]) -> Result<Step, Invalid> {
    match input.first() {
        None => Ok(Step::Need(1)),
        Some(b'P') => parse_v1(input),
        Some(b'\r') => parse_v2(input),
        Some(_) => Err(Invalid("not a PROXY protocol header")),
    }
}

fn parse_v1(input: &[u8]) -> Result<Step, Invalid> {
    let start = input.len().min(V1_SIGNATURE.len());
    if input[..start] != V1_SIGNATURE[..start] {
        return Err(Invalid("not a PROXY protocol header"));
    }
    let Some(lf) = input.iter().position(|&b| b == b'\n') else {
        return if input.len() >= V1_MAX {
            Err(Invalid("version 1 header longer than 107 octets"))
        } else {
            Ok(Step::Need(input.len() + 1))
        };
    };
    let line = &input[..lf + 1];
    let Some(line) = line.strip_suffix(b"\r\n") else {
        return Err(Invalid("version 1 header not ended by CRLF"));
    };
    let line = std::str::from_utf8(line).map_err(|_| Invalid("version 1 header not ASCII"))?;
    let fields: Vec<&str> = line.split(' ').collect();
    let header = match fields[..] {
        ["PROXY", "UNKNOWN", ..] => Header::Unknown { version: 1 },
        ["PROXY", family @ ("TCP4" | "TCP6"), src, dst, sport, dport] => {
            let address = |s: &str| -> Result<IpAddr, Invalid> {
                let ip = if family == "TCP4" {
                    s.parse::<Ipv4Addr>().map(IpAddr::V4)
                } else {
                    s.parse::<Ipv6Addr>().map(IpAddr::V6)
                };
                ip.map_err(|_| Invalid("version 1 header: bad address"))
            };
            Header::Proxied {
                version: 1,
                source: SocketAddr::new(address(src)?, port(sport)?),
                destination: SocketAddr::new(address(dst)?, port(dport)?),
            }
        }
        _ => return Err(Invalid("version 1 header: bad fields")),
    };
    Ok(Step::Done(header, lf + 1))
}

/// A version 1 port: decimal, no sign, no leading zero (the specification's form).
fn port(s: &str) -> Result<u16, Invalid> {
    let bad = Invalid("version 1 header: bad port");
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return Err(bad);
    }
    s.parse().map_err(|_| bad)
}

fn parse_v2(input: &[u8]) -> Result<Step, Invalid> {
    let start = input.len().min(V2_SIGNATURE.len());
    if input[..start] != V2_SIGNATURE[..start] {
        return Err(Invalid("not a PROXY protocol header"));
    }
    if input.len() < 16 {
        return Ok(Step::Need(16));
    }
    let command = match input[12] {
        0x20 => Command::Local,
        0x21 => Command::Proxy,
        v if v >> 4 != 2 => return Err(Invalid("version 2 header: unknown version")),
        _ => return Err(Invalid("version 2 header: unknown command")),
    };
    let family = input[13];
    let length = usize::from(u16::from_be_bytes([input[14], input[15]]));
    let total = 16 + length;
    if input.len() < total {
        return Ok(Step::Need(total));
    }
    let body = &input[16..total];
    let unknown = Step::Done(Header::Unknown { version: 2 }, total);
    if command == Command::Local {
        return Ok(unknown);
    }
    let be16 = |b: &[u8]| u16::from_be_bytes([b[0], b[1]]);
    let header = match family {
        // TCP (STREAM) over IPv4 and IPv6; the rest of the body is TLVs, unused.
        0x11 => {
            if body.len() < 12 {
                return Err(Invalid("version 2 header: IPv4 addresses cut short"));
            }
            let ip = |b: &[u8]| IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]));
            Header::Proxied {
                version: 2,
                source: SocketAddr::new(ip(&body[0..4]), be16(&body[8..10])),
                destination: SocketAddr::new(ip(&body[4..8]), be16(&body[10..12])),
            }
        }
        0x21 => {
            if body.len() < 36 {
                return Err(Invalid("version 2 header: IPv6 addresses cut short"));
            }
            let ip = |b: &[u8]| {
                let mut a = [0u8; 16];
                a.copy_from_slice(b);
                IpAddr::V6(Ipv6Addr::from(a))
            };
            Header::Proxied {
                version: 2,
                source: SocketAddr::new(ip(&body[0..16]), be16(&body[32..34])),
                destination: SocketAddr::new(ip(&body[16..32]), be16(&body[34..36])),
            }
        }
        // UNSPEC, UNIX sockets, datagrams: nothing we can log as a host.
        _ => return Ok(unknown),
    };
    Ok(Step::Done(header, total))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Local,
    Proxy,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` the way the transport does, as much as each step asks
    /// for, and returns the header and how much of the input it took.
    fn feed(input: &[u8]) -> Result<(Header, usize), Invalid> {
        let mut have = 0;
        loop {
            match parse(&input[..have])? {
                Step::Need(n) => {
                    assert!(n > have, "a step must ask for more than it has");
                    if n > input.len() {
                        return Err(Invalid("ran out of input"));
                    }
                    have = n;
                }
                Step::Done(h, used) => return Ok((h, used)),
            }
        }
    }

    fn v2(command: u8, family: u8, body: &[u8]) -> Vec<u8> {
        let mut h = V2_SIGNATURE.to_vec();
        h.push(command);
        h.push(family);
        h.extend_from_slice(&(body.len() as u16).to_be_bytes());
        h.extend_from_slice(body);
        h
    }

    #[test]
    fn version_1_names_the_client_and_stops_at_its_crlf() {
        let input = b"PROXY TCP4 198.51.100.7 192.0.2.1 51234 143\r\nA1 CAPABILITY\r\n";
        let (h, used) = feed(input).unwrap();
        assert_eq!(
            h,
            Header::Proxied {
                version: 1,
                source: "198.51.100.7:51234".parse().unwrap(),
                destination: "192.0.2.1:143".parse().unwrap(),
            }
        );
        assert_eq!(&input[used..], b"A1 CAPABILITY\r\n");
        let (h, _) = feed(b"PROXY TCP6 2001:db8::7 2001:db8::1 4000 993\r\n").unwrap();
        assert_eq!(h.version(), 1);
        assert!(
            matches!(h, Header::Proxied { source, .. } if source == "[2001:db8::7]:4000".parse().unwrap())
        );
        let (h, used) = feed(b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\nX").unwrap();
        assert_eq!((h, used), (Header::Unknown { version: 1 }, 35));
    }

    #[test]
    fn version_1_refuses_what_the_specification_does_not_allow() {
        for bad in [
            &b"PROXY TCP4 198.51.100.7 192.0.2.1 51234 143\n"[..],
            b"PROXY TCP4 198.51.100.7 192.0.2.1 51234\r\n",
            b"PROXY TCP4 2001:db8::7 192.0.2.1 51234 143\r\n",
            b"PROXY TCP6 198.51.100.7 2001:db8::1 1 2\r\n",
            b"PROXY TCP4 198.51.100.7 192.0.2.1 65536 143\r\n",
            b"PROXY TCP4 198.51.100.7 192.0.2.1 0143 143\r\n",
            b"PROXY TCP4 198.51.100.7 192.0.2.1 +1 143\r\n",
            b"PROXY  TCP4 198.51.100.7 192.0.2.1 1 143\r\n",
            b"PROXY UDP4 198.51.100.7 192.0.2.1 1 143\r\n",
            b"A1 LOGIN fred secret\r\n",
            b"PROXX TCP4",
        ] {
            assert!(feed(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        // A line that never ends is given up at the longest legal length.
        let long = [b"PROXY ".as_slice(), &[b'x'; 200]].concat();
        assert_eq!(
            feed(&long).unwrap_err(),
            Invalid("version 1 header longer than 107 octets")
        );
        // A wrong first octet is refused before anything more is read.
        assert!(parse(b"A").is_err());
        assert!(parse(b"\x16").is_err(), "a TLS ClientHello is not a header");
    }

    #[test]
    fn version_2_names_the_client_and_skips_its_tlvs() {
        let mut body = vec![198, 51, 100, 7, 192, 0, 2, 1];
        body.extend_from_slice(&51234u16.to_be_bytes());
        body.extend_from_slice(&993u16.to_be_bytes());
        body.extend_from_slice(&[0x20, 0x00, 0x05, 0x01, 0, 0, 0, 0]); // a TLV (SSL)
        let mut input = v2(0x21, 0x11, &body);
        let header_len = input.len();
        input.extend_from_slice(b"\x16\x03\x01");
        let (h, used) = feed(&input).unwrap();
        assert_eq!(used, header_len);
        assert_eq!(
            h,
            Header::Proxied {
                version: 2,
                source: "198.51.100.7:51234".parse().unwrap(),
                destination: "192.0.2.1:993".parse().unwrap(),
            }
        );
        let mut body6 = Vec::new();
        body6.extend_from_slice(&"2001:db8::7".parse::<Ipv6Addr>().unwrap().octets());
        body6.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        body6.extend_from_slice(&[0x10, 0x00, 0x00, 0x8f]);
        let (h, _) = feed(&v2(0x21, 0x21, &body6)).unwrap();
        assert!(
            matches!(h, Header::Proxied { source, .. } if source == "[2001:db8::7]:4096".parse().unwrap())
        );
    }

    #[test]
    fn version_2_local_and_unspecified_keep_the_connections_addresses() {
        let (h, used) = feed(&v2(0x20, 0x00, &[])).unwrap();
        assert_eq!((h, used), (Header::Unknown { version: 2 }, 16));
        // LOCAL ignores whatever addresses follow.
        let (h, _) = feed(&v2(0x20, 0x11, &[0; 12])).unwrap();
        assert_eq!(h, Header::Unknown { version: 2 });
        let (h, _) = feed(&v2(0x21, 0x31, &[0; 216])).unwrap();
        assert_eq!(h, Header::Unknown { version: 2 });
    }

    #[test]
    fn version_2_refuses_bad_versions_commands_and_short_bodies() {
        assert!(feed(&v2(0x11, 0x11, &[0; 12])).is_err());
        assert!(feed(&v2(0x22, 0x11, &[0; 12])).is_err());
        assert!(feed(&v2(0x21, 0x11, &[0; 11])).is_err());
        assert!(feed(&v2(0x21, 0x21, &[0; 35])).is_err());
        assert!(parse(b"\r\n\r\n\0\r\nQUIX").is_err());
        // A header that says it is longer than what came is not complete.
        let mut cut = v2(0x21, 0x11, &[0; 12]);
        cut.truncate(20);
        assert_eq!(parse(&cut), Ok(Step::Need(28)));
    }
}
