//! ENABLE (RFC 5161). CONDSTORE and QRESYNC (RFC 7162 §3.1, §3.2.3) are the
//! extensions here that need it; QRESYNC brings CONDSTORE with it. `* ENABLED`
//! names what this command switched on (nothing that was on already, nothing the
//! server does not have).

use crate::host::Host;
use crate::respond::{untagged, Reply};
use crate::session::Session;

pub(crate) fn run<H: Host>(s: &mut Session<H>, asked: &[String]) -> Reply {
    let mut line = String::from("ENABLED");
    for name in asked {
        let switched = match name.as_str() {
            "CONDSTORE" => !std::mem::replace(&mut s.enabled.condstore, true),
            "QRESYNC" => {
                s.enabled.condstore = true;
                !std::mem::replace(&mut s.enabled.qresync, true)
            }
            _ => false,
        };
        if switched {
            line.push(' ');
            line.push_str(name);
        }
    }
    untagged(&mut s.out, &line);
    Reply::ok("ENABLE completed")
}
