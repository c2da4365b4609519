//! Iron seals (`Fe26.2*...`), byte for byte as `iron-webcrypto` writes and reads them with the
//! options h3's `useSession` (behind nuxt-auth-utils) uses: AES-256-CBC for the payload,
//! HMAC-SHA256 over the seal's first six parts, each key derived by PBKDF2-SHA1 with one
//! iteration from the password and a 256-bit salt written as 64 hex characters; base64url
//! without padding; an optional expiry in milliseconds since the epoch.
//!
//! Written here on RustCrypto crates rather than taken from `hapi-iron-oxide`: see the README.

use aes::Aes256;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha1::Sha1;
use sha2::Sha256;

pub const MAC_PREFIX: &str = "Fe26.2";
/// iron's `minPasswordlength`.
pub const MIN_PASSWORD_LEN: usize = 32;
const SALT_BYTES: usize = 32;
const IV_BYTES: usize = 16;
const KEY_BYTES: usize = 32;
const PBKDF2_ROUNDS: u32 = 1;

/// A password iron accepts: at least 32 characters, counted as JavaScript counts them (UTF-16
/// code units), since the same password is configured in the app.
#[derive(Clone)]
pub struct Password(SecretString);

#[derive(Debug, thiserror::Error)]
#[error("an iron password needs at least {MIN_PASSWORD_LEN} characters")]
pub struct PasswordTooShort;

impl Password {
    pub fn new(secret: SecretString) -> Result<Self, PasswordTooShort> {
        if secret.expose_secret().encode_utf16().count() < MIN_PASSWORD_LEN {
            return Err(PasswordTooShort);
        }
        Ok(Self(secret))
    }

    fn bytes(&self) -> &[u8] {
        self.0.expose_secret().as_bytes()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnsealError {
    #[error("malformed seal: {0}")]
    Malformed(&'static str),
    #[error("expired seal")]
    Expired,
    #[error("bad hmac value under every password")]
    BadMac,
}

#[derive(Debug, thiserror::Error)]
#[error("the system random number generator failed: {0}")]
pub struct SealError(getrandom::Error);

/// Opens `sealed` with the first of `passwords` whose HMAC matches, and returns the plaintext.
/// `now_ms` is the current time in milliseconds since the epoch; a seal whose expiry is at or
/// before `now_ms - skew_ms` is refused, as iron does.
pub fn unseal(
    sealed: &str,
    passwords: &[Password],
    now_ms: i64,
    skew_ms: i64,
) -> Result<Vec<u8>, UnsealError> {
    let parts: Vec<&str> = sealed.split('*').collect();
    let [
        prefix,
        _password_id,
        enc_salt,
        enc_iv,
        encrypted,
        expiration,
        mac_salt,
        mac,
    ] = parts[..]
    else {
        return Err(UnsealError::Malformed("a seal has exactly 8 parts"));
    };
    if prefix != MAC_PREFIX {
        return Err(UnsealError::Malformed("wrong prefix"));
    }
    check_expiry(expiration, now_ms, skew_ms)?;
    let mac_base_len = sealed.len() - mac_salt.len() - mac.len() - 2;
    let mac_base = &sealed[..mac_base_len];
    let given_mac = B64.decode(mac).map_err(|_| UnsealError::BadMac)?;

    // h3 is configured with one string password, so iron ignores the password id; rotation
    // here means trying each configured password in turn.
    let password = passwords
        .iter()
        .find(|p| {
            hmac_sha256(p, mac_salt, mac_base.as_bytes())
                .verify_slice(&given_mac)
                .is_ok()
        })
        .ok_or(UnsealError::BadMac)?;

    let iv = B64
        .decode(enc_iv)
        .map_err(|_| UnsealError::Malformed("iv is not base64url"))?;
    let ciphertext = B64
        .decode(encrypted)
        .map_err(|_| UnsealError::Malformed("payload is not base64url"))?;
    let key = derive_key(password, enc_salt);
    cbc::Decryptor::<Aes256>::new_from_slices(&key, &iv)
        .map_err(|_| UnsealError::Malformed("iv is not 16 bytes"))?
        .decrypt_padded_vec::<Pkcs7>(&ciphertext)
        .map_err(|_| UnsealError::Malformed("payload does not decrypt"))
}

/// Refuses a seal whose expiry (empty: none) is at or before `now_ms - skew_ms`.
fn check_expiry(expiration: &str, now_ms: i64, skew_ms: i64) -> Result<(), UnsealError> {
    if expiration.is_empty() {
        return Ok(());
    }
    if !expiration.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UnsealError::Malformed("invalid expiration"));
    }
    // iron compares JavaScript numbers; f64 gives the same answer for any digit string,
    // including ones too long for an integer type.
    let expires: f64 = expiration
        .parse()
        .map_err(|_| UnsealError::Malformed("invalid expiration"))?;
    if expires <= (now_ms - skew_ms) as f64 {
        return Err(UnsealError::Expired);
    }
    Ok(())
}

/// Seals `plaintext` as iron does, with fresh random salts and IV. `expires_at_ms`, when given,
/// is written as the seal's expiry.
pub fn seal(
    plaintext: &[u8],
    password: &Password,
    expires_at_ms: Option<i64>,
) -> Result<String, SealError> {
    let enc_salt = random_hex_salt()?;
    let mut iv = [0u8; IV_BYTES];
    getrandom::fill(&mut iv).map_err(SealError)?;
    let key = derive_key(password, &enc_salt);
    let ciphertext = cbc::Encryptor::<Aes256>::new(&key.into(), &iv.into())
        .encrypt_padded_vec::<Pkcs7>(plaintext);
    let expiration = expires_at_ms.map(|ms| ms.to_string()).unwrap_or_default();
    let mac_base = format!(
        "{MAC_PREFIX}**{enc_salt}*{}*{}*{expiration}",
        B64.encode(iv),
        B64.encode(ciphertext)
    );
    let mac_salt = random_hex_salt()?;
    let mac = hmac_sha256(password, &mac_salt, mac_base.as_bytes()).finalize();
    Ok(format!(
        "{mac_base}*{mac_salt}*{}",
        B64.encode(mac.into_bytes())
    ))
}

fn derive_key(password: &Password, salt: &str) -> [u8; KEY_BYTES] {
    let mut key = [0u8; KEY_BYTES];
    pbkdf2::pbkdf2_hmac::<Sha1>(password.bytes(), salt.as_bytes(), PBKDF2_ROUNDS, &mut key);
    key
}

fn hmac_sha256(password: &Password, salt: &str, data: &[u8]) -> Hmac<Sha256> {
    // HMAC zero-pads a key shorter than the hash's block (RFC 2104), so padding it here gives
    // the same MAC through the infallible fixed-size constructor.
    let mut block = [0u8; 64];
    block[..KEY_BYTES].copy_from_slice(&derive_key(password, salt));
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&block.into());
    mac.update(data);
    mac
}

