//! Connecting to PostgreSQL as libpq reads a URL, over rustls: `sslmode` (`disable`, `prefer`
//! (the default), `require`, `verify-ca`, `verify-full`) and `sslrootcert` (a PEM file, or
//! `system`). tokio-postgres itself knows only disable/prefer/require and no root file, so
//! these two parameters are taken out of the URL here and the rest is its.

use std::str::FromStr as _;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use diesel::ConnectionError;
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection as _};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres::config::{Host, SslMode as PgSslMode};
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(raw: &str) -> anyhow::Result<Self> {
        Ok(match raw {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            // allow: libpq's "TLS only if the server insists"; the server decides, so prefer.
            "allow" => Self::Prefer,
            other => bail!(
                "sslmode={other} is not one of disable, allow, prefer, require, verify-ca, verify-full"
            ),
        })
    }
}

/// Where and how to connect: parsed once from `database.url`, used for every connection.
#[derive(Clone)]
pub struct PgTarget {
    config: tokio_postgres::Config,
    mode: SslMode,
    tls: Arc<ClientConfig>,
}

impl PgTarget {
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let params: Vec<(String, String)> =
            serde_urlencoded::from_str(query).context("database.url: the query is not valid")?;
        let mut mode = SslMode::Prefer;
        let mut root: Option<String> = None;
        let mut rest = Vec::new();
        for (key, value) in params {
            match key.as_str() {
                "sslmode" => mode = SslMode::parse(&value).context("database.url")?,
                "sslrootcert" => root = Some(value),
                _ => rest.push((key, value)),
            }
        }
        // libpq: with a root certificate file, require verifies the chain as verify-ca does.
        if mode == SslMode::Require && root.as_deref().is_some_and(|r| r != "system") {
            mode = SslMode::VerifyCa;
        }
        let rest = serde_urlencoded::to_string(&rest).context("database.url")?;
        let url = if rest.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{rest}")
        };
        let mut config = tokio_postgres::Config::from_str(&url)
            .map_err(|e| anyhow::anyhow!("database.url is not a valid PostgreSQL URL: {e}"))?;
        // In the startup packet, not a SET: it then holds behind a PgBouncer too.
        if config.get_application_name().is_none() {
            config.application_name("chat-service");
        }
        config.ssl_mode(match mode {
            SslMode::Disable => PgSslMode::Disable,
            SslMode::Prefer => PgSslMode::Prefer,
            _ => PgSslMode::Require,
        });
        let tls = Arc::new(client_config(mode, root.as_deref())?);
        Ok(Self { config, mode, tls })
    }

    /// `host:port/database`, for logs and errors (never a password).
    pub fn describe(&self) -> String {
        let host = match self.config.get_hosts().first() {
            Some(Host::Tcp(host)) => host.clone(),
            Some(Host::Unix(path)) => path.display().to_string(),
            None => "localhost".to_owned(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        let db = self.config.get_dbname().unwrap_or("");
        format!("{host}:{port}/{db}")
    }

    /// A new connection, through TLS as `sslmode` says.
    pub async fn connect(&self) -> Result<AsyncPgConnection, ConnectionError> {
        self.connect_pinned(false).await
    }

    /// A new connection; `pinned`: diesel-async's own setup (two statements it prepares and
    /// runs: time zone, encoding) inside a transaction, so that a transaction-pooling
    /// PgBouncer runs each statement's prepare and execute on one server connection.
    pub async fn connect_pinned(&self, pinned: bool) -> Result<AsyncPgConnection, ConnectionError> {
        let tls = MakeRustlsConnect::new((*self.tls).clone());
        // `{:#}`: the error and its causes (TLS's reason is a cause), on one line.
        let failed = |e: tokio_postgres::Error| {
            ConnectionError::BadConnection(format!(
                "connecting to {} (sslmode={:?}): {:#}",
                self.describe(),
                self.mode,
                anyhow::Error::new(e)
            ))
        };
        let (client, mut connection) = self.config.connect(tls).await.map_err(failed)?;
        if pinned {
            // The connection must be driven while the client waits for its answer.
            let begin = std::pin::pin!(client.batch_execute("BEGIN"));
            match futures_util::future::select(begin, &mut connection).await {
                futures_util::future::Either::Left((begun, _)) => begun.map_err(failed)?,
                futures_util::future::Either::Right((ended, _)) => {
                    return Err(ended.err().map_or_else(
                        || {
                            ConnectionError::BadConnection(
                                "the server closed the connection".into(),
                            )
                        },
                        failed,
                    ));
                }
            }
        }
        let mut conn =
            AsyncPgConnection::try_from_client_and_connection(client, connection).await?;
        if pinned {
            conn.batch_execute("COMMIT")
                .await
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
        }
        Ok(conn)
    }
}

/// Never the password: only where, and how.
impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTarget")
            .field("at", &self.describe())
            .field("sslmode", &self.mode)
            .finish()
    }
}

