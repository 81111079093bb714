//! The TLS server configuration: rustls with the ring provider, TLS 1.2 and 1.3
//! only, certificate chain and key from PEM files.

use std::io;
use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::Config;
use crate::error::Error;
use crate::service::Service;

/// Loads the certificate and key configured for `service` (`tls_certificate`,
/// `tls_key`). Call it before dropping privileges: the key is readable by root only.
pub fn load(config: &Config, service: Service) -> Result<Arc<ServerConfig>, Error> {
    if !config.tls {
        return Err(Error::TlsUnavailable);
    }
    let (cert, key) = config.tls_files(service);
    server_config(&cert, &key)
}

/// Builds a server configuration from a PEM certificate chain and a PEM private
/// key. If `key_file` does not exist, the key is looked for in `cert_file`, as UW's
/// imapd did with a combined `imapd.pem`.
pub fn server_config(cert_file: &Path, key_file: &Path) -> Result<Arc<ServerConfig>, Error> {
    let setup = |path: &Path, reason: String| Error::TlsSetup {
        path: path.to_path_buf(),
        reason,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_file)
        .map_err(|e| setup(cert_file, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| setup(cert_file, e.to_string()))?;
    if certs.is_empty() {
        return Err(setup(cert_file, "no certificate in file".into()));
    }
    let key_source = match std::fs::metadata(key_file) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => cert_file,
        _ => key_file,
    };
    let key =
        PrivateKeyDer::from_pem_file(key_source).map_err(|e| setup(key_source, e.to_string()))?;
    with_certificate(certs, key).map_err(|reason| setup(cert_file, reason))
}

/// Builds a server configuration from an already parsed chain and key.
pub fn with_certificate(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(config))
}
