//! Kerberos V5 through the system's GSS-API (MIT krb5): the acceptor side of
//! SASL GSSAPI (RFC 4752), and krb5_kuserok for who may log in as whom.
//!
//! A thin FFI over the dozen calls needed, declared after `<gssapi/gssapi.h>`
//! and `<krb5.h>` of MIT krb5 1.x. As with PAM we link the runtime libraries by
//! soname (`libgssapi_krb5.so.2`, `libkrb5.so.3`), so building needs no -dev
//! package. The library reads its configuration from `KRB5_CONFIG` when set
//! (the server is never setuid, so the environment is honoured).
//!
//! The acceptor credential is acquired once at startup, as root, from the
//! configured keytab ([`init`]); the mechanism is offered only when that worked.
//! One process serves one connection, so the credential is process-wide.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::fmt;
use std::path::Path;
use std::ptr;
use std::sync::Mutex;

type OmUint32 = u32;

#[repr(C)]
struct Buffer {
    length: usize,
    value: *mut c_void,
}

impl Buffer {
    fn empty() -> Buffer {
        Buffer {
            length: 0,
            value: ptr::null_mut(),
        }
    }

    /// A borrowed view of `bytes` for input arguments.
    fn of(bytes: &[u8]) -> Buffer {
        Buffer {
            length: bytes.len(),
            value: bytes.as_ptr() as *mut c_void,
        }
    }
}

#[repr(C)]
struct Oid {
    length: OmUint32,
    elements: *mut c_void,
}

#[repr(C)]
struct Opaque {
    _opaque: [u8; 0],
}

type Name = *mut Opaque;
type CtxId = *mut Opaque;
type CredId = *mut Opaque;
type Krb5Context = *mut Opaque;
type Krb5Principal = *mut Opaque;

const GSS_C_ACCEPT: c_int = 2;
const GSS_C_GSS_CODE: c_int = 1;
const GSS_C_MECH_CODE: c_int = 2;
const GSS_S_COMPLETE: OmUint32 = 0;
const GSS_S_CONTINUE_NEEDED: OmUint32 = 1;
/// The calling and routine error fields (RFC 2744 §3.9.1).
const GSS_ERROR_MASK: OmUint32 = 0xffff_0000;

/// 1.2.840.113554.1.2.1.4, GSS_C_NT_HOSTBASED_SERVICE (RFC 2743 §4.1).
const NT_HOSTBASED_SERVICE: [u8; 10] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x01, 0x04];
/// 1.2.840.113554.1.2.2, the Kerberos V5 mechanism (RFC 1964).
const KRB5_MECHANISM: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];

#[link(name = "libgssapi_krb5.so.2", kind = "dylib", modifiers = "+verbatim")]
extern "C" {
    fn gss_import_name(
        minor: *mut OmUint32,
        input: *const Buffer,
        name_type: *const Oid,
        output: *mut Name,
    ) -> OmUint32;
    fn gss_acquire_cred(
        minor: *mut OmUint32,
        desired_name: Name,
        time_req: OmUint32,
        desired_mechs: *const c_void,
        cred_usage: c_int,
        output_cred: *mut CredId,
        actual_mechs: *mut *mut c_void,
        time_rec: *mut OmUint32,
    ) -> OmUint32;
    fn gss_accept_sec_context(
        minor: *mut OmUint32,
        context: *mut CtxId,
        acceptor_cred: CredId,
        input_token: *const Buffer,
        chan_bindings: *const c_void,
        src_name: *mut Name,
        mech_type: *mut *const Oid,
        output_token: *mut Buffer,
        ret_flags: *mut OmUint32,
        time_rec: *mut OmUint32,
        delegated_cred: *mut CredId,
    ) -> OmUint32;
    fn gss_display_name(
        minor: *mut OmUint32,
        name: Name,
        output: *mut Buffer,
        name_type: *mut *const Oid,
    ) -> OmUint32;
    fn gss_wrap(
        minor: *mut OmUint32,
        context: CtxId,
        conf_req: c_int,
        qop_req: OmUint32,
        input: *const Buffer,
        conf_state: *mut c_int,
        output: *mut Buffer,
    ) -> OmUint32;
    fn gss_unwrap(
        minor: *mut OmUint32,
        context: CtxId,
        input: *const Buffer,
        output: *mut Buffer,
        conf_state: *mut c_int,
        qop_state: *mut OmUint32,
    ) -> OmUint32;
    fn gss_display_status(
        minor: *mut OmUint32,
        status: OmUint32,
        status_type: c_int,
        mech_type: *const Oid,
        message_context: *mut OmUint32,
        status_string: *mut Buffer,
    ) -> OmUint32;
    fn gss_release_buffer(minor: *mut OmUint32, buffer: *mut Buffer) -> OmUint32;
    fn gss_release_name(minor: *mut OmUint32, name: *mut Name) -> OmUint32;
    fn gss_release_cred(minor: *mut OmUint32, cred: *mut CredId) -> OmUint32;
    fn gss_delete_sec_context(
        minor: *mut OmUint32,
        context: *mut CtxId,
        output_token: *mut Buffer,
    ) -> OmUint32;
    fn krb5_gss_register_acceptor_identity(keytab: *const c_char) -> OmUint32;
}

