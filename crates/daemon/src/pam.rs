//! A small FFI wrapper over Linux-PAM (libpam.so.0), with a conversation that
//! never asks anyone anything: it answers password prompts with the password the
//! client already sent and user-name prompts with the user name.
//!
//! The declarations follow `<security/_pam_types.h>` and `<security/pam_appl.h>`
//! of Linux-PAM 1.x; they are few enough to check by eye. We link to the runtime
//! library `libpam.so.0` by its soname, so building needs no -dev package, and
//! stay dynamically linked, so pam_wrapper can interpose in tests.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::fmt;
use std::ptr;

// Return codes and constants from <security/_pam_types.h>.
pub const PAM_SUCCESS: c_int = 0;
pub const PAM_BUF_ERR: c_int = 5;
pub const PAM_PERM_DENIED: c_int = 6;
pub const PAM_AUTH_ERR: c_int = 7;
pub const PAM_CRED_INSUFFICIENT: c_int = 8;
pub const PAM_AUTHINFO_UNAVAIL: c_int = 9;
pub const PAM_USER_UNKNOWN: c_int = 10;
pub const PAM_MAXTRIES: c_int = 11;
pub const PAM_NEW_AUTHTOK_REQD: c_int = 12;
pub const PAM_ACCT_EXPIRED: c_int = 13;
pub const PAM_CONV_ERR: c_int = 19;
pub const PAM_AUTHTOK_EXPIRED: c_int = 27;

const PAM_SILENT: c_int = 0x8000;
const PAM_DISALLOW_NULL_AUTHTOK: c_int = 0x0001;
const PAM_ESTABLISH_CRED: c_int = 0x0002;
const PAM_DELETE_CRED: c_int = 0x0004;

const PAM_USER: c_int = 2;
const PAM_RHOST: c_int = 4;
const PAM_FAIL_DELAY: c_int = 10;

const PAM_PROMPT_ECHO_OFF: c_int = 1;
const PAM_PROMPT_ECHO_ON: c_int = 2;
const PAM_ERROR_MSG: c_int = 3;
const PAM_TEXT_INFO: c_int = 4;
const PAM_MAX_NUM_MSG: c_int = 32;

#[repr(C)]
struct PamMessage {
    msg_style: c_int,
    msg: *const c_char,
}

#[repr(C)]
struct PamResponse {
    resp: *mut c_char,
    resp_retcode: c_int,
}

type ConvFn =
    extern "C" fn(c_int, *mut *const PamMessage, *mut *mut PamResponse, *mut c_void) -> c_int;

#[repr(C)]
struct PamConv {
    conv: Option<ConvFn>,
    appdata_ptr: *mut c_void,
}

#[repr(C)]
struct PamHandle {
    _opaque: [u8; 0],
}

type FailDelayFn = extern "C" fn(c_int, libc::c_uint, *mut c_void);

#[link(name = "libpam.so.0", kind = "dylib", modifiers = "+verbatim")]
extern "C" {
    fn pam_start(
        service: *const c_char,
        user: *const c_char,
        conv: *const PamConv,
        pamh: *mut *mut PamHandle,
    ) -> c_int;
    fn pam_end(pamh: *mut PamHandle, status: c_int) -> c_int;
    fn pam_authenticate(pamh: *mut PamHandle, flags: c_int) -> c_int;
    fn pam_acct_mgmt(pamh: *mut PamHandle, flags: c_int) -> c_int;
    fn pam_setcred(pamh: *mut PamHandle, flags: c_int) -> c_int;
    fn pam_open_session(pamh: *mut PamHandle, flags: c_int) -> c_int;
    fn pam_close_session(pamh: *mut PamHandle, flags: c_int) -> c_int;
    fn pam_set_item(pamh: *mut PamHandle, item_type: c_int, item: *const c_void) -> c_int;
    fn pam_get_item(pamh: *const PamHandle, item_type: c_int, item: *mut *const c_void) -> c_int;
    fn pam_strerror(pamh: *mut PamHandle, errnum: c_int) -> *const c_char;
}

/// A PAM call that did not return PAM_SUCCESS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PamError {
    /// Which call: `pam_authenticate`, `pam_acct_mgmt`, ...
    pub call: &'static str,
    /// The PAM return code.
    pub code: c_int,
    /// pam_strerror's text, for the log.
    pub message: String,
}

impl PamError {
    /// True when the failure is about the user's credentials or account rather
    /// than about PAM itself being broken or unavailable.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self.code,
            PAM_AUTH_ERR
                | PAM_USER_UNKNOWN
                | PAM_MAXTRIES
                | PAM_CRED_INSUFFICIENT
                | PAM_PERM_DENIED
                | PAM_ACCT_EXPIRED
                | PAM_NEW_AUTHTOK_REQD
                | PAM_AUTHTOK_EXPIRED
        )
    }
}

impl fmt::Display for PamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.call, self.message, self.code)
    }
}

impl std::error::Error for PamError {}

/// What the conversation answers with. The password is wiped when replaced or
/// dropped; PAM's own copies are PAM's to wipe.
struct ConvData {
    user: CString,
    password: Option<CString>,
}