/// An error and its causes, as one line: tokio-postgres's own message ("error performing TLS
/// handshake") says nothing of why.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn client_config(mode: SslMode, root: Option<&str>) -> anyhow::Result<ClientConfig> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("setting up TLS")?;
    let verifier: Arc<dyn ServerCertVerifier> = match mode {
        // Encrypted, not authenticated: what libpq does for these modes.
        SslMode::Disable | SslMode::Prefer | SslMode::Require => {
            Arc::new(NoVerification(provider.signature_verification_algorithms))
        }
        SslMode::VerifyCa | SslMode::VerifyFull => {
            let roots = Arc::new(root_store(root)?);
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider)
                .build()
                .context("setting up certificate verification")?;
            if mode == SslMode::VerifyFull {
                webpki
            } else {
                Arc::new(ChainOnly(webpki))
            }
        }
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// The CAs a server certificate must chain to: `sslrootcert`'s file, or (`system`, or none
/// given) the Mozilla roots that public managed databases use.
fn root_store(root: Option<&str>) -> anyhow::Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    match root {
        None | Some("system") => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .with_context(|| format!("reading sslrootcert {path}"))?;
            for cert in certs {
                let cert = cert.with_context(|| format!("reading sslrootcert {path}"))?;
                store
                    .add(cert)
                    .with_context(|| format!("sslrootcert {path} holds an invalid certificate"))?;
            }
            if store.is_empty() {
                bail!("sslrootcert {path} holds no certificate");
            }
        }
    }
    Ok(store)
}

/// `prefer`/`require`: the connection is encrypted but the server is not authenticated (as
/// libpq does); the handshake's signatures are still checked.
#[derive(Debug)]
struct NoVerification(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// `verify-ca`: the certificate must chain to a trusted CA; its name need not be the host's.
/// webpki checks the chain before the name, so a name mismatch means the chain held.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_are_read_as_libpq_reads_them() {
        let t = PgTarget::parse("postgres://u:p@db.example:6543/app?sslmode=require").unwrap();
        assert_eq!(t.mode, SslMode::Require);
        assert_eq!(t.config.get_ssl_mode(), PgSslMode::Require);
        assert_eq!(t.describe(), "db.example:6543/app");
        let t = PgTarget::parse("postgres://u@h/app").unwrap();
        assert_eq!(t.mode, SslMode::Prefer);
        let t =
            PgTarget::parse("postgres://u@h/app?sslmode=verify-full&sslrootcert=system").unwrap();
        assert_eq!(t.mode, SslMode::VerifyFull);
        let t = PgTarget::parse("postgres://u@h/app?application_name=x&sslmode=disable").unwrap();
        assert_eq!(t.config.get_application_name(), Some("x"));
        assert_eq!(t.config.get_ssl_mode(), PgSslMode::Disable);
    }

    #[test]
    fn bad_modes_and_missing_root_files_are_refused_with_their_cause() {
        let err = PgTarget::parse("postgres://u@h/app?sslmode=sometimes").unwrap_err();
        assert!(format!("{err:#}").contains("sslmode=sometimes"), "{err:#}");
        let err = PgTarget::parse("postgres://u@h/app?sslmode=verify-ca&sslrootcert=/nope.pem")
            .unwrap_err();
        assert!(format!("{err:#}").contains("/nope.pem"), "{err:#}");
    }
}