fn random_hex_salt() -> Result<String, SealError> {
    let mut salt = [0u8; SALT_BYTES];
    getrandom::fill(&mut salt).map_err(SealError)?;
    Ok(salt.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn password(s: &str) -> Password {
        Password::new(SecretString::from(s)).unwrap()
    }

    const PW: &str = "a-password-of-at-least-32-characters!";
    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn passwords_shorter_than_32_are_refused() {
        assert!(Password::new(SecretString::from("x".repeat(31))).is_err());
        assert!(Password::new(SecretString::from("x".repeat(32))).is_ok());
    }

    #[test]
    fn seal_then_unseal_round_trips() {
        let pw = password(PW);
        let sealed = seal(br#"{"a":1}"#, &pw, None).unwrap();
        assert!(sealed.starts_with("Fe26.2**"));
        assert_eq!(sealed.split('*').count(), 8);
        assert_eq!(unseal(&sealed, &[pw], NOW, 60_000).unwrap(), br#"{"a":1}"#);
    }

    #[test]
    fn expiry_is_honoured_with_skew() {
        let pw = password(PW);
        let sealed = seal(b"x", &pw, Some(NOW)).unwrap();
        let pws = [pw];
        assert!(unseal(&sealed, &pws, NOW + 59_999, 60_000).is_ok());
        assert_eq!(
            unseal(&sealed, &pws, NOW + 60_000, 60_000),
            Err(UnsealError::Expired)
        );
    }

    #[test]
    fn any_configured_password_opens_the_seal() {
        let old = password(PW);
        let new = password("another-password-of-32-characters!!");
        let sealed = seal(b"x", &old, None).unwrap();
        assert_eq!(
            unseal(&sealed, std::slice::from_ref(&new), NOW, 0),
            Err(UnsealError::BadMac)
        );
        assert!(unseal(&sealed, &[new, old], NOW, 0).is_ok());
    }

    #[test]
    fn malformed_seals_are_refused_without_panicking() {
        let pws = [password(PW)];
        let good = seal(b"x", &pws[0], None).unwrap();
        let cases = [
            String::new(),
            "hello".into(),
            "Fe26.2*******".into(),
            format!("{good}*extra"),
            good.replacen("Fe26.2", "Fe26.1", 1),
            good.replace('*', "**"),
            "Fe26.2**s*iv*ct*12a*salt*mac".into(),
            "Fe26.2**s*iv*ct**salt*%%%".into(),
            "Fe26.2**é*ü*ct**salt*mac".into(),
        ];
        for case in cases {
            assert!(unseal(&case, &pws, NOW, 0).is_err(), "{case:?}");
        }
    }

    #[test]
    fn tampering_any_part_is_detected() {
        let pws = [password(PW)];
        let good = seal(b"hello", &pws[0], None).unwrap();
        let parts: Vec<&str> = good.split('*').collect();
        for i in [2, 3, 4, 6, 7] {
            let mut tampered: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
            let first = if tampered[i].starts_with('A') {
                "B"
            } else {
                "A"
            };
            tampered[i].replace_range(0..1, first);
            let tampered = tampered.join("*");
            assert!(unseal(&tampered, &pws, NOW, 0).is_err(), "part {i}");
        }
    }
}