impl ConvData {
    fn forget_password(&mut self) {
        if let Some(pw) = self.password.take() {
            let mut bytes = pw.into_bytes_with_nul();
            for b in bytes.iter_mut() {
                // SAFETY: b is a valid, aligned, exclusive reference into bytes.
                // A volatile write keeps the compiler from dropping the wipe.
                unsafe { ptr::write_volatile(b, 0) };
            }
        }
    }
}

impl Drop for ConvData {
    fn drop(&mut self) {
        self.forget_password();
    }
}

/// strdup with malloc, because PAM frees conversation answers with free(3).
fn c_strdup(s: &CStr) -> *mut c_char {
    // SAFETY: s is a valid NUL-terminated string.
    unsafe { libc::strdup(s.as_ptr()) }
}

extern "C" fn conversation(
    num_msg: c_int,
    msg: *mut *const PamMessage,
    resp: *mut *mut PamResponse,
    appdata: *mut c_void,
) -> c_int {
    if num_msg <= 0
        || num_msg > PAM_MAX_NUM_MSG
        || msg.is_null()
        || resp.is_null()
        || appdata.is_null()
    {
        return PAM_CONV_ERR;
    }
    let n = num_msg as usize;
    // SAFETY: appdata is the ConvData box that Pam owns and keeps alive as long
    // as the handle; PAM calls us only from within our own pam_* calls.
    let data = unsafe { &*(appdata as *const ConvData) };
    // SAFETY: calloc of n small structs; checked for NULL below.
    let replies =
        unsafe { libc::calloc(n, std::mem::size_of::<PamResponse>()) } as *mut PamResponse;
    if replies.is_null() {
        return PAM_BUF_ERR;
    }
    let mut ok = true;
    for i in 0..n {
        // SAFETY: Linux-PAM passes an array of n pointers to messages (not a
        // pointer to an array, as Solaris does); each is valid during the call.
        let m = unsafe { &**msg.add(i) };
        // SAFETY: replies has n zeroed entries.
        let reply = unsafe { &mut *replies.add(i) };
        match m.msg_style {
            PAM_PROMPT_ECHO_OFF => match &data.password {
                Some(pw) => reply.resp = c_strdup(pw),
                None => ok = false,
            },
            PAM_PROMPT_ECHO_ON => reply.resp = c_strdup(&data.user),
            PAM_ERROR_MSG | PAM_TEXT_INFO => {
                if !m.msg.is_null() {
                    // SAFETY: PAM's messages are NUL-terminated strings.
                    let text = unsafe { CStr::from_ptr(m.msg) }.to_string_lossy();
                    crate::syslog::log(crate::syslog::Level::Debug, &format!("PAM says: {text}"));
                }
            }
            _ => ok = false,
        }
        if matches!(m.msg_style, PAM_PROMPT_ECHO_OFF | PAM_PROMPT_ECHO_ON) && reply.resp.is_null() {
            ok = false;
        }
        if !ok {
            break;
        }
    }
    if !ok {
        for i in 0..n {
            // SAFETY: every resp is NULL or a string we strdup'ed above.
            unsafe {
                let r = &mut *replies.add(i);
                if !r.resp.is_null() {
                    libc::explicit_bzero(r.resp.cast(), libc::strlen(r.resp));
                    libc::free(r.resp.cast());
                }
            }
        }
        // SAFETY: replies came from calloc.
        unsafe { libc::free(replies.cast()) };
        return PAM_CONV_ERR;
    }
    // SAFETY: resp is a valid out-pointer; PAM takes ownership of the array.
    unsafe { *resp = replies };
    PAM_SUCCESS
}

/// PAM modules such as pam_unix sleep after a failure (pam_fail_delay); the
/// `login_failure_delay` setting is the one source of truth for that delay, so we
/// install a delay function that does nothing.
extern "C" fn no_fail_delay(_status: c_int, _usec: libc::c_uint, _appdata: *mut c_void) {}

/// One PAM transaction, from pam_start to pam_end (on drop).
pub struct Pam {
    handle: *mut PamHandle,
    // Boxed so their addresses stay fixed while PAM holds pointers to them.
    _conv: Box<PamConv>,
    data: Box<ConvData>,
    last_status: c_int,
    credentials: bool,
    session: bool,
}