#[link(name = "libkrb5.so.3", kind = "dylib", modifiers = "+verbatim")]
extern "C" {
    fn krb5_init_context(context: *mut Krb5Context) -> i32;
    fn krb5_free_context(context: Krb5Context);
    fn krb5_parse_name(context: Krb5Context, name: *const c_char, out: *mut Krb5Principal)
        -> i32;
    fn krb5_free_principal(context: Krb5Context, principal: Krb5Principal);
    fn krb5_kuserok(context: Krb5Context, principal: Krb5Principal, luser: *const c_char) -> u32;
    fn krb5_aname_to_localname(
        context: Krb5Context,
        principal: Krb5Principal,
        size: c_int,
        name: *mut c_char,
    ) -> i32;
}

/// A GSS-API failure: the major and minor status texts, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GssError(pub String);

impl fmt::Display for GssError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn status_text(call: &str, major: OmUint32, minor: OmUint32) -> GssError {
    let mut text = format!("{call}:");
    // The mechanism's (Kerberos') text first: it says what went wrong, and the
    // log keeps only the first 80 characters of a reason.
    for (code, kind) in [(minor, GSS_C_MECH_CODE), (major, GSS_C_GSS_CODE)] {
        if code == 0 {
            continue;
        }
        let mut context: OmUint32 = 0;
        // Bounded: a library that keeps saying "more" is not followed forever.
        for _ in 0..8 {
            let mut m: OmUint32 = 0;
            let mut buf = Buffer::empty();
            // SAFETY: all pointers are to live locals; the buffer is released below.
            let r = unsafe {
                gss_display_status(&mut m, code, kind, ptr::null(), &mut context, &mut buf)
            };
            if r != GSS_S_COMPLETE {
                break;
            }
            text.push(' ');
            text.push_str(&String::from_utf8_lossy(buffer_bytes(&buf)));
            // SAFETY: buf was filled by the library.
            unsafe { gss_release_buffer(&mut m, &mut buf) };
            if context == 0 {
                break;
            }
        }
    }
    GssError(text)
}

fn buffer_bytes(buf: &Buffer) -> &[u8] {
    if buf.value.is_null() || buf.length == 0 {
        &[]
    } else {
        // SAFETY: the library filled the buffer with `length` bytes at `value`.
        unsafe { std::slice::from_raw_parts(buf.value as *const u8, buf.length) }
    }
}

/// Copies a library-owned buffer out and releases it.
fn take_buffer(mut buf: Buffer) -> Vec<u8> {
    let bytes = buffer_bytes(&buf).to_vec();
    let mut minor = 0;
    // SAFETY: buf came from the library (or is empty, which release accepts).
    unsafe { gss_release_buffer(&mut minor, &mut buf) };
    bytes
}

fn failed(major: OmUint32) -> bool {
    major & GSS_ERROR_MASK != 0
}

/// The acceptor credential, once acquired.
struct Acceptor(CredId);

// SAFETY: the credential handle is only used under the mutex; MIT's GSS-API is
// thread-safe for distinct calls on one credential.
unsafe impl Send for Acceptor {}

static ACCEPTOR: Mutex<Option<Acceptor>> = Mutex::new(None);

/// Registers `keytab` and acquires the acceptor credential of
/// `service@host` (e.g. `imap@mail.example`, the principal
/// `imap/mail.example@REALM`). Called at startup, as root; afterwards
/// [`available`] says whether GSSAPI can be offered.
pub fn init(keytab: &Path, service: &str, host: &str) -> Result<(), GssError> {
    let keytab = CString::new(keytab.as_os_str().as_encoded_bytes())
        .map_err(|_| GssError("keytab path contains NUL".into()))?;
    // SAFETY: a valid C string; the library copies it.
    let major = unsafe { krb5_gss_register_acceptor_identity(keytab.as_ptr()) };
    if failed(major) {
        return Err(status_text("krb5_gss_register_acceptor_identity", major, 0));
    }
    let principal = format!("{service}@{host}");
    let mut minor = 0;
    let mut name: Name = ptr::null_mut();
    let oid = Oid {
        length: NT_HOSTBASED_SERVICE.len() as OmUint32,
        elements: NT_HOSTBASED_SERVICE.as_ptr() as *mut c_void,
    };
    // SAFETY: input buffer and OID point to live data; name is an out pointer.
    let major =
        unsafe { gss_import_name(&mut minor, &Buffer::of(principal.as_bytes()), &oid, &mut name) };
    if failed(major) {
        return Err(status_text("gss_import_name", major, minor));
    }
    let mut cred: CredId = ptr::null_mut();
    // SAFETY: name was imported above; out pointers are live locals or null.
    let major = unsafe {
        gss_acquire_cred(
            &mut minor,
            name,
            0,
            ptr::null(),
            GSS_C_ACCEPT,
            &mut cred,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    let mut m = 0;
    // SAFETY: name came from gss_import_name.
    unsafe { gss_release_name(&mut m, &mut name) };
    if failed(major) {
        return Err(status_text("gss_acquire_cred", major, minor));
    }
    let mut slot = ACCEPTOR.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(mut old) = slot.replace(Acceptor(cred)) {
        // SAFETY: a credential acquired by an earlier init.
        unsafe { gss_release_cred(&mut m, &mut old.0) };
    }
    Ok(())
}

/// Whether [`init`] acquired the acceptor credential.
pub fn available() -> bool {
    ACCEPTOR.lock().map(|a| a.is_some()).unwrap_or(false)
}

/// What one call to [`Context::accept`] gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Accepted {
    /// Send this token and wait for the next.
    Continue(Vec<u8>),
    /// The context is established; send this token if it is not empty.
    Complete(Vec<u8>),
}

/// One GSS-API security context on the acceptor side; deleted when dropped.
pub struct Context {
    handle: CtxId,
    client: Name,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("gssapi::Context(..)")
    }
}

impl Default for Context {
    fn default() -> Context {
        Context::new()
    }
}

impl Context {
    pub fn new() -> Context {
        Context {
            handle: ptr::null_mut(),
            client: ptr::null_mut(),
        }
    }