impl Pam {
    /// pam_start for `service` and `user`, with the remote host as PAM_RHOST.
    pub fn start(service: &str, user: &str, rhost: Option<&str>) -> Result<Pam, PamError> {
        let invalid = |what: &str| PamError {
            call: "pam_start",
            code: PAM_USER_UNKNOWN,
            message: format!("{what} contains NUL"),
        };
        let c_service = CString::new(service).map_err(|_| invalid("service"))?;
        let c_user = CString::new(user).map_err(|_| invalid("user"))?;
        let mut data = Box::new(ConvData {
            user: c_user,
            password: None,
        });
        let conv = Box::new(PamConv {
            conv: Some(conversation),
            appdata_ptr: (&mut *data as *mut ConvData).cast(),
        });
        let mut handle: *mut PamHandle = ptr::null_mut();
        // SAFETY: strings are valid C strings; conv points to a live PamConv whose
        // appdata is the ConvData box, both kept in the returned Pam.
        let rc = unsafe { pam_start(c_service.as_ptr(), data.user.as_ptr(), &*conv, &mut handle) };
        if rc != PAM_SUCCESS || handle.is_null() {
            return Err(PamError {
                call: "pam_start",
                code: rc,
                message: format!("PAM error {rc}"),
            });
        }
        let mut pam = Pam {
            handle,
            _conv: conv,
            data,
            last_status: PAM_SUCCESS,
            credentials: false,
            session: false,
        };
        pam.set_fail_delay();
        if let Some(host) = rhost {
            if let Ok(h) = CString::new(host) {
                // SAFETY: PAM copies string items; h is valid for the call.
                let rc = unsafe { pam_set_item(pam.handle, PAM_RHOST, h.as_ptr().cast()) };
                pam.check("pam_set_item", rc)?;
            }
        }
        Ok(pam)
    }

    fn set_fail_delay(&mut self) {
        let f: FailDelayFn = no_fail_delay;
        // SAFETY: PAM_FAIL_DELAY takes a function pointer of this signature.
        // Failure is harmless (only a longer delay), so the result is ignored.
        unsafe { pam_set_item(self.handle, PAM_FAIL_DELAY, f as *const c_void) };
    }

    fn check(&mut self, call: &'static str, rc: c_int) -> Result<(), PamError> {
        self.last_status = rc;
        if rc == PAM_SUCCESS {
            Ok(())
        } else {
            Err(PamError {
                call,
                code: rc,
                message: strerror(self.handle, rc),
            })
        }
    }

    /// pam_authenticate with this password; the password is wiped from our memory
    /// afterwards whatever the outcome.
    pub fn authenticate(&mut self, password: &str) -> Result<(), PamError> {
        self.data.forget_password();
        let Ok(pw) = CString::new(password) else {
            self.last_status = PAM_AUTH_ERR;
            return Err(PamError {
                call: "pam_authenticate",
                code: PAM_AUTH_ERR,
                message: "password contains NUL".into(),
            });
        };
        self.data.password = Some(pw);
        // SAFETY: handle is live; the conversation data is alive in self.
        let rc = unsafe { pam_authenticate(self.handle, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK) };
        self.data.forget_password();
        self.check("pam_authenticate", rc)
    }

    /// pam_acct_mgmt: is the account allowed in now (expiry, access rules)?
    pub fn account(&mut self) -> Result<(), PamError> {
        // SAFETY: handle is live.
        let rc = unsafe { pam_acct_mgmt(self.handle, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK) };
        self.check("pam_acct_mgmt", rc)
    }

    /// pam_setcred(ESTABLISH); call after initgroups so modules like pam_group
    /// add to the user's groups rather than being overwritten.
    pub fn establish_credentials(&mut self) -> Result<(), PamError> {
        // SAFETY: handle is live.
        let rc = unsafe { pam_setcred(self.handle, PAM_SILENT | PAM_ESTABLISH_CRED) };
        self.check("pam_setcred", rc)?;
        self.credentials = true;
        Ok(())
    }

    /// pam_open_session; while still root, as session modules need.
    pub fn open_session(&mut self) -> Result<(), PamError> {
        // SAFETY: handle is live.
        let rc = unsafe { pam_open_session(self.handle, PAM_SILENT) };
        self.check("pam_open_session", rc)?;
        self.session = true;
        Ok(())
    }

    /// The user name as PAM has it now (a module may have mapped it).
    pub fn user(&self) -> Option<String> {
        let mut item: *const c_void = ptr::null();
        // SAFETY: handle is live; item receives a pointer owned by PAM.
        let rc = unsafe { pam_get_item(self.handle, PAM_USER, &mut item) };
        if rc != PAM_SUCCESS || item.is_null() {
            return None;
        }
        // SAFETY: PAM_USER is a NUL-terminated string owned by the handle.
        unsafe { CStr::from_ptr(item.cast()) }
            .to_str()
            .ok()
            .map(str::to_string)
    }
}

impl Drop for Pam {
    /// Closes the session, deletes credentials and ends the transaction. After a
    /// privilege drop some modules can no longer do their part; that is logged by
    /// them and harmless here.
    fn drop(&mut self) {
        // SAFETY: handle is live until pam_end, which is the last call.
        unsafe {
            if self.session {
                pam_close_session(self.handle, PAM_SILENT);
            }
            if self.credentials {
                pam_setcred(self.handle, PAM_SILENT | PAM_DELETE_CRED);
            }
            pam_end(self.handle, self.last_status);
        }
    }
}

fn strerror(handle: *mut PamHandle, code: c_int) -> String {
    // SAFETY: pam_strerror accepts a NULL or live handle and returns a static
    // string (or NULL, checked).
    let text = unsafe { pam_strerror(handle, code) };
    if text.is_null() {
        return format!("PAM error {code}");
    }
    // SAFETY: non-NULL results are NUL-terminated strings.
    unsafe { CStr::from_ptr(text) }
        .to_string_lossy()
        .into_owned()
}