    /// gss_accept_sec_context on the client's token. A mechanism other than
    /// Kerberos V5 is refused (RFC 4752 §3.1: the server should verify it).
    pub fn accept(&mut self, token: &[u8]) -> Result<Accepted, GssError> {
        let guard = ACCEPTOR.lock().unwrap_or_else(|e| e.into_inner());
        let Some(cred) = guard.as_ref().map(|a| a.0) else {
            return Err(GssError("no acceptor credential".into()));
        };
        let mut minor = 0;
        let mut mech: *const Oid = ptr::null();
        let mut out = Buffer::empty();
        if !self.client.is_null() {
            let mut m = 0;
            // SAFETY: a name from an earlier accept call.
            unsafe { gss_release_name(&mut m, &mut self.client) };
        }
        // SAFETY: the context handle is ours (null at first); the input buffer
        // borrows `token`; every out pointer is a live field or local.
        let major = unsafe {
            gss_accept_sec_context(
                &mut minor,
                &mut self.handle,
                cred,
                &Buffer::of(token),
                ptr::null(),
                &mut self.client,
                &mut mech,
                &mut out,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        drop(guard);
        let out = take_buffer(out);
        if failed(major) {
            return Err(status_text("gss_accept_sec_context", major, minor));
        }
        match major & 0xffff {
            GSS_S_CONTINUE_NEEDED => Ok(Accepted::Continue(out)),
            GSS_S_COMPLETE => {
                // SAFETY: on completion `mech` points to a static OID of the library.
                let oid = unsafe { mech.as_ref() };
                let is_krb5 = oid.is_some_and(|o| {
                    // SAFETY: `elements` holds `length` bytes.
                    o.length as usize == KRB5_MECHANISM.len()
                        && unsafe {
                            std::slice::from_raw_parts(o.elements as *const u8, o.length as usize)
                        } == KRB5_MECHANISM
                });
                if !is_krb5 {
                    return Err(GssError("the negotiated mechanism is not Kerberos V5".into()));
                }
                Ok(Accepted::Complete(out))
            }
            other => Err(GssError(format!(
                "gss_accept_sec_context: unexpected status {other}"
            ))),
        }
    }

    /// The client's principal (`user@REALM`), once the context is established.
    pub fn client_name(&self) -> Result<String, GssError> {
        let mut minor = 0;
        let mut out = Buffer::empty();
        // SAFETY: `client` was set by a completed accept; out pointers are locals.
        let major =
            unsafe { gss_display_name(&mut minor, self.client, &mut out, ptr::null_mut()) };
        if failed(major) {
            return Err(status_text("gss_display_name", major, minor));
        }
        String::from_utf8(take_buffer(out))
            .map_err(|_| GssError("principal name is not UTF-8".into()))
    }

    /// gss_wrap without confidentiality (RFC 4752 §3.1: conf_flag FALSE).
    pub fn wrap(&self, message: &[u8]) -> Result<Vec<u8>, GssError> {
        let mut minor = 0;
        let mut out = Buffer::empty();
        // SAFETY: an established context; input borrows `message`.
        let major = unsafe {
            gss_wrap(
                &mut minor,
                self.handle,
                0,
                0,
                &Buffer::of(message),
                ptr::null_mut(),
                &mut out,
            )
        };
        if failed(major) {
            return Err(status_text("gss_wrap", major, minor));
        }
        Ok(take_buffer(out))
    }

    /// gss_unwrap of the client's security layer answer.
    pub fn unwrap(&self, token: &[u8]) -> Result<Vec<u8>, GssError> {
        let mut minor = 0;
        let mut out = Buffer::empty();
        // SAFETY: an established context; input borrows `token`.
        let major = unsafe {
            gss_unwrap(
                &mut minor,
                self.handle,
                &Buffer::of(token),
                &mut out,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        if failed(major) {
            return Err(status_text("gss_unwrap", major, minor));
        }
        Ok(take_buffer(out))
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        let mut minor = 0;
        // SAFETY: handles are null or owned by this value; both calls accept null.
        unsafe {
            if !self.client.is_null() {
                gss_release_name(&mut minor, &mut self.client);
            }
            if !self.handle.is_null() {
                gss_delete_sec_context(&mut minor, &mut self.handle, ptr::null_mut());
            }
        }
    }
}

/// A krb5 library context with one parsed principal.
struct Principal {
    context: Krb5Context,
    principal: Krb5Principal,
}

impl Principal {
    fn parse(name: &str) -> Result<Principal, GssError> {
        let cname = CString::new(name).map_err(|_| GssError("principal contains NUL".into()))?;
        let mut context: Krb5Context = ptr::null_mut();
        // SAFETY: out pointer to a local.
        let code = unsafe { krb5_init_context(&mut context) };
        if code != 0 {
            return Err(GssError(format!("krb5_init_context: error {code}")));
        }
        let mut principal: Krb5Principal = ptr::null_mut();
        // SAFETY: a fresh context, a valid C string, an out pointer to a local.
        let code = unsafe { krb5_parse_name(context, cname.as_ptr(), &mut principal) };
        if code != 0 {
            // SAFETY: the context from krb5_init_context.
            unsafe { krb5_free_context(context) };
            return Err(GssError(format!("krb5_parse_name {name}: error {code}")));
        }
        Ok(Principal { context, principal })
    }
}

impl Drop for Principal {
    fn drop(&mut self) {
        // SAFETY: both were made in Principal::parse and are freed once.
        unsafe {
            krb5_free_principal(self.context, self.principal);
            krb5_free_context(self.context);
        }
    }
}

/// Whether `principal` may log in as the local `user` (krb5_kuserok: listed
/// in the user's `~/.k5login`, or, without that file, `user@DEFAULT_REALM`
/// as the krb5.conf's auth_to_local rules map it).
pub fn kuserok(principal: &str, user: &str) -> Result<bool, GssError> {
    let p = Principal::parse(principal)?;
    let luser = CString::new(user).map_err(|_| GssError("user name contains NUL".into()))?;
    // SAFETY: a parsed principal and a valid C string.
    Ok(unsafe { krb5_kuserok(p.context, p.principal, luser.as_ptr()) } != 0)
}

/// The local user name `principal` maps to (krb5_aname_to_localname), used
/// when the client names no authorization identity.
pub fn local_name(principal: &str) -> Result<String, GssError> {
    let p = Principal::parse(principal)?;
    let mut buf = [0 as c_char; 256];
    // SAFETY: the buffer is 256 bytes and its size is passed.
    let code = unsafe {
        krb5_aname_to_localname(p.context, p.principal, buf.len() as c_int, buf.as_mut_ptr())
    };
    if code != 0 {
        return Err(GssError(format!(
            "no local user name for {principal} (error {code})"
        )));
    }
    // SAFETY: on success the library wrote a NUL-terminated string into buf.
    let name = unsafe { CStr::from_ptr(buf.as_ptr()) };
    Ok(name.to_string_lossy().into_owned())
}
